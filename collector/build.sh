#!/usr/bin/env bash
# Build (or skip, when up to date) everything the otel-agent stack runs:
#   collector/_build/bin/otelcol-agent   our collector distribution (OCB manifest collector/builder-config.yaml)
#   collector/_build/bin/jaeger          Jaeger v2 (module github.com/jaegertracing/jaeger, tag JAEGER_MODULE_VERSION)
#   prometheus, promtool, prometheus-alertmanager, amtool   from Debian packages (apt-get, needs root)
#
# Idempotent: the collector is rebuilt only when the manifest is newer than the binary; Jaeger only when its
# version stamp differs; packages only when a command is missing. Needs Go >= 1.26 and the Go module proxy.
# Cold build on 2 cores: ~15-25 min for both Go binaries (they compile in sequence here); warm: seconds.
#
#   collector/build.sh            # everything
#   collector/build.sh collector  # one part: collector | jaeger | packages
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
BUILD="$HERE/_build"
BIN="$BUILD/bin"
OCB_VERSION="${OCB_VERSION:-v0.159.0}"
# Jaeger v2 lives in cmd/jaeger of the v1.x tags of module github.com/jaegertracing/jaeger (the v2.x tags lack the
# /v2 module path and cannot be fetched by `go`). v1.76.0 is the module tag of the Jaeger v2.13.0 release.
JAEGER_MODULE_VERSION="${JAEGER_MODULE_VERSION:-v1.76.0}"
JAEGER_RELEASE="${JAEGER_RELEASE:-v2.13.0}"

log() { printf '[build.sh %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }

# Go prints nothing while it compiles (10-12 min per binary on a cold 2-core machine): run "$@" with a heartbeat line
# every BUILD_HEARTBEAT_S seconds (default 30) saying how long it has run and how many packages Go has compiled.
with_heartbeat() {
  local what="$1" every="${BUILD_HEARTBEAT_S:-30}" start=$SECONDS cache
  shift
  cache="$(go env GOCACHE 2>/dev/null || true)"
  count_cache() { [[ -d "$cache" ]] && find "$cache" -type f -name '*-d' 2>/dev/null | wc -l || echo 0; }
  local before
  before="$(count_cache)"
  "$@" &
  local pid=$!
  while ! wait_for "$pid" "$every"; do
    log "$what: still compiling, $((SECONDS - start)) s, $(($(count_cache) - before)) new objects in the Go build cache"
  done
  wait "$pid"
}

# true once pid has exited (within `secs` seconds), false when it still runs
wait_for() {
  local pid="$1" secs="$2" i
  for ((i = 0; i < secs * 2; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.5
  done
  ! kill -0 "$pid" 2>/dev/null
}

need_go() {
  command -v go >/dev/null 2>&1 || { echo "go not found (need Go >= 1.26 on PATH)" >&2; exit 1; }
}

build_collector() {
  need_go
  local manifest="$HERE/builder-config.yaml" out="$BIN/otelcol-agent"
  if [[ -x "$out" && "$out" -nt "$manifest" ]]; then
    log "collector up to date: $out"
    return
  fi
  local builder
  builder="$(command -v builder || true)"
  [[ -z "$builder" && -x "$(go env GOPATH)/bin/builder" ]] && builder="$(go env GOPATH)/bin/builder"
  if [[ -z "$builder" || "$("$builder" version 2>/dev/null || true)" != *"$OCB_VERSION"* ]]; then
    log "installing OCB builder $OCB_VERSION"
    go install "go.opentelemetry.io/collector/cmd/builder@$OCB_VERSION"
    builder="$(go env GOPATH)/bin/builder"
  fi
  log "building collector with $builder (cold: 10-25 min on 2 cores)"
  local start=$SECONDS
  mkdir -p "$BIN"
  (cd "$HERE" && with_heartbeat collector "$builder" --config=builder-config.yaml)
  install -m 0755 "$BUILD/otelcol-agent/otelcol-agent" "$out"
  log "collector built in $((SECONDS - start)) s: $("$out" --version)"
}

build_jaeger() {
  need_go
  local out="$BIN/jaeger" stamp="$BIN/jaeger.version"
  if [[ -x "$out" && -f "$stamp" && "$(cat "$stamp")" == "$JAEGER_MODULE_VERSION" ]]; then
    log "jaeger up to date: $out ($JAEGER_RELEASE)"
    return
  fi
  log "fetching github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION"
  local dir sum
  dir="$(go mod download -json "github.com/jaegertracing/jaeger@$JAEGER_MODULE_VERSION" \
    | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [[ -d "$dir" ]] || { echo "go mod download gave no directory for jaeger" >&2; exit 1; }
  # `go install pkg@version` refuses modules with replace directives (jaeger has one), so build inside a writable
  # copy of the module, which uses the module's own go.mod/go.sum (replace included).
  local src="$BUILD/jaeger-src"
  rm -rf "$src"
  cp -r "$dir" "$src"
  chmod -R u+w "$src"
  local pkg=github.com/jaegertracing/jaeger/internal/version
  log "building jaeger $JAEGER_RELEASE (cold: 10-20 min on 2 cores)"
  local start=$SECONDS
  mkdir -p "$BIN"
  (cd "$src" && with_heartbeat jaeger go build -trimpath \
    -ldflags "-X $pkg.latestVersion=$JAEGER_RELEASE -X $pkg.commitSHA=module-$JAEGER_MODULE_VERSION" \
    -o "$out" ./cmd/jaeger)
  echo "$JAEGER_MODULE_VERSION" > "$stamp"
  rm -rf "$src"
  log "jaeger built in $((SECONDS - start)) s"
}

install_packages() {
  local missing=()
  command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  command -v prometheus-alertmanager >/dev/null 2>&1 && command -v amtool >/dev/null 2>&1 \
    || missing+=(prometheus-alertmanager)
  if ((${#missing[@]} == 0)); then
    log "prometheus and alertmanager present: $(prometheus --version 2>&1 | head -1)"
    return
  fi
  local sudo=()
  if [[ "$(id -u)" != 0 ]]; then
    command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to apt-get install ${missing[*]}" >&2; exit 1; }
    sudo=(sudo)
  fi
  log "apt-get install ${missing[*]}"
  local start=$SECONDS
  "${sudo[@]}" apt-get update -qq
  # the packages' services are never started: the stack runs its own processes on loopback
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  log "packages installed in $((SECONDS - start)) s"
}

main() {
  local parts=("$@")
  ((${#parts[@]})) || parts=(packages collector jaeger)
  for part in "${parts[@]}"; do
    case "$part" in
      collector) build_collector ;;
      jaeger) build_jaeger ;;
      packages) install_packages ;;
      *) echo "unknown part: $part (collector | jaeger | packages)" >&2; exit 2 ;;
    esac
  done
}

main "$@"
