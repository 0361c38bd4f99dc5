#!/usr/bin/env bash
# Installs what the Helm chart test needs into the tool cache, once, and prints one path a line:
#   1. helm (Go module helm.sh/helm/v3, built from source)
#   2. kubeconform (Go module github.com/yannh/kubeconform, built from source)
#   3. a folder of Kubernetes JSON schemas (strict) for kubeconform, taken from the PyPI package
#      kubernetes-validate (installed in a venv): `v<k8s version>-standalone-strict/<kind>-<group>-<version>.json`
# HELM_VERSION, KUBECONFORM_VERSION, KUBERNETES_VALIDATE_VERSION and KUBERNETES_VERSION override
# the pinned versions.
set -euo pipefail
here=$(dirname "$0")
helm_version=${HELM_VERSION:-v3.22.0}
kubeconform_version=${KUBECONFORM_VERSION:-v0.8.0}
schemas_version=${KUBERNETES_VALIDATE_VERSION:-1.37.0}
cache=${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}

"$here/go-tool.sh" helm helm.sh/helm/v3 "$helm_version" ./cmd/helm \
  "-X helm.sh/helm/v3/internal/version.version=$helm_version"
"$here/go-tool.sh" kubeconform github.com/yannh/kubeconform "$kubeconform_version" ./cmd/kubeconform \
  "-X main.version=$kubeconform_version"

kubernetes_version=${KUBERNETES_VERSION:-1.37.0}
# kubeconform's -schema-location template for these: <dir>/{{ .NormalizedKubernetesVersion }}-standalone{{ .StrictSuffix }}/...
schemas="$cache/kubernetes-json-schema-$schemas_version"
target="$schemas/v$kubernetes_version-standalone-strict"
if [ ! -f "$target/_definitions.json" ]; then
  log() { printf '[kubernetes-validate] %s\n' "$*" >&2; }
  venv="$cache/kubernetes-validate-$schemas_version"
  if [ ! -x "$venv/bin/pip" ]; then
    if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
      log "installing python3-venv (Debian)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends python3 python3-venv python3-pip >/dev/null
    fi
    log "installing kubernetes-validate $schemas_version (PyPI) for its Kubernetes JSON schemas"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check "kubernetes-validate==$schemas_version" >&2
  fi
  source_dir=$(find "$venv/lib" -maxdepth 5 -type d -path "*kubernetes_validate/kubernetes-json-schema/v$kubernetes_version-local-strict" | head -n 1)
  if [ -z "$source_dir" ]; then
    log "kubernetes-validate $schemas_version has no strict schemas for Kubernetes $kubernetes_version"
    exit 1
  fi
  # Its schemas name themselves https://kubernetes.io/api/... ($id) and point at
  # "/api/_definitions.json" there, which its own resolver serves. Without the $id and with
  # a relative reference, kubeconform resolves them beside each other on disk.
  rm -rf "$target.tmp"
  mkdir -p "$target.tmp"
  python3 - "$source_dir" "$target.tmp" <<'PY'
import json, os, sys
source, target = sys.argv[1], sys.argv[2]
for name in os.listdir(source):
    if not name.endswith('.json'):
        continue
    with open(os.path.join(source, name)) as f:
        schema = json.load(f)
    schema.pop('$id', None)
    text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
    with open(os.path.join(target, name), 'w') as f:
        f.write(text)
PY
  rm -rf "$target"
  mv "$target.tmp" "$target"
fi
echo "$schemas"
