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
. "$repo/scripts/lib/pyvenv.sh"
make_pinned_venv setup-cfn-lint "$venv" cfn-lint "$CFN_LINT_VERSION"
"$venv/bin/cfn-lint" --version
