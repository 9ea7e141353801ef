#!/usr/bin/env bash
# test.sh: make test. Starts a Kafka broker on KAFKA_PORT (default 9092) or, when that port is taken, on a
# free loopback port; runs every test with the race detector and MATTHAN_KAFKA_BROKERS pointing at the broker;
# always stops the broker; exits with the tests' status.
#
#   deploy/test.sh [PACKAGES...]     default ./...; extra go test flags in $TESTFLAGS (e.g. TESTFLAGS='-run Kafka -v')
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
source "$HERE/env.sh"

port="${KAFKA_PORT:-9092}"
if port_busy "$port"; then
  port="$(free_port "$port")" || { echo "test.sh: no free loopback port for Kafka" >&2; exit 1; }
  echo "test.sh: 127.0.0.1:${KAFKA_PORT:-9092} is taken; the test broker uses 127.0.0.1:$port"
fi

stop_broker() { "$HERE/kafka/kafka.sh" down "$port" >/dev/null || echo "test.sh: stopping the broker on $port failed" >&2; }
trap stop_broker EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

"$HERE/kafka/kafka.sh" up "$port"
export MATTHAN_KAFKA_BROKERS="127.0.0.1:$port"
export KAFKA_PORT="$port"

pkgs=("$@")
[ ${#pkgs[@]} -gt 0 ] || pkgs=(./...)
cd "$MATTHAN_REPO"
status=0
# shellcheck disable=SC2086 # TESTFLAGS is a list of flags
go test -race -count=1 -timeout 40m ${TESTFLAGS:-} "${pkgs[@]}" || status=$?
exit "$status"
