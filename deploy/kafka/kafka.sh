#!/usr/bin/env bash
# kafka.sh: a single-node Apache Kafka 4 broker (KRaft, broker + controller in one JVM) on loopback, for
# development and tests. Jars come from deploy/deps.sh ($MATTHAN_DEPS/kafka/libs); each broker keeps its
# config, data and logs in $MATTHAN_DEPS/kafka/run/<port>/, removed again by "down".
#
#   kafka.sh up [PORT]      start a broker on 127.0.0.1:PORT (default $KAFKA_PORT or 9092), wait until it answers
#   kafka.sh down [PORT]    stop it (SIGTERM, SIGKILL after 20 s) and remove its run folder
#   kafka.sh status [PORT]  say which brokers run; exit 0 when the one asked for (or any) answers, 3 otherwise
#
# KAFKA_KEEP=1 keeps the run folder on "down" and reuses it (config, controller port, data) on "up", so that
# a broker restarted by a fault test still has its topics and messages.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR/..
source "$HERE/../env.sh"
DEPS="$MATTHAN_DEPS"
LIBS="$DEPS/kafka/libs"
RUNS="$DEPS/kafka/run"
# A fixed cluster id: each run folder is formatted afresh, so ids never meet.
CLUSTER_ID=bWF0dGhhbi1kZXYta2ZrMQ
START_TIMEOUT=90
STOP_TIMEOUT=20
# The broker shares two cores with the tests: a small heap, the serial collector, the quick JIT tier.
JVM_OPTS=(-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:+ExitOnOutOfMemoryError
  -Djava.awt.headless=true)

die() { echo "kafka.sh: $*" >&2; exit 1; }

# broker_pid PORT: prints the pid of the broker of that run folder when it is alive.
broker_pid() {
  local run="$RUNS/$1" pid
  [ -f "$run/kafka.pid" ] || return 1
  pid="$(cat "$run/kafka.pid")"
  # The pid must still be our JVM for that folder, not a recycled number.
  grep -qF "$run/server.properties" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

answers() {
  kcat -b "127.0.0.1:$1" -L -m 2 >/dev/null 2>&1
}

log_tail() {
  local run="$RUNS/$1" f
  for f in "$run/logs/server.log" "$run/logs/console.log"; do
    [ -s "$f" ] && { echo "--- last lines of $f" >&2; tail -n 40 "$f" >&2; }
  done
  return 0
}

cmd_up() {
  local port=$1 run="$RUNS/$1" cport pid
  command -v java >/dev/null || die "java not found: run make deps (installs a Java 17 runtime)"
  command -v kcat >/dev/null || die "kcat not found: run make deps"
  compgen -G "$LIBS/kafka_2.13-*.jar" >/dev/null || die "no Kafka jars in $LIBS: run make deps"

  if pid="$(broker_pid "$port")"; then
    echo "kafka.sh: broker already running on 127.0.0.1:$port (pid $pid)"
    wait_ready "$port" "$pid"
    return 0
  fi
  port_busy "$port" && die "127.0.0.1:$port is taken by another program: stop it or pick another port (KAFKA_PORT=...)"
  if [ "${KAFKA_KEEP:-}" = 1 ] && [ -f "$run/server.properties" ] && [ -d "$run/data" ]; then
    cport="$(sed -n 's/^controller.quorum.voters=1@127.0.0.1://p' "$run/server.properties")"
    port_busy "$cport" && die "the kept broker's controller port 127.0.0.1:$cport is taken by another program"
    echo "kafka.sh: KAFKA_KEEP=1: reusing the data in $run"
    rm -f "$run/kafka.pid" # the stopped broker's
  else
    cport="$(free_port "$port")" || die "no free loopback port for the controller"
    rm -rf "$run"
    mkdir -p "$run/data" "$run/logs"
    sed -e "s|@PORT@|$port|g" -e "s|@CONTROLLER_PORT@|$cport|g" -e "s|@DATA_DIR@|$run/data|g" \
      "$HERE/server.properties.in" >"$run/server.properties"
  fi

  local java_cmd=(java "${JVM_OPTS[@]}" -Dlog4j2.configurationFile="$HERE/log4j2.properties" -cp "$LIBS/*")
  if ! "${java_cmd[@]}" -Dkafka.logs.dir="$run/logs/format" kafka.tools.StorageTool format --config "$run/server.properties" \
    --cluster-id "$CLUSTER_ID" --ignore-formatted >"$run/logs/format.log" 2>&1; then
    cat "$run/logs/format.log" >&2
    die "formatting the storage in $run/data failed (see above)"
  fi

  # setsid: the broker has its own session, so a Ctrl-C meant for make does not reach it; "down" stops it.
  # shellcheck disable=SC2016,SC2086 # $$ is the inner shell's; KAFKA_JVM_OPTS is a list of options
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$run/kafka.pid" \
    "${java_cmd[@]}" -Dkafka.logs.dir="$run/logs" ${KAFKA_JVM_OPTS:-} kafka.Kafka "$run/server.properties" \
    </dev/null >"$run/logs/console.log" 2>&1 &

  for _ in $(seq 1 50); do [ -s "$run/kafka.pid" ] && break; sleep 0.1; done
  pid="$(cat "$run/kafka.pid" 2>/dev/null)" || die "the broker did not start (no pid file in $run)"
  echo "kafka.sh: starting broker on 127.0.0.1:$port (controller 127.0.0.1:$cport, pid $pid, logs $run/logs)"
  wait_ready "$port" "$pid"
}

wait_ready() {
  local port=$1 pid=$2 deadline=$((SECONDS + START_TIMEOUT))
  until answers "$port"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log_tail "$port"
      die "the broker on 127.0.0.1:$port exited during start (logs above, in $RUNS/$port/logs)"
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log_tail "$port"
      die "the broker on 127.0.0.1:$port did not answer within ${START_TIMEOUT}s (logs above); stop it with: $0 down $port"
    fi
    sleep 0.5
  done
  echo "kafka.sh: broker ready on 127.0.0.1:$port"
}

cmd_down() {
  local port=$1 run="$RUNS/$1" pid deadline
  if pid="$(broker_pid "$port")"; then
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && [ "$SECONDS" -lt "$deadline" ]; do sleep 0.2; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "kafka.sh: broker pid $pid still up after ${STOP_TIMEOUT}s, killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
    fi
    echo "kafka.sh: broker on 127.0.0.1:$port stopped"
  else
    echo "kafka.sh: no broker of ours on 127.0.0.1:$port"
  fi
  if [ "${KAFKA_KEEP:-}" = 1 ]; then
    echo "kafka.sh: KAFKA_KEEP=1: kept $run"
  else
    rm -rf "$run"
  fi
}

cmd_status() {
  local want=${1:-} found=1 dir port pid
  for dir in "$RUNS"/*/; do
    [ -d "$dir" ] || continue
    port="$(basename "$dir")"
    [ -z "$want" ] || [ "$port" = "$want" ] || continue
    if pid="$(broker_pid "$port")"; then
      if answers "$port"; then
        echo "running 127.0.0.1:$port pid $pid"
        found=0
      else
        echo "starting 127.0.0.1:$port pid $pid (not answering yet)"
      fi
    else
      echo "stopped 127.0.0.1:$port (stale run folder $dir; '$0 down $port' removes it)"
    fi
  done
  [ "$found" -eq 0 ] || echo "no broker answering${want:+ on 127.0.0.1:$want}"
  return $((found * 3))
}

port="${2:-${KAFKA_PORT:-9092}}"
case "${1:-}" in
up) cmd_up "$port" ;;
down) cmd_down "$port" ;;
status) cmd_status "${2:-}" ;;
*)
  echo "usage: $0 up [PORT] | down [PORT] | status [PORT]" >&2
  exit 2
  ;;
esac
