#!/usr/bin/env bash
# Builds a Go command from its module, once, into the portcullis tool cache, and prints the path
# of the binary. Reuses the binary when present.
#
#   scripts/go-tool.sh NAME MODULE VERSION PACKAGE [LDFLAGS]
#
# `go install MODULE@VERSION` refuses modules whose go.mod has replace directives (Traefik, Helm),
# so the module is downloaded with `go mod download`, copied to a writable directory (the module
# cache is read-only) and built there with its own go.mod and go.sum.
set -euo pipefail

if [ "$#" -lt 4 ]; then
  echo "usage: $0 NAME MODULE VERSION PACKAGE [LDFLAGS]" >&2
  exit 2
fi
name=$1 module=$2 version=$3 package=$4 ldflags=${5:-}

cache=${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}
bin="$cache/bin/$name-$version"
if [ -x "$bin" ]; then
  echo "$bin"
  exit 0
fi

log() { printf '[%s] %s\n' "$name" "$*" >&2; }

if ! command -v go >/dev/null 2>&1 && [ -x /usr/local/go/bin/go ]; then
  export PATH="/usr/local/go/bin:$PATH"
fi
if ! command -v go >/dev/null 2>&1; then
  log "installing Go (Debian golang-go); a newer toolchain comes from the Go module proxy if the module needs it"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends golang-go ca-certificates git >/dev/null
fi
# A module that names a newer Go than the installed one fetches that toolchain from the proxy.
export GOTOOLCHAIN=${GOTOOLCHAIN:-auto}

mkdir -p "$cache/bin" "$cache/build"
work=$(mktemp -d "$cache/build/$name-$version.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

log "downloading $module@$version"
# Outside any module, so the download is not recorded in a go.mod of ours.
dir=$(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$module@$version" |
  sed -nE 's/^[[:space:]]*"Dir": "(.*)",?$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  log "go mod download gave no module directory for $module@$version"
  exit 1
fi

cp -R "$dir" "$work/src"
chmod -R u+w "$work/src"

log "building $package (CGO_ENABLED=0, -trimpath)"
start=$(date +%s)
(
  cd "$work/src"
  GOFLAGS=-mod=mod CGO_ENABLED=0 go build -trimpath -ldflags "-s -w $ldflags" -o "$work/$name" "$package"
)
mv -f "$work/$name" "$bin"
log "built $bin in $(($(date +%s) - start)) s"
echo "$bin"
