#!/usr/bin/env bash
# bench-deps.sh: installs the Python peer baseline's packages (benchmarks/baseline/peer_baseline.py) from PyPI
# into a virtual environment at $MATTHAN_DEPS/bench-venv. Idempotent, and quick when done: a stamp records the
# pinned requirements the venv was built with, and nothing is fetched while it matches.
#
# onnxruntime is pinned to the version of the shared library matthan loads (deploy/deps.sh: 1.30.0), so the
# baseline and matthan run the same inference engine. PYTHON picks the interpreter (default python3, ≥ 3.10).
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
VENV="$MATTHAN_DEPS/bench-venv"
PYTHON="${PYTHON:-python3}"
REQUIREMENTS=(
  onnxruntime==1.30.0
  opencv-python-headless==4.12.0.88
  numpy==2.2.6
)
STAMP="$VENV/.matthan-requirements"
want="$(printf '%s\n' "${REQUIREMENTS[@]}")"

die() { echo "bench-deps: $*" >&2; exit 1; }

mkdir -p "$MATTHAN_DEPS" || die "cannot create $MATTHAN_DEPS: set MATTHAN_DEPS to a writable folder"
exec 9>"$MATTHAN_DEPS/.bench-venv.lock"
flock 9

if [ -x "$VENV/bin/python" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "bench-deps: ok $VENV (${REQUIREMENTS[*]})" >&2
  exit 0
fi

command -v "$PYTHON" >/dev/null || die "$PYTHON not found: install python3 and python3-venv (Debian) or set PYTHON"
"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 10))' || die "$PYTHON is older than 3.10"
if [ ! -x "$VENV/bin/python" ]; then
  echo "bench-deps: creating $VENV" >&2
  "$PYTHON" -m venv "$VENV" || die "python -m venv failed: install python3-venv (Debian)"
fi
echo "bench-deps: installing ${REQUIREMENTS[*]} from PyPI" >&2
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input "${REQUIREMENTS[@]}" \
  || die "pip install failed (see above): check the network and PyPI access"
"$VENV/bin/python" -c 'import cv2, numpy, onnxruntime' || die "the installed packages do not import"
printf '%s\n' "$want" >"$STAMP"
echo "bench-deps: ok $VENV" >&2
