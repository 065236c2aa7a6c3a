# Sourced by the setup-*.sh scripts that install a pinned PyPI tool into a venv under
# .tools/: make_pinned_venv TAG VENV PACKAGE VERSION (recreates VENV with exactly that
# version). The caller decides first whether the installed version is already right.

make_pinned_venv() {
  local tag=$1 venv=$2 package=$3 version=$4
  if ! command -v python3 >/dev/null; then
    echo "$tag: python3 is missing (apt-get install python3 python3-venv)" >&2
    return 1
  fi
  # Debian splits venv support (ensurepip) into python3-venv; install it when we can.
  if ! python3 -c 'import ensurepip' 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      apt-get install -y -q python3-venv >/dev/null || { apt-get update -q >/dev/null && apt-get install -y -q python3-venv >/dev/null; }
    else
      echo "$tag: python3 has no venv support (apt-get install python3-venv)" >&2
      return 1
    fi
  fi
  echo "$tag: installing $package $version into ${venv#"$repo/"}" >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input "$package==$version"
}
