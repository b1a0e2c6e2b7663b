#!/usr/bin/env bash
# Installs the system tools the suite needs beyond Python, only where one is missing:
# Java 17 runs Amazon DynamoDB Local, npm fetches it, curl runs the README's walk-through, Go
# builds the vendor SDK's interop client.
set -euo pipefail
missing=()
command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
command -v npm >/dev/null || missing+=(nodejs npm)
command -v curl >/dev/null || missing+=(curl)
# The vendor's Go SDK interop test (tests/interop) builds offline against Debian's Go packages,
# and runs only where the shared vendor folder is beside the repository.
if [ -d "$(dirname "$0")/../../shared/vendor-sdk" ]; then
  command -v go >/dev/null || missing+=(golang-go)
  for pkg in golang-github-google-uuid-dev golang-github-cenkalti-backoff-dev \
             golang-golang-x-net-dev golang-golang-x-text-dev; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "The test suite needs: ${missing[*]}. Install them (Debian: apt-get install -y ${missing[*]})." >&2
  exit 1
fi
echo "Installing ${missing[*]} for the test suite" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
