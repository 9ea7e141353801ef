# shellcheck shell=bash
# env.sh: shared setup of the deploy scripts (sourced, bash only): the default locations that the Makefile
# also sets, and loopback port helpers.

MATTHAN_REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MATTHAN_DEPS="${MATTHAN_DEPS:-$MATTHAN_REPO/.deps}"
case "$MATTHAN_DEPS" in /*) ;; *) MATTHAN_DEPS="$PWD/$MATTHAN_DEPS" ;; esac
export MATTHAN_DEPS
export MATTHAN_ONNXRUNTIME_LIB="${MATTHAN_ONNXRUNTIME_LIB:-$MATTHAN_DEPS/lib/libonnxruntime.so.1}"
export MATTHAN_CHDB_LIB="${MATTHAN_CHDB_LIB:-$MATTHAN_DEPS/lib/libchdb.so}"
export MATTHAN_MODELS_DIR="${MATTHAN_MODELS_DIR:-$MATTHAN_DEPS/models}"
export MATTHAN_VIDEO_DIR="${MATTHAN_VIDEO_DIR:-$MATTHAN_DEPS/video}"


# port_busy PORT: true when something accepts connections on 127.0.0.1:PORT.
port_busy() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# free_port [EXCEPT...]: prints a loopback port nothing listens on, below the kernel's ephemeral range
# (so outgoing connections do not take it meanwhile), other than the ports given.
free_port() {
  local port except
  for _ in $(seq 1 200); do
    port=$((20000 + RANDOM % 12000))
    for except in "$@"; do [ "$port" = "$except" ] && continue 2; done
    port_busy "$port" || { echo "$port"; return 0; }
  done
  echo "free_port: no free loopback port found in 20000-31999" >&2
  return 1
}

# wait_port PORT SECONDS [PID]: waits until 127.0.0.1:PORT accepts; fails early when PID has exited.
wait_port() {
  local port=$1 deadline=$((SECONDS + $2)) pid=${3:-}
  until port_busy "$port"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then return 1; fi
    [ "$SECONDS" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}
