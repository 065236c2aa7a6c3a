#!/usr/bin/env bash
# Install cfn-lint (pinned, from PyPI) into .tools/venv for the infra tests:
#   bash scripts/lib/setup-cfn-lint.sh      then   .tools/venv/bin/cfn-lint infra/template.yaml
# Quick when the pinned version is already there. Run it as a command (it exits on error).
set -euo pipefail

CFN_LINT_VERSION=1.58.0
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$repo/.tools/venv"

if [ -x "$venv/bin/cfn-lint" ] && [ "$("$venv/bin/cfn-lint" --version 2>/dev/null)" = "cfn-lint $CFN_LINT_VERSION" ]; then
  exit 0
fi
if ! command -v python3 >/dev/null; then
  echo "setup-cfn-lint: python3 is missing (apt-get install python3 python3-venv)" >&2
  exit 1
fi
# Debian splits venv support (ensurepip) into python3-venv; install it when we can.
if ! python3 -c 'import ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
  else
    echo "setup-cfn-lint: python3 has no venv support (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
echo "setup-cfn-lint: installing cfn-lint $CFN_LINT_VERSION into .tools/venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "cfn-lint==$CFN_LINT_VERSION"
"$venv/bin/cfn-lint" --version
