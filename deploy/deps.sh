#!/usr/bin/env bash
# deps.sh: installs what the build, the demo and the tests need (make deps). Idempotent, and quick when
# everything is already there: Debian packages are checked with dpkg-query, the shared libraries against
# deploy/libs.sha256 (re-hashed only when the file changed), the Kafka jars against deploy/kafka/pom.xml,
# models and footage by deploy/fetch. See deploy/README.md for the environment variables.
set -euo pipefail

# shellcheck source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"
REPO="$MATTHAN_REPO"
DEPS="$MATTHAN_DEPS"
mkdir -p "$DEPS/stamps" || { echo "deps: cannot create $DEPS: set MATTHAN_DEPS to a writable folder" >&2; exit 1; }

ORT_PACKAGE=onnxruntime-node@1.30.0
ORT_MEMBER=package/bin/napi-v6/linux/x64/libonnxruntime.so.1
ORT_LIB="$MATTHAN_ONNXRUNTIME_LIB"
CHDB_PACKAGE=@chdb/lib-linux-x64-gnu@26.7.3-stable.1
CHDB_MEMBER=package/libchdb.so
CHDB_LIB="$MATTHAN_CHDB_LIB"
LIBS_MANIFEST="$REPO/deploy/libs.sha256"
KAFKA_POM="$REPO/deploy/kafka/pom.xml"
KAFKA_LIBS="$DEPS/kafka/libs"
APT_PACKAGES=(libopencv-dev libavcodec-dev libavformat-dev libswscale-dev libavutil-dev ffmpeg kcat pkg-config python3-venv chromium chromium-l10n)
# The console's browser tests: playwright-core (pinned in its package-lock.json) drives Debian's chromium
# (chromium-l10n: its Vietnamese date inputs).
E2E_DIR="$REPO/api/console/e2e"

summary=()
die() { echo "deps: $*" >&2; exit 1; }
ok() { summary+=("ok $*"); }
# short prints a path relative to the repository when it is inside it.
short() { case "$1" in "$REPO"/*) echo "${1#"$REPO"/}" ;; *) echo "$1" ;; esac; }

# One run at a time per deps folder: several shells may call make at once.
exec 9>"$DEPS/.lock"
flock 9

# --- Debian packages -------------------------------------------------------------------------------
missing=()
for p in "${APT_PACKAGES[@]}"; do
  if [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]; then
    missing+=("$p")
  fi
done
java_major() { java -version 2>&1 | awk -F'"' '/version/ { split($2, v, "."); print (v[1] == "1" ? v[2] : v[1]); exit }'; }
if ! command -v java >/dev/null || [ "$(java_major)" -lt 17 ] 2>/dev/null; then missing+=(openjdk-17-jre-headless); fi
command -v mvn >/dev/null || missing+=(maven)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing Debian packages: ${missing[*]}" >&2
  SUDO=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || die "need root to install ${missing[*]}: run as root or install them with apt-get"
    SUDO=(sudo)
  fi
  "${SUDO[@]}" apt-get update -qq || die "apt-get update failed: check the network and /etc/apt/sources.list"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    || die "apt-get install ${missing[*]} failed (see above)"
fi
command -v java >/dev/null || die "java is still missing after installing openjdk-17-jre-headless: check PATH"
if [ "$(java_major)" -lt 17 ] 2>/dev/null; then
  die "java on PATH is $(java_major), Kafka 4 needs 17 or newer: put /usr/lib/jvm/java-17-openjdk-amd64/bin first in PATH"
fi
ok "debian ${APT_PACKAGES[*]} java-$(java_major) maven npm"

# --- shared libraries from npm packages ------------------------------------------------------------
manifest_sha() {
  local sum
  sum="$(awk -v f="$1" '$2 == f { print $1 }' "$LIBS_MANIFEST")"
  [ -n "$sum" ] || die "no sha256 for $1 in $(short "$LIBS_MANIFEST")"
  echo "$sum"
}

# lib_ok PATH: the library is there with the hash of the manifest. The hash is computed again only when
# the file's size or time changed since it was last verified (libchdb.so is over 500 MB).
lib_ok() {
  local path=$1 want stamp id got
  [ -f "$path" ] || return 1
  want="$(manifest_sha "$(basename "$path")")"
  stamp="$DEPS/stamps/$(echo "$path" | tr / _).verified"
  id="$want $(stat -c '%s %Y' "$path")"
  [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$id" ] && return 0
  got="$(sha256sum "$path" | cut -c1-64)"
  if [ "$got" = "$want" ]; then
    echo "$id" >"$stamp"
    return 0
  fi
  echo "deps: $(short "$path") has sha256 $got, expected $want: fetching it again" >&2
  return 1
}

# npm_lib PACKAGE@VERSION MEMBER DEST: takes one file out of an npm package, checks it, installs it.
npm_lib() {
  local pkg=$1 member=$2 dest=$3 tmp want got
  want="$(manifest_sha "$(basename "$dest")")"
  tmp="$(mktemp -d)"
  echo "deps: fetching $pkg from the npm registry" >&2
  if ! (cd "$tmp" && npm pack --silent "$pkg" >/dev/null); then
    rm -rf "$tmp"
    die "npm pack $pkg failed: check that the npm registry answers (npm config get registry)"
  fi
  if ! tar -xzf "$tmp"/*.tgz -C "$tmp" "$member"; then
    rm -rf "$tmp"
    die "$pkg has no $member: the package layout changed; update deploy/deps.sh"
  fi
  got="$(sha256sum "$tmp/$member" | cut -c1-64)"
  if [ "$got" != "$want" ]; then
    rm -rf "$tmp"
    die "$member from $pkg has sha256 $got, expected $want (deploy/libs.sha256): a different build; check the version"
  fi
  mkdir -p "$(dirname "$dest")"
  install -m 0755 "$tmp/$member" "$dest.tmp.$$"
  mv -f "$dest.tmp.$$" "$dest"
  rm -rf "$tmp"
  lib_ok "$dest" || die "$(short "$dest") does not verify after install"
}

lib_ok "$ORT_LIB" || npm_lib "$ORT_PACKAGE" "$ORT_MEMBER" "$ORT_LIB"
ok "onnxruntime ${ORT_PACKAGE#*@} ($(short "$ORT_LIB"))"
lib_ok "$CHDB_LIB" || npm_lib "$CHDB_PACKAGE" "$CHDB_MEMBER" "$CHDB_LIB"
ok "chdb ${CHDB_PACKAGE##*@} ($(short "$CHDB_LIB"))"

# --- the console's browser tests: playwright-core from the npm registry -----------------------------
# npm ci installs exactly what api/console/e2e/package-lock.json pins; a stamp in node_modules remembers
# which lock file it installed, so that a second run does nothing.
node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
command -v node >/dev/null || die "node is missing (the npm package should bring it): install nodejs 20 or newer"
[ "$(node_major)" -ge 20 ] ||
  die "node $(node --version) is too old for the console's browser tests (playwright-core and node --test need 20 or newer): install nodejs 20+ (for example from https://deb.nodesource.com) and retry"
e2e_lock_sum="$(sha256sum "$E2E_DIR/package-lock.json" | cut -c1-64)"
e2e_stamp="$E2E_DIR/node_modules/.matthan-lock.sha256"
if [ ! -f "$e2e_stamp" ] || [ "$(cat "$e2e_stamp")" != "$e2e_lock_sum" ] || [ ! -f "$E2E_DIR/node_modules/playwright-core/package.json" ]; then
  echo "deps: installing playwright-core for the browser tests (npm ci in $(short "$E2E_DIR"))" >&2
  (cd "$E2E_DIR" && npm ci --silent --no-audit --no-fund >/dev/null) ||
    die "npm ci in $(short "$E2E_DIR") failed: check that the npm registry answers (npm config get registry)"
  echo "$e2e_lock_sum" >"$e2e_stamp"
fi
playwright_version="$(node -p 'require(process.argv[1]).version' "$E2E_DIR/node_modules/playwright-core/package.json")"
ok "playwright-core $playwright_version ($(short "$E2E_DIR")/node_modules), chromium $(dpkg-query -W -f='${Version}' chromium)"

# --- Kafka broker jars from Maven Central ----------------------------------------------------------
pom_sum="$(sha256sum "$KAFKA_POM" | cut -c1-64)"
if [ ! -f "$KAFKA_LIBS/.pom.sha256" ] || [ "$(cat "$KAFKA_LIBS/.pom.sha256")" != "$pom_sum" ] \
  || ! compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null; then
  echo "deps: fetching the Kafka broker jars from Maven Central" >&2
  tmp="$DEPS/kafka/libs.tmp.$$"
  rm -rf "$tmp"
  mkdir -p "$DEPS/kafka"
  if ! mvn -B -q -f "$KAFKA_POM" dependency:copy-dependencies -DoutputDirectory="$tmp" >"$DEPS/kafka/mvn.log" 2>&1; then
    rm -rf "$tmp"
    tail -n 30 "$DEPS/kafka/mvn.log" >&2
    die "mvn could not fetch the jars of $(short "$KAFKA_POM") (log: $(short "$DEPS/kafka/mvn.log")): check that Maven Central answers"
  fi
  compgen -G "$tmp/kafka_2.13-*.jar" >/dev/null || die "no kafka_2.13 jar after mvn: check $(short "$KAFKA_POM")"
  jar_sums() { (cd "$1" && sha256sum -- *.jar 2>/dev/null); }
  if [ -d "$KAFKA_LIBS" ] && [ "$(jar_sums "$tmp")" = "$(jar_sums "$KAFKA_LIBS")" ]; then
    # Same jars: keep the folder that running brokers have open.
    rm -rf "$tmp"
  else
    rm -rf "$KAFKA_LIBS"
    mv "$tmp" "$KAFKA_LIBS"
  fi
  echo "$pom_sum" >"$KAFKA_LIBS/.pom.sha256"
fi
kafka_jar="$(basename "$(compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" | head -1)")"
kafka_version="${kafka_jar#kafka_2.13-}"
ok "kafka ${kafka_version%.jar} ($(short "$KAFKA_LIBS"), $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"

# --- models and footage ----------------------------------------------------------------------------
command -v go >/dev/null || die "go is not on PATH: install Go 1.26 (https://go.dev/dl) and retry"
fetched="$(cd "$REPO" && go run ./deploy/fetch)" || die "fetching models or footage failed (see above)"
while IFS= read -r line; do
  [ -n "$line" ] && summary+=("$line")
done <<<"${fetched//"$REPO"\//}"

# --- the labelled fire/smoke images (validation split), from the team's mirror only --------------------
# They have no public upstream (assembled for the project from several sources; see the mirror's MANIFEST):
# without MATTHAN_ASSETS the still-image evaluation test cannot run and says so.
FIRESMOKE_LABELS_SHA256=2fb94fc9193a5c2e8a120caf62a0605b7abc3b6c0bb719134b8b55cbe625bf23
firesmoke_dir="$DEPS/datasets/firesmoke"
if [ -f "$firesmoke_dir/.complete" ] && [ "$(cat "$firesmoke_dir/.complete")" = "$FIRESMOKE_LABELS_SHA256" ]; then
  ok "firesmoke dataset, validation split ($(short "$firesmoke_dir"))"
elif [ -n "${MATTHAN_ASSETS:-}" ] && [ -f "$MATTHAN_ASSETS/datasets/firesmoke/labels.json" ]; then
  src="$MATTHAN_ASSETS/datasets/firesmoke"
  [ "$(sha256sum "$src/labels.json" | cut -d' ' -f1)" = "$FIRESMOKE_LABELS_SHA256" ] ||
    die "$src/labels.json does not match the expected sha256 $FIRESMOKE_LABELS_SHA256"
  rm -rf "$firesmoke_dir" && mkdir -p "$firesmoke_dir/img"
  cp "$src/labels.json" "$src/MANIFEST.md" "$firesmoke_dir/"
  python3 - "$src" "$firesmoke_dir" <<'PY'
import json, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
for item in json.load(open(f"{src}/labels.json")):
    if item.get("split") == "val":
        shutil.copyfile(f"{src}/img/{item['file']}", f"{dst}/img/{item['file']}")
PY
  echo "$FIRESMOKE_LABELS_SHA256" >"$firesmoke_dir/.complete"
  ok "firesmoke dataset, validation split ($(short "$firesmoke_dir"), $(ls "$firesmoke_dir/img" | wc -l) images)"
else
  echo "deps: note: the firesmoke dataset is only available from the team's mirror; set MATTHAN_ASSETS" >&2
fi

# --- the benchmark's Python peer baseline (PyPI, into a venv under .deps) ----------------------------
"$(dirname "${BASH_SOURCE[0]}")/bench-deps.sh" >/dev/null || die "installing the benchmark's Python baseline failed (deploy/bench-deps.sh)"
ok "python baseline ($(short "$DEPS")/bench-venv)"

printf '%s\n' "${summary[@]}"
