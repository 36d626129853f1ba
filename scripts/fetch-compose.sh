#!/usr/bin/env bash
# Fetches Docker Compose v2 (the `docker-compose` CLI plugin) from Debian sid, for checking
# docker-compose.yml on machines without Docker: `docker-compose config` needs no engine and
# validates the file against the Compose specification.
#
# Nothing is installed and the system's apt configuration is not touched: apt-get runs with a
# private sources list (sid only), private list/cache directories under the cache, then
# `apt-get download` fetches the .deb and `dpkg-deb -x` unpacks it into the cache.
#
# Cached: a second run prints the path at once. The last line on stdout is the binary's path.
#
# Usage: scripts/fetch-compose.sh
# Env:   HEADCOUNT_CACHE_DIR   cache root [<repo>/.cache]
#        HEADCOUNT_DEBIAN_MIRROR [http://deb.debian.org/debian]
set -euo pipefail

# The version this was checked with; if sid has moved on, the newest sid package is used and
# a warning says so (older versions disappear from the mirror).
COMPOSE_VERSION="2.40.3"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${HEADCOUNT_CACHE_DIR:-$repo/.cache}/compose"
mirror="${HEADCOUNT_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
plugin="usr/libexec/docker/cli-plugins/docker-compose"

die() { echo "fetch-compose: $*" >&2; exit 1; }

mkdir -p "$cache"
exec 9>"$cache/.lock"
if command -v flock >/dev/null 2>&1; then flock 9; fi

if [[ -x "$cache/current/$plugin" ]]; then
  echo "fetch-compose: cached ($(readlink "$cache/current"))" >&2
  echo "$cache/current/$plugin"
  exit 0
fi

command -v apt-get >/dev/null 2>&1 || die "apt-get not found: this script needs a Debian-like system (or install Docker Compose v2 yourself)"
command -v dpkg-deb >/dev/null 2>&1 || die "dpkg-deb not found"

keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -f "$keyring" ]] || die "missing $keyring (package debian-archive-keyring)"

apt_dir="$cache/apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial"
printf 'deb [signed-by=%s] %s sid main\n' "$keyring" "$mirror" >"$apt_dir/sources.list"
apt_opts=(
  -o "Dir::Etc::sourcelist=$apt_dir/sources.list"
  -o "Dir::Etc::sourceparts=-"
  -o "Dir::State::Lists=$apt_dir/lists"
  -o "Dir::Cache=$apt_dir"
  -o "Dir::Cache::archives=$apt_dir/archives"
  -o "Dir::Cache::pkgcache=$apt_dir/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$apt_dir/srcpkgcache.bin"
  -o "APT::Get::List-Cleanup=0"
  -o "Debug::NoLocking=1"
  -o "Acquire::Languages=none"
  -o "APT::Sandbox::User=$(id -un)"
)

echo "fetch-compose: reading the sid package index from $mirror" >&2
apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update (sid) failed; is $mirror reachable?"

version="$(apt-cache "${apt_opts[@]}" madison docker-compose | awk -F'|' '{gsub(/ /, "", $2); print $2}' | grep -E "^${COMPOSE_VERSION//./\\.}([+~-]|$)" | head -n1 || true)"
if [[ -z "$version" ]]; then
  version="$(apt-cache "${apt_opts[@]}" madison docker-compose | awk -F'|' '{gsub(/ /, "", $2); print $2}' | head -n1 || true)"
  [[ -n "$version" ]] || die "no docker-compose package in sid"
  echo "fetch-compose: warning: docker-compose $COMPOSE_VERSION is no longer in sid; using $version" >&2
fi

work="$(mktemp -d "$cache/.work-XXXXXX")"
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get "${apt_opts[@]}" -qq download "docker-compose=$version") >&2 || die "apt-get download docker-compose=$version failed"
deb="$(ls "$work"/docker-compose_*.deb)"
dest="$cache/$version"
rm -rf "$dest"
dpkg-deb -x "$deb" "$dest"
[[ -x "$dest/$plugin" ]] || die "the package has no $plugin"
"$dest/$plugin" version >&2 || die "the unpacked docker-compose does not run"
ln -sfn "$version" "$cache/current"
echo "$cache/current/$plugin"
