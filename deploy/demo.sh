#!/usr/bin/env bash
# demo.sh: make run. Streams the sample footage with the camera simulator (bin/matthan camsim) on
# 127.0.0.1:8554 and runs the engine (bin/matthan run) on it in the foreground, one camera per clip: the
# cameras of deploy/demo.yaml (Lâm Đồng cameras with their register entries, systems and scenes).
# KAFKA=1 also starts a Kafka broker on KAFKA_PORT and publishes the events to it.
# Ctrl-C (or the engine's exit) stops the simulator and the broker this script started.
#
# Environment: LISTEN (API address, default 127.0.0.1:8080), DATA (data folder, default ./var),
# KAFKA=1 and KAFKA_PORT (default 9092), CAMSIM_LISTEN (default 127.0.0.1:8554), MATTHAN_VIDEO_DIR.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source-path=SCRIPTDIR
source "$HERE/env.sh"

LISTEN="${LISTEN:-127.0.0.1:8080}"
DATA="${DATA:-$MATTHAN_REPO/var}"
KAFKA="${KAFKA:-0}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
CAMSIM_LISTEN="${CAMSIM_LISTEN:-127.0.0.1:8554}"
BIN="$MATTHAN_REPO/bin/matthan"
# The demo footage: H.264 clips, and the H.264 copy of the MPEG-4 wildfire clip (camsim takes H.264/H.265).
CLIPS=(
  traffic_intersection_signals_cctv_day.mp4
  traffic_road_overhead_both_directions_dusk.mp4
  traffic_residential_street_cctv_parked_cars.mp4
  pedestrians_plaza_elevated_day.mp4
  pedestrians_tram_square_elevated_day.mp4
  fire_smoke_model_house_garden_day.mp4
  wildfire_smoke_hillside_dusk.h264.mp4
)

die() { echo "demo.sh: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "$BIN is missing: run make build (make run builds it)"
paths=()
for c in "${CLIPS[@]}"; do
  [ -f "$MATTHAN_VIDEO_DIR/$c" ] || die "$MATTHAN_VIDEO_DIR/$c is missing: run make deps"
  paths+=("$MATTHAN_VIDEO_DIR/$c")
done
camsim_port="${CAMSIM_LISTEN##*:}"
port_busy "$camsim_port" && die "$CAMSIM_LISTEN is taken (another demo running?): stop it or set CAMSIM_LISTEN"
api_port="${LISTEN##*:}"
port_busy "$api_port" && die "port $api_port of LISTEN=$LISTEN is taken: stop what uses it or set LISTEN=127.0.0.1:PORT"
mkdir -p "$DATA" || die "cannot create the data folder $DATA: set DATA to a writable folder"

camsim_pid=""
kafka_started=0
cleanup() {
  if [ -n "$camsim_pid" ] && kill -0 "$camsim_pid" 2>/dev/null; then
    kill -TERM "$camsim_pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$camsim_pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$camsim_pid" 2>/dev/null || true
  fi
  if [ "$kafka_started" = 1 ]; then "$HERE/kafka/kafka.sh" down "$KAFKA_PORT" || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kafka_args=()
if [ "$KAFKA" = 1 ]; then
  # A broker that already runs (make kafka-up) is used and left running.
  if ! "$HERE/kafka/kafka.sh" status "$KAFKA_PORT" >/dev/null; then kafka_started=1; fi
  "$HERE/kafka/kafka.sh" up "$KAFKA_PORT"
  kafka_args=(-kafka "127.0.0.1:$KAFKA_PORT")
fi

# The demo's ICT administrator: created on the first run, its password kept (0600) in the data folder.
mkdir -p "$DATA"
password_file="$DATA/demo-admin-password"
if [ ! -s "$password_file" ]; then
  password="$(head -c 12 /dev/urandom | base64 | tr -d '/+=')-Mt1"
  MATTHAN_ADMIN_PASSWORD="$password" "$BIN" admin create-ict-admin -data "$DATA" -user admin -name "Demo administrator" >/dev/null ||
    die "could not create the demo administrator (see above)"
  (umask 077 && printf '%s\n' "$password" >"$password_file")
fi
# The key that seals camera stream URLs and credentials in the metadata store (R-5.1): made on the first
# run and kept (0600) in the data folder, unless MATTHAN_SECRET_KEY is set.
key_file="$DATA/secret-key"
if [ -z "${MATTHAN_SECRET_KEY:-}" ]; then
  [ -s "$key_file" ] || (umask 077 && head -c 32 /dev/urandom | base64 >"$key_file")
  MATTHAN_SECRET_KEY="$(cat "$key_file")"
  export MATTHAN_SECRET_KEY
fi

camsim_log="$DATA/camsim.log"
"$BIN" camsim -listen "$CAMSIM_LISTEN" "${paths[@]}" >"$camsim_log" 2>&1 &
camsim_pid=$!
if ! wait_port "$camsim_port" 30 "$camsim_pid"; then
  tail -n 20 "$camsim_log" >&2
  die "the camera simulator did not listen on $CAMSIM_LISTEN within 30 s (log above, in $camsim_log)"
fi

# The cameras: deploy/demo.yaml with the simulator's address and the absolute scene folder filled in. Its
# stream names are the clip file names up to their first dot.
config="$DATA/demo.yaml"
sed -e "s#rtsp://127\.0\.0\.1:8554/#rtsp://$CAMSIM_LISTEN/#" -e "s#^\( *scene: \)deploy/scenes/#\1$HERE/scenes/#" \
  "$HERE/demo.yaml" >"$config" || die "cannot write $config"
lines=()
for p in "${paths[@]}"; do
  stream="$(basename "$p")"
  stream="${stream%%.*}"
  url="rtsp://$CAMSIM_LISTEN/$stream"
  grep -q "url: $url\$" "$config" || die "deploy/demo.yaml has no camera for the clip $stream"
  # The camera ids are the first two words of the clip's name (traffic-intersection, wildfire-smoke, ...).
  IFS=_ read -r w1 w2 _ <<<"$stream"
  lines+=("$(printf '  %-22s %s' "$w1-$w2" "$url")")
done

case "$LISTEN" in :*) api="127.0.0.1$LISTEN" ;; *) api="$LISTEN" ;; esac
cat <<INFO

matthan demo
  console     http://$api/console/   user admin, password in $password_file (Chromium, Firefox; no internet needed)
  sign in     curl -s -X POST http://$api/api/v1/login -H 'Content-Type: application/json' \\
                -d '{"username":"admin","password":"'\$(cat $password_file)'"}'   (then: -H "Authorization: Bearer TOKEN")
  API         http://$api/api/v1/cameras   (spec: http://$api/api/v1/openapi.yaml)
  events      http://$api/api/v1/events   (live: curl -N http://$api/api/v1/events/stream)
  metrics     http://$api/metrics
  data        $DATA
  config      $config (from deploy/demo.yaml)
  camsim log  $camsim_log
INFO
if [ "$KAFKA" = 1 ]; then
  echo "  kafka       127.0.0.1:$KAFKA_PORT (watch: kcat -b 127.0.0.1:$KAFKA_PORT -C -t matthan.alerts)"
fi
echo "  streams:"
printf '%s\n' "${lines[@]}"
echo "Ctrl-C stops the engine and the simulator."
echo

status=0
"$BIN" run -config "$config" -data "$DATA" -listen "$LISTEN" "${kafka_args[@]}" || status=$?
exit "$status"
