#!/usr/bin/env bash
# Debian's Chromium for the browser tests (marker `browser`). Idempotent.
# The tests drive /usr/bin/chromium through Playwright; Playwright's own browser
# downloads are never used (the network reaches only package registries).
set -euo pipefail

if command -v chromium >/dev/null; then
  echo "[browser-deps] chromium present: $(chromium --version 2>/dev/null || echo unknown version)"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "[browser-deps] not root: run 'sudo apt-get install -y --no-install-recommends chromium fonts-dejavu-core'" >&2
  exit 1
fi
echo "[browser-deps] installing chromium"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# fonts-dejavu-core: screenshots need a font with real glyphs.
apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
