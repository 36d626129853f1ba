#!/usr/bin/env bash
# Gets upstream Prometheus 3.9.1 (with its native OTLP receiver) and its promtool (the recording
# rules' backfill: `promtool tsdb create-blocks-from rules`) into .cache/prometheus/.
#
# Why built from source: Debian's Prometheus 3.5 has no OTLP receiver, nothing can be downloaded
# from GitHub releases here, and `go install github.com/prometheus/prometheus/cmd/prometheus@v0.309.1`
# refuses to run because Prometheus' go.mod has exclude directives. So a tiny wrapper module
# (collector-config/prometheus-build: go.mod with the same excludes + go.sum, committed) requires
# Prometheus v0.309.1 and `go build`s cmd/prometheus and cmd/promtool from the Go module proxy.
#
# Cached by content: .cache/prometheus/<hash>/prometheus, <hash> over go.mod, go.sum and the Go
# toolchain. A second run does no work. The last line on stdout is the prometheus binary's
# absolute path; promtool sits next to it.
#
# Usage: scripts/fetch-prometheus.sh            (or: npm run build:prometheus)
# Env:   HEADCOUNT_CACHE_DIR  cache root [<repo>/.cache]
set -euo pipefail

PROMETHEUS_VERSION="3.9.1"          # must match the go.mod requirement v0.309.1
MODULE_VERSION="v0.309.1"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$repo/collector-config/prometheus-build"
cache="${HEADCOUNT_CACHE_DIR:-$repo/.cache}"

die() { echo "fetch-prometheus: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Prometheus $PROMETHEUS_VERSION is built from source through the Go module proxy and needs Go >= 1.25 (https://go.dev/dl/)."
go_version="$(go env GOVERSION)"
grep -q "github.com/prometheus/prometheus $MODULE_VERSION" "$mod_dir/go.mod" \
  || die "$mod_dir/go.mod does not require github.com/prometheus/prometheus $MODULE_VERSION"

hash="$( { cat "$mod_dir/go.mod" "$mod_dir/go.sum"; echo "go=$go_version $(go env GOOS GOARCH)"; } | sha256sum | cut -c1-16)"
out_dir="$cache/prometheus/$hash"
bin="$out_dir/prometheus"

# Parallel callers (test workers) wait here for one build instead of building side by side.
mkdir -p "$cache/prometheus"
exec 9>"$cache/prometheus/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if [[ -x "$bin" && -x "$out_dir/promtool" ]]; then
  echo "fetch-prometheus: cached ($hash)" >&2
  echo "$bin"
  exit 0
fi

echo "fetch-prometheus: building Prometheus $PROMETHEUS_VERSION ($hash) with Go $go_version; several minutes the first time" >&2
start=$(date +%s)
mkdir -p "$out_dir"
ldflags="-s -w"
ldflags+=" -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Branch=module-$MODULE_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Revision=$MODULE_VERSION"
(cd "$mod_dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="$ldflags" \
  -o "$bin.tmp" github.com/prometheus/prometheus/cmd/prometheus) >&2 \
  || die "go build failed; see the output above (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
(cd "$mod_dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -ldflags="$ldflags" \
  -o "$out_dir/promtool.tmp" github.com/prometheus/prometheus/cmd/promtool) >&2 \
  || die "go build of promtool failed; see the output above"
mv "$out_dir/promtool.tmp" "$out_dir/promtool"
mv "$bin.tmp" "$bin"
"$bin" --version 2>&1 | head -1 | grep -q "version $PROMETHEUS_VERSION" || die "built binary does not report version $PROMETHEUS_VERSION"
echo "fetch-prometheus: built in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1) -> $bin" >&2
echo "$bin"
