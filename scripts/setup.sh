#!/usr/bin/env bash
# Install what the project needs on a fresh Debian/Ubuntu machine:
#  - the shared libraries the PyPI gmsh wheel loads at import time (root only: apt-get),
#  - SuiteSparse for the optional CHOLMOD solver (scikit-sparse),
#  - the package itself in editable mode with its test tools.
# Without root, ask an administrator for the Debian packages listed in DEB_PACKAGES
# (or use a conda environment with gmsh from conda-forge), then run the pip part alone.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
DEB_PACKAGES="libglu1-mesa libgl1 libxcursor1 libxft2 libxinerama1 libgomp1 libsuitesparse-dev libopenblas0-pthread"

missing=""
if command -v dpkg-query >/dev/null 2>&1; then
  for p in $DEB_PACKAGES; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
  done
fi
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo "setup: installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
  else
    echo "setup: missing Debian packages (install them as root):$missing" >&2
  fi
fi

"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[dev]"
# CHOLMOD is optional (SuperLU is the fallback); it needs libsuitesparse-dev to build
"$PYTHON" -m pip install -q --disable-pip-version-check -e ".[fast]" \
  || echo "setup: scikit-sparse did not install; the solvers fall back to SuperLU" >&2
"$PYTHON" -c "import gmsh, skfem, dask; print('setup: ok (gmsh', gmsh.__version__, ', scikit-fem', skfem.__version__, ')')"
