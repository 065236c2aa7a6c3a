#!/usr/bin/env bash
# Installs what tests/media.test.mjs compares SVG output with: rsvg-convert (Debian
# librsvg2-bin), an SVG rasteriser independent of resvg. Quick when installed.
set -euo pipefail
if command -v rsvg-convert >/dev/null; then
  exit 0
fi
sudo=()
if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi
echo "setup-rsvg: installing librsvg2-bin (apt)" >&2
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends librsvg2-bin >&2
