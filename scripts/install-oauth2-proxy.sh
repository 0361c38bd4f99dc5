#!/usr/bin/env bash
# Builds oauth2-proxy (latest v7, a bench peer) from its Go module into the portcullis cache,
# once; prints the binary's path on its last line.
exec bash "$(dirname "$0")/install-go-peer.sh" oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7 "${OAUTH2_PROXY_VERSION:-latest}"
