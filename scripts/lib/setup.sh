#!/usr/bin/env bash
# Installs everything the build and tests need, each step skipped when already done
# (a full pass over an installed machine takes well under a second):
#   apt:   clang lld llvm wasi-libc binaryen gcc zip   (C libwebp for wasm, wasm-opt)
#   rust:  the wasm32-unknown-unknown target
#   cargo: wasm-bindgen-cli (exactly the wasm-bindgen version in Cargo.lock),
#          wasm-pack, s3s-fs (local S3 for the handler tests)
#   npm:   the root package.json dependencies (when node_modules is missing or stale)
# Run it (`scripts/lib/setup.sh`) or source it (`. scripts/lib/setup.sh`, which also
# puts ~/.cargo/bin on the caller's PATH). Only package registries are contacted.

export PATH="$HOME/.cargo/bin:$PATH"

edge_setup() (
  set -euo pipefail
  local root
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  say() { echo "setup: $*" >&2; }

  local sudo=()
  if [[ $(id -u) -ne 0 ]]; then sudo=(sudo); fi

  # --- apt -----------------------------------------------------------------------
  local pkgs=(clang lld llvm wasi-libc binaryen gcc zip) missing=() p
  for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]})); then
    say "apt-get install ${missing[*]}"
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi

  # --- rust ----------------------------------------------------------------------
  if ! command -v cargo >/dev/null || ! command -v rustup >/dev/null; then
    say "cargo/rustup not found: install Rust with rustup (https://rustup.rs) first"
    exit 1
  fi
  if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
    say "rustup target add wasm32-unknown-unknown"
    rustup target add wasm32-unknown-unknown >&2
  fi

  # wasm-bindgen's CLI must match the crate exactly, or wasm-pack fails at bindgen time.
  local bindgen_version
  bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' \
    "$root/Cargo.lock" 2>/dev/null || true)
  if [[ -z $bindgen_version ]]; then
    bindgen_version=$(sed -n 's/^wasm-bindgen = "=\([0-9.]*\)".*/\1/p' "$root/edge-shim/Cargo.toml")
  fi
  if [[ $(wasm-bindgen --version 2>/dev/null) != "wasm-bindgen $bindgen_version" ]]; then
    say "cargo install wasm-bindgen-cli@$bindgen_version (a few minutes)"
    # Not --locked: 0.2.130's lock file names a dependency version no longer on crates.io.
    cargo install --quiet --force "wasm-bindgen-cli@$bindgen_version" >&2
  fi
  if ! command -v wasm-pack >/dev/null; then
    say "cargo install wasm-pack (a few minutes)"
    cargo install --quiet --locked wasm-pack >&2 || cargo install --quiet wasm-pack >&2
  fi
  if ! command -v s3s-fs >/dev/null; then
    say "cargo install s3s-fs (a few minutes)"
    cargo install --quiet --locked s3s-fs@0.14.1 --features binary >&2
  fi

  # --- node ----------------------------------------------------------------------
  local node_major
  node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if ((node_major < 20)); then
    say "Node.js >= 20 is required (found: $(node --version 2>/dev/null || echo none))"
    exit 1
  fi
  # npm records what it installed in node_modules/.package-lock.json; reinstall when the
  # manifests are newer than that record.
  local stamp="$root/node_modules/.package-lock.json"
  if [[ ! -f $stamp || $root/package.json -nt $stamp || $root/package-lock.json -nt $stamp ]]; then
    if [[ -f $root/package-lock.json ]]; then
      say "npm ci"
      (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
    else
      say "npm install"
      (cd "$root" && npm install --no-audit --no-fund --loglevel=error >&2)
    fi
  fi
)

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  edge_setup
else
  edge_setup || return 1
fi
