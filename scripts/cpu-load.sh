#!/usr/bin/env bash
# Runs a command while every CPU core is kept busy, to show that tests wait for events rather
# than for time. The load is one busy shell loop per core (or WORKERS of them), each ended when
# the command ends (also on Ctrl-C or failure).
#
#   bash scripts/cpu-load.sh -- npm test                  # one run under load
#   RUNS=5 bash scripts/cpu-load.sh -- npm test           # five runs in a row; stops at the first failure
#   WORKERS=4 bash scripts/cpu-load.sh -- npx vitest run test/delivery.test.ts
#
# Prints one line per run (exit status, duration) and a closing line; exits non-zero if any run failed.
set -euo pipefail

workers="${WORKERS:-$(nproc)}"
runs="${RUNS:-1}"
[[ "${1:-}" == "--" ]] && shift
(($# > 0)) || { echo "usage: [WORKERS=n] [RUNS=n] bash scripts/cpu-load.sh -- <command...>" >&2; exit 2; }

pids=()
stop_load() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait "${pids[@]}" 2>/dev/null || true
}
trap stop_load EXIT INT TERM

for ((i = 0; i < workers; i++)); do
  ( while :; do :; done ) &
  pids+=("$!")
done
echo "cpu-load: ${workers} busy loop(s) running (pids ${pids[*]}) on $(nproc) core(s)"

passed=0
for ((run = 1; run <= runs; run++)); do
  started=$(date +%s)
  status=0
  "$@" || status=$?
  echo "cpu-load: run ${run}/${runs}: exit ${status} in $(($(date +%s) - started)) s (load average $(cut -d' ' -f1-3 /proc/loadavg))"
  if ((status != 0)); then
    echo "cpu-load: ${passed} of ${runs} run(s) green before a failure"
    exit "$status"
  fi
  passed=$((passed + 1))
done
echo "cpu-load: ${passed} of ${runs} run(s) green in a row under load"
