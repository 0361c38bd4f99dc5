#!/usr/bin/env bash
# Builds Ory Oathkeeper (a bench peer) from its Go module into the portcullis cache, once.
exec bash "$(dirname "$0")/go-tool.sh" oathkeeper github.com/ory/oathkeeper "${OATHKEEPER_VERSION:-latest}" .
