#!/usr/bin/env bash
# Builds oauth2-proxy (latest v7) from its Go module into the portcullis cache directory, once.
# Used by `npm run bench` as a peer. Needs Go (installs golang-go from Debian when missing).
# Usage: scripts/install-oauth2-proxy.sh            prints the binary path on the last line
set -euo pipefail

cache="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
bin_dir="$cache/bin"
target="$bin_dir/oauth2-proxy"
module="github.com/oauth2-proxy/oauth2-proxy/v7"
version="${OAUTH2_PROXY_VERSION:-latest}"

if [ -x "$target" ]; then
  echo "$target"
  exit 0
fi

if ! command -v go >/dev/null 2>&1; then
  if [ -x /usr/local/go/bin/go ]; then
    export PATH="/usr/local/go/bin:$PATH"
  else
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq golang-go >&2
  fi
fi

mkdir -p "$bin_dir"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"

# `go install module@version` refuses modules whose go.mod has replace directives; then build the
# downloaded module inside a writable copy of its directory instead.
if GOBIN="$bin_dir" go install "$module@$version" >&2 2>"$cache/oauth2-proxy-install.log"; then
  echo "$target"
  exit 0
fi

work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
dir="$(cd "$work" && go mod download -json "$module@$version" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ]; then
  echo "cannot download $module@$version (see $cache/oauth2-proxy-install.log)" >&2
  exit 1
fi
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
(cd "$work/src" && go build -trimpath -o "$target" .) >&2
echo "$target"
