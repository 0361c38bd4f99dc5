#!/usr/bin/env bash
# Builds Traefik v3 from its Go module into the tool cache once and prints the binary's path.
# TRAEFIK_VERSION overrides the pinned version. v3.6.12 is the newest v3 that builds from the Go
# module proxy alone: v3.7.x replaces github.com/traefik/traefik/dynamic/ext with a directory that
# its module zip leaves out, and needs a go-http-auth pseudo-version the proxy does not serve.
set -euo pipefail
version=${TRAEFIK_VERSION:-v3.6.12}
exec "$(dirname "$0")/go-tool.sh" traefik github.com/traefik/traefik/v3 "$version" ./cmd/traefik \
  "-X github.com/traefik/traefik/v3/pkg/version.Version=${version#v}"
