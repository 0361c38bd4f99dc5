#!/usr/bin/env bash
# Builds oauth2-proxy (a bench peer) from its Go module into the portcullis cache, once; prints
# the binary's path on its last line. OAUTH2_PROXY_VERSION overrides the pinned version.
exec bash "$(dirname "$0")/go-tool.sh" oauth2-proxy github.com/oauth2-proxy/oauth2-proxy/v7 "${OAUTH2_PROXY_VERSION:-v7.15.6}" .
