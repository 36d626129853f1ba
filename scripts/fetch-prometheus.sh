#!/usr/bin/env bash
# Gets upstream Prometheus 3.9.1 (with its native OTLP receiver) and its promtool (the recording
# rules' backfill: `promtool tsdb create-blocks-from rules`) into .cache/prometheus/.
#
# Why built from source: Debian's Prometheus 3.5 has no OTLP receiver, nothing can be downloaded
# from GitHub releases here, and `go install github.com/prometheus/prometheus/cmd/prometheus@v0.309.1`
# refuses to run because Prometheus' go.mod has exclude directives. So a tiny wrapper module
# (collector-config/prometheus-build: go.mod with the same excludes + go.sum, committed) requires
# Prometheus v0.309.1 from the Go module proxy.
#
# Only file and http service discovery: upstream's cmd/prometheus and cmd/promtool import
# `plugins`, whose plugins.go registers all 24 service-discovery mechanisms (AWS, Azure, GCE,
# Kubernetes, ... with their SDKs: about a third of all packages compiled, k8s.io the largest).
# Headcount's configs use static_configs only, so the build compiles copies of the two main
# packages (every non-test .go file of cmd/prometheus and cmd/promtool, taken verbatim from the
# module verified against go.sum) in which that import is replaced by upstream's own
# plugins/minimum.go set (discovery/file + discovery/http), and promtool's `check config` loses
# its TLS-file check for kubernetes_sd_configs (a Kubernetes section no longer parses at all).
# Everything else (TSDB, PromQL, OTLP receiver, remote write, rules, web API) is the upstream code
# unchanged. `go build -overlay` cannot do this: Go refuses overlays of files in GOMODCACHE.
#
# Cached by content: .cache/prometheus/<hash>/{prometheus,promtool}, <hash> over go.mod, go.sum,
# the recipe version below and the Go toolchain. A second run does no work. Progress goes to
# stderr: `fetch-prometheus: step: ...` lines, `go: downloading` lines, a `compiling N packages;
# then linking <main packages>` line, then one line per compiled package (`go build -v`). The last line on stdout is the prometheus
# binary's absolute path; promtool sits next to it.
#
# Usage: scripts/fetch-prometheus.sh            (or: npm run build:prometheus)
# Env:   HEADCOUNT_CACHE_DIR  cache root [<repo>/.cache]
set -euo pipefail

PROMETHEUS_VERSION="3.9.1"          # must match the go.mod requirement v0.309.1
MODULE_VERSION="v0.309.1"
# Bump when the way the binaries are made changes (it is part of the cache key).
RECIPE="sd-file-http-v1"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mod_dir="$repo/collector-config/prometheus-build"
cache="${HEADCOUNT_CACHE_DIR:-$repo/.cache}"

die() { echo "fetch-prometheus: $*" >&2; exit 1; }

command -v go >/dev/null 2>&1 || die "Go is not installed or not on PATH. Prometheus $PROMETHEUS_VERSION is built from source through the Go module proxy and needs Go >= 1.25 (https://go.dev/dl/)."
go_version="$(go env GOVERSION)"
grep -q "github.com/prometheus/prometheus $MODULE_VERSION" "$mod_dir/go.mod" \
  || die "$mod_dir/go.mod does not require github.com/prometheus/prometheus $MODULE_VERSION"

hash="$( { cat "$mod_dir/go.mod" "$mod_dir/go.sum"; echo "recipe=$RECIPE go=$go_version $(go env GOOS GOARCH)"; } | sha256sum | cut -c1-16)"
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

echo "fetch-prometheus: building Prometheus $PROMETHEUS_VERSION and promtool, $hash with Go $go_version" >&2
start=$(date +%s)
work="$cache/prometheus/.work-$hash-$$"
rm -rf "$work"
mkdir -p "$work/cmd/prometheus" "$work/cmd/promtool" "$work/out"
trap 'rm -rf "$work"' EXIT

echo "fetch-prometheus: step: fetching github.com/prometheus/prometheus@$MODULE_VERSION" >&2
src="$(cd "$mod_dir" && go mod download -json "github.com/prometheus/prometheus@$MODULE_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
[[ -n "$src" && -f "$src/cmd/prometheus/main.go" ]] \
  || die "go mod download of github.com/prometheus/prometheus@$MODULE_VERSION failed (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"

cp "$mod_dir/go.mod" "$mod_dir/go.sum" "$work/"
for pkg in prometheus promtool; do
  for f in "$src/cmd/$pkg"/*.go; do
    [[ "$f" == *_test.go ]] || cp "$f" "$work/cmd/$pkg/"
  done
done
chmod -R u+w "$work/cmd"

# The edits, each checked to change exactly the expected lines: a Prometheus release that moves
# this code fails here instead of building something else.
patch() { # patch <file> <expected removed lines> <awk program>; -v vars: plugins, minimum
  local file="$work/cmd/$1" removed
  awk -v plugins=$'\t_ "github.com/prometheus/prometheus/plugins" // Register plugins.' \
      -v minimum=$'\t_ "github.com/prometheus/prometheus/discovery/file" // Register file SD (as plugins/minimum.go).\n\t_ "github.com/prometheus/prometheus/discovery/http" // Register http SD (as plugins/minimum.go).' \
      "$3" "$file" > "$file.new"
  removed="$(diff "$file" "$file.new" | grep -c '^<' || true)"
  [[ "$removed" == "$2" ]] || die "patching cmd/$1 of Prometheus $MODULE_VERSION: expected $2 changed lines, found $removed"
  mv "$file.new" "$file"
}
swap_plugins='$0 == plugins { print minimum; next } { print }'
patch prometheus/main.go 1 "$swap_plugins"
patch promtool/query.go 1 "$swap_plugins"
# promtool/main.go: the plugins import, the kubernetes import and its 4-line `case` in checkConfig.
patch promtool/main.go 6 '
  $0 == "\t\"github.com/prometheus/prometheus/discovery/kubernetes\"" { next }
  $0 == "\t\t\tcase *kubernetes.SDConfig:" { skip = 4 }
  skip > 0 { skip--; next }
  '"$swap_plugins"

ldflags="-s -w"
ldflags+=" -X github.com/prometheus/common/version.Version=$PROMETHEUS_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Branch=module-$MODULE_VERSION"
ldflags+=" -X github.com/prometheus/common/version.Revision=$MODULE_VERSION"
export CGO_ENABLED=0
# Resolving the package list downloads the modules the two commands need (`go: downloading` lines).
echo "fetch-prometheus: step: fetching modules" >&2
packages="$(cd "$work" && go list -mod=readonly -deps ./cmd/prometheus ./cmd/promtool | wc -l)" \
  || die "go list failed; see the output above (is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
mains="$(cd "$work" && go list -mod=readonly -f '{{.ImportPath}}' ./cmd/prometheus ./cmd/promtool | tr '\n' ' ')"
# Read by scripts/stack/binaries.ts for its progress display.
echo "fetch-prometheus: compiling $packages packages; then linking $mains" >&2
# One go build for both commands: they share the compiled packages and the two cores.
(cd "$work" && go build -mod=readonly -trimpath -v -ldflags="$ldflags" -o "$work/out/" ./cmd/prometheus ./cmd/promtool) >&2 \
  || die "go build failed; see the output above"
"$work/out/prometheus" --version 2>&1 | head -1 | grep -q "version $PROMETHEUS_VERSION" || die "built binary does not report version $PROMETHEUS_VERSION"
mkdir -p "$out_dir"
mv "$work/out/promtool" "$out_dir/promtool"
mv "$work/out/prometheus" "$bin"
echo "fetch-prometheus: built in $(( $(date +%s) - start ))s, $(du -h "$bin" | cut -f1) -> $bin" >&2
echo "$bin"
