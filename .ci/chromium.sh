#!/usr/bin/env bash
# Install Debian's Chromium for the service's browser tests (Playwright drives it; the tests
# never download a browser), and print the line that exports its path:
#
#   eval "$(bash .ci/chromium.sh)"    # sets PLACEMATCH_CHROMIUM
#
# Idempotent. Messages go to stderr; only the export line goes to stdout.
set -euo pipefail

if ! command -v chromium >/dev/null 2>&1; then
  echo "chromium.sh: installing chromium (apt-get)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq chromium >&2
fi
PATH_TO="$(command -v chromium)"
"$PATH_TO" --headless --no-sandbox --disable-gpu --version >&2 || true
echo "export PLACEMATCH_CHROMIUM='$PATH_TO'"
