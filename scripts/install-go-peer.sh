#!/usr/bin/env bash
# Builds a Go program from its module on the Go module proxy into the portcullis cache
# directory, once, and prints the binary's path on its last line (a cached binary is reused).
# Used by `npm run bench` for its Go peers (scripts/install-oauth2-proxy.sh,
# scripts/install-oathkeeper.sh). Works as root on a fresh Debian machine with no stdin: Go is
# taken from /usr/local/go or installed from Debian (golang-go) when missing.
# Usage: scripts/install-go-peer.sh NAME MODULE [VERSION]    (VERSION defaults to latest)
set -euo pipefail

name="$1"
module="$2"
version="${3:-latest}"
cache="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
bin_dir="$cache/bin"
target="$bin_dir/$name"
log="$cache/$name-install.log"

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

if GOBIN="$bin_dir" go install "$module@$version" >"$log" 2>&1 && [ -x "$target" ]; then
  echo "$target"
  exit 0
fi

# `go install module@version` refuses a module whose go.mod has replace directives: build the
# downloaded module inside a writable copy of its directory instead.
work="$(mktemp -d)"
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
if ! info="$(cd "$work" && go mod download -json "$module@$version" 2>>"$log")"; then
  echo "go mod download $module@$version failed: $(grep -v '^$' "$log" | tail -n 2 | tr '\n' ' ')" >&2
  exit 1
fi
dir="$(printf '%s\n' "$info" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
if [ -z "$dir" ]; then
  echo "go mod download $module@$version gave no directory: $(printf '%s' "$info" | tr '\n' ' ' | cut -c1-300)" >&2
  exit 1
fi
cp -r "$dir" "$work/src"
chmod -R u+w "$work/src"
if ! (cd "$work/src" && go build -trimpath -o "$target" .) >>"$log" 2>&1; then
  echo "go build of $module@$version failed: $(tail -n 2 "$log" | tr '\n' ' ')" >&2
  exit 1
fi
echo "$target"
