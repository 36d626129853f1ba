#!/usr/bin/env bash
# Builds the Headcount collector from collector-config/builder.yaml with the official
# OpenTelemetry Collector Builder, through Go modules only.
#
# Cached by content: the output lives in .cache/otelcol/<hash>/otelcol-headcount, where <hash>
# covers builder.yaml, Headcount's own components (collector-config/components/), the builder
# version and the Go toolchain. A second run with the same inputs does no work. Progress goes to
# stderr: `build-collector: step: ...` lines, `go: downloading` lines, a `compiling N packages;
# then linking <main package>` line, then one line per compiled package (`go build -v`). The
# last line printed on stdout is the binary's absolute path.
#
# Usage: scripts/build-collector.sh            (or: npm run build:collector)
# Env:   HEADCOUNT_CACHE_DIR  cache root [<repo>/.cache]
set -euo pipefail

BUILDER_VERSION="v0.161.0"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
manifest="$repo/collector-config/builder.yaml"
components="$repo/collector-config/components"
cache="${HEADCOUNT_CACHE_DIR:-$repo/.cache}"

die() { echo "build-collector: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. The collector is built from source with the OpenTelemetry Collector Builder and needs Go >= 1.26 (https://go.dev/dl/, or apt-get install golang-go if recent enough)."
go_version="$(go env GOVERSION)"
[[ -f "$manifest" ]] || die "missing $manifest"

# Every component must be on the builder's release (core/contrib x.y.z or the stable v1 line).
want="${BUILDER_VERSION}"
if grep -E '^\s*- gomod: ' "$manifest" | grep -vE " (${want}|v1\.[0-9]+\.[0-9]+)\s*$" >/dev/null; then
  die "builder.yaml has components not pinned to ${want}: $(grep -E '^\s*- gomod: ' "$manifest" | grep -vE " (${want}|v1\.[0-9]+\.[0-9]+)\s*$" | tr -s ' ')"
fi

hash="$( { cat "$manifest"; (cd "$components" && find . -type f ! -name '*_test.go' ! -name '*.md' | LC_ALL=C sort | xargs sha256sum); echo "builder=$BUILDER_VERSION go=$go_version $(go env GOOS GOARCH)"; } | sha256sum | cut -c1-16)"
out_dir="$cache/otelcol/$hash"
bin="$out_dir/otelcol-headcount"

# Parallel callers (test workers) wait here for one build instead of building side by side.
mkdir -p "$cache/otelcol"
exec 9>"$cache/otelcol/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if [[ -x "$bin" ]]; then
  echo "build-collector: cached ($hash)" >&2
  echo "$bin"
  exit 0
fi

builder_dir="$cache/tools/builder-$BUILDER_VERSION"
builder="$builder_dir/builder"
if [[ ! -x "$builder" ]]; then
  echo "build-collector: step: installing the builder $BUILDER_VERSION" >&2
  mkdir -p "$builder_dir"
  GOBIN="$builder_dir" CGO_ENABLED=0 go install -v "go.opentelemetry.io/collector/cmd/builder@$BUILDER_VERSION" >&2 \
    || die "go install of the builder failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
fi

work="$cache/otelcol/.work-$hash-$$"
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
# builder.yaml replaces headcount.local/otelcol with ../components (relative to the output folder).
cp -R "$components" "$work/components"

echo "build-collector: building $hash with Go $go_version" >&2
echo "build-collector: step: generating sources, fetching modules (the builder is silent until done)" >&2
start=$(date +%s)
export CGO_ENABLED=0
# output_path in builder.yaml is relative: the sources and binary go to $work/otelcol-headcount.
# The builder only generates the sources and fetches the modules (go mod tidy + download); the
# compile below is the builder's own `go build` (same flags: -trimpath, -ldflags="-s -w", empty
# -gcflags, CGO_ENABLED=0, no tags) plus -v, so progress shows package by package instead of
# minutes of silence (the builder buffers the Go tool's output until it exits).
(cd "$work" && "$builder" --config="$manifest" --skip-compilation) >&2 \
  || die "the builder failed; see the output above (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
src="$work/otelcol-headcount"
[[ -f "$src/main.go" && -f "$src/go.mod" ]] || die "the builder did not generate $src/main.go"
packages="$(cd "$src" && go list -mod=readonly -deps . | wc -l)" || die "go list failed; see the output above"
main_pkg="$(cd "$src" && go list -mod=readonly -f '{{.ImportPath}}' .)"
# Read by scripts/stack/binaries.ts for its progress display.
echo "build-collector: compiling $packages packages; then linking $main_pkg" >&2
(cd "$src" && go build -mod=readonly -trimpath -v -o otelcol-headcount -ldflags="-s -w" -gcflags="" .) >&2 \
  || die "go build failed; see the output above"
[[ -x "$src/otelcol-headcount" ]] || die "go build did not produce $src/otelcol-headcount"

mkdir -p "$out_dir"
mv "$src/otelcol-headcount" "$bin.tmp"
mv "$bin.tmp" "$bin"
echo "build-collector: built in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1) -> $bin" >&2
echo "$bin"
