#!/usr/bin/env bash
# Installs what tests/browser.test.mjs needs: Debian's chromium (driven by
# playwright-core, an npm devDependency installed with the other npm packages).
# Quick when already installed.
set -euo pipefail
if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "setup-browser: installing chromium (apt)" >&2
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >&2
