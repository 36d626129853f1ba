#!/usr/bin/env bash
# Builds Cortex 1.21.1 (Apache-2.0; the engine Grafana Mimir was forked from) into
# .cache/cortex/<hash>/cortex: the scale-out backend the Cortex tests and `bench:scale --engine
# cortex` run as a multi-process cluster (scripts/stack/cortex.ts).
#
# Why a wrapper module: `go install github.com/cortexproject/cortex/cmd/cortex@v1.21.1` refuses
# to build because Cortex's go.mod carries replace directives. collector-config/cortex-build
# (go.mod with Cortex's own replace/exclude lines + go.sum + tools.go, committed) requires
# Cortex v1.21.1 and `go build`s cmd/cortex from the Go module proxy.
#
# Build tags `netgo,slicelabels` are the ones Cortex's own Makefile uses. Without `slicelabels`
# the binary starts and reports ready, but every push fails with "sample missing metric name".
#
# Cached by content: <hash> covers go.mod, go.sum, the build flags and the Go toolchain, so a
# second run does no work. The last line on stdout is the binary's absolute path.
#
# Usage: scripts/build-cortex.sh            (or: npm run build:cortex)
# Env:   HEADCOUNT_CACHE_DIR  cache root [<repo>/.cache]
set -euo pipefail

CORTEX_VERSION="1.21.1"             # must match the go.mod requirement v1.21.1
MODULE_VERSION="v1.21.1"
TAGS="netgo,slicelabels"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$repo/collector-config/cortex-build"
cache="${HEADCOUNT_CACHE_DIR:-$repo/.cache}"

die() { echo "build-cortex: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Cortex $CORTEX_VERSION is built from source through the Go module proxy and needs Go >= 1.25 (https://go.dev/dl/)."
go_version="$(go env GOVERSION)"
grep -q "github.com/cortexproject/cortex $MODULE_VERSION" "$mod_dir/go.mod" \
  || die "$mod_dir/go.mod does not require github.com/cortexproject/cortex $MODULE_VERSION"

hash="$( { cat "$mod_dir/go.mod" "$mod_dir/go.sum"; echo "tags=$TAGS go=$go_version $(go env GOOS GOARCH)"; } | sha256sum | cut -c1-16)"
out_dir="$cache/cortex/$hash"
bin="$out_dir/cortex"

# Parallel callers (test workers) wait here for one build instead of building side by side.
mkdir -p "$cache/cortex"
exec 9>"$cache/cortex/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if [[ -x "$bin" ]]; then
  echo "build-cortex: cached ($hash)" >&2
  echo "$bin"
  exit 0
fi

echo "build-cortex: building Cortex $CORTEX_VERSION ($hash) with Go $go_version; 10-20 minutes the first time" >&2
start=$(date +%s)
mkdir -p "$out_dir"
ldflags="-s -w -X main.Version=$CORTEX_VERSION -X main.Branch=module-$MODULE_VERSION -X main.Revision=$MODULE_VERSION"
(cd "$mod_dir" && CGO_ENABLED=0 go build -mod=readonly -trimpath -tags "$TAGS" -ldflags="$ldflags" \
  -o "$bin.tmp" github.com/cortexproject/cortex/cmd/cortex) >&2 \
  || die "go build failed; see the output above (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
"$bin.tmp" -version 2>&1 | grep -q "version $CORTEX_VERSION" || die "built binary does not report version $CORTEX_VERSION"
mv "$bin.tmp" "$bin"
echo "build-cortex: built in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1) -> $bin" >&2
echo "$bin"
