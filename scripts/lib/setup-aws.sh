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
if ! command -v python3 >/dev/null; then
  echo "setup-aws: python3 is missing (apt-get install python3 python3-venv)" >&2
  exit 1
fi
# Debian splits venv support (ensurepip) into python3-venv; install it when we can.
if ! python3 -c 'import ensurepip' 2>/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
  else
    echo "setup-aws: python3 has no venv support (apt-get install python3-venv)" >&2
    exit 1
  fi
fi
echo "setup-aws: installing ministack $MINISTACK_VERSION into .tools/aws-venv" >&2
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "ministack==$MINISTACK_VERSION"
echo "setup-aws: ministack $(installed_version)" >&2
