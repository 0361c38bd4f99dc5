#!/usr/bin/env bash
# Installs Keycloak (org.keycloak:keycloak-quarkus-dist, a zip on Maven Central) for the interop
# suite (test/interop/keycloak) into ${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}/keycloak-<version>,
# and reuses it when it is there. Needs a Java runtime of version 17 or later and Maven; installs
# Debian's openjdk-17-jre-headless, maven and unzip when they are missing (as root, no stdin).
#
# KEYCLOAK_VERSION overrides the version (default: the newest 26.x this project was tested with).
# Prints two shell-readable lines on stdout:
#   KEYCLOAK_VERSION=<version>
#   KEYCLOAK_HOME=<folder with bin/kc.sh>
# Everything else (progress, Maven output on failure) goes to stderr.
set -euo pipefail

version="${KEYCLOAK_VERSION:-26.7.3}"
cache="${PORTCULLIS_CACHE:-$HOME/.cache/portcullis}"
home="$cache/keycloak-$version"

log() { printf '[install-keycloak] %s\n' "$*" >&2; }

java_major() {
  # `java -version` prints e.g. 'openjdk version "17.0.15" 2025-04-15' on stderr.
  "$1" -version 2>&1 | sed -nE '1s/.*version "([0-9]+)[^"]*".*/\1/p'
}

apt_install() {
  log "installing $* (Debian)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq </dev/null >/dev/null 2>&1 || true
  apt-get install -y -qq --no-install-recommends "$@" </dev/null >/dev/null
}

# Java: JAVA_HOME when set, else the java on PATH; Keycloak 26 runs on 17, 21 and 25.
java_bin="${JAVA_HOME:+$JAVA_HOME/bin/java}"
java_bin="${java_bin:-$(command -v java || true)}"
major="$([ -n "$java_bin" ] && java_major "$java_bin" || true)"
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  apt_install openjdk-17-jre-headless
  java_bin="$(command -v java)"
  major="$(java_major "$java_bin")"
fi
if [ -z "$major" ] || [ "$major" -lt 17 ]; then
  log "no Java 17 or later found (got '${major:-none}' from $java_bin)"
  exit 1
fi

if [ ! -x "$home/bin/kc.sh" ]; then
  command -v mvn >/dev/null 2>&1 || apt_install maven
  command -v unzip >/dev/null 2>&1 || apt_install unzip
  mkdir -p "$cache"
  work="$(mktemp -d "$cache/.keycloak-$version.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  log "fetching org.keycloak:keycloak-quarkus-dist:$version:zip from Maven Central"
  if ! mvn -q -B dependency:copy \
    -Dartifact="org.keycloak:keycloak-quarkus-dist:$version:zip" \
    -DoutputDirectory="$work" </dev/null >"$work/mvn.log" 2>&1; then
    cat "$work/mvn.log" >&2
    log "maven could not fetch Keycloak $version"
    exit 1
  fi
  unzip -q "$work/keycloak-quarkus-dist-$version.zip" -d "$work/unpacked"
  # The zip holds one folder, keycloak-<version>; moved into place in one step so a half-done
  # install is never taken for a finished one.
  rm -rf "$home"
  mv "$work/unpacked/keycloak-$version" "$home"
  log "installed in $home"
fi

found="$(sed -nE 's/^Keycloak - Version (.+)$/\1/p' "$home/version.txt" 2>/dev/null || true)"
if [ "$found" != "$version" ]; then
  log "$home/version.txt says '${found:-nothing}', expected $version"
  exit 1
fi
log "Keycloak $version (Java $major: $java_bin)"
echo "KEYCLOAK_VERSION=$version"
echo "KEYCLOAK_HOME=$home"
