#!/usr/bin/env bash
# Install the local AWS (ministack, pinned, from PyPI) into .tools/aws-venv for the
# upload pipeline and the regional API: one process on 127.0.0.1 that serves S3 (with
# event notifications), SQS, SNS, DynamoDB, IAM and CloudFormation. Started and stopped
# by tests/lib/localaws.mjs; see ARCHITECTURE.md ("Local AWS") for why ministack.
#   scripts/lib/setup-aws.sh       then   .tools/aws-venv/bin/ministack
# Quick when the pinned version is already there. Only PyPI is contacted.
set -euo pipefail

MINISTACK_VERSION=1.5.33
repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$repo/.tools/aws-venv"

installed_version() {
  "$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("ministack"))' 2>/dev/null || true
}

if [ -x "$venv/bin/ministack" ] && [ "$(installed_version)" = "$MINISTACK_VERSION" ]; then
  exit 0
fi
. "$repo/scripts/lib/pyvenv.sh"
make_pinned_venv setup-aws "$venv" ministack "$MINISTACK_VERSION"
echo "setup-aws: ministack $(installed_version)" >&2
