/**
 * The build progress a newcomer sees while the binaries compile (scripts/stack/binaries.ts):
 * which binary, its elapsed time, a package count that grows, and the step it is in, parsed from
 * the build scripts' stderr. The lines below are the scripts' own (scripts/build-collector.sh,
 * scripts/fetch-prometheus.sh) and the Go tool's (`go: downloading`, `go build -v`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { applyBuildLine, formatBuild, formatBuilds, type BuildProgress } from '../scripts/stack/binaries.ts';

const start = Date.UTC(2026, 11, 2, 12, 0, 0);
const fresh = (name: BuildProgress['name']): BuildProgress => ({ name, startedAt: start, phase: 'starting', step: undefined, downloaded: 0, compiled: 0, total: undefined, last: undefined, endedAt: undefined });

function feed(p: BuildProgress, lines: string[], at: number): string[] {
  const mains = new Set<string>();
  return lines.map((line) => {
    applyBuildLine(p, line, mains);
    return formatBuild(p, at);
  });
}

describe('build progress', () => {
  it('walks a cold Prometheus build through its steps, counting packages, then linking', () => {
    const shown = feed(
      fresh('prometheus'),
      [
        'fetch-prometheus: building Prometheus 3.9.1 and promtool, 0123456789abcdef with Go go1.26.8',
        'fetch-prometheus: step: fetching github.com/prometheus/prometheus@v0.309.1',
        'go: downloading github.com/prometheus/prometheus v0.309.1',
        'fetch-prometheus: step: fetching modules',
        'go: downloading github.com/prometheus/common v0.67.5',
        'fetch-prometheus: compiling 4 packages; then linking headcount.local/prometheus-build/cmd/prometheus headcount.local/prometheus-build/cmd/promtool ',
        'internal/goarch',
        'github.com/prometheus/common/model',
        'headcount.local/prometheus-build/cmd/promtool',
        'headcount.local/prometheus-build/cmd/prometheus',
        'fetch-prometheus: built in 300s, 80M -> /cache/prometheus/0123456789abcdef/prometheus',
      ],
      start + 185_000,
    );
    expect(shown).toEqual([
      'prometheus 3m05s starting',
      'prometheus 3m05s fetching github.com/prometheus/prometheus@v0.309.1',
      'prometheus 3m05s fetching github.com/prometheus/prometheus@v0.309.1, 1 modules downloaded',
      'prometheus 3m05s fetching modules, 1 modules downloaded',
      'prometheus 3m05s fetching modules, 2 modules downloaded',
      'prometheus 3m05s compiling 0/4 packages',
      'prometheus 3m05s compiling 1/4 packages',
      'prometheus 3m05s compiling 2/4 packages',
      'prometheus 3m05s compiling 3/4 packages',
      'prometheus 3m05s linking (4 packages compiled)',
      'prometheus built in 3m05s',
    ]);
  });

  it('a cached binary says so at once; failures are named', () => {
    const cached = fresh('collector');
    feed(cached, ['build-collector: cached (0123456789abcdef)'], start);
    const failed = { ...fresh('prometheus'), phase: 'failed' as const, endedAt: start + 61_000 };
    expect(formatBuilds([cached, failed])).toBe('collector cached · prometheus FAILED after 1m01s');
  });

  it("the scripts print the lines the parser reads", () => {
    for (const script of ['scripts/build-collector.sh', 'scripts/fetch-prometheus.sh']) {
      const text = readFileSync(script, 'utf8');
      expect(text, script).toMatch(/: step: /);
      expect(text, script).toMatch(/: compiling \$packages packages; then linking \$/);
      expect(text, script).toMatch(/: cached \(\$hash\)/);
      expect(text, script).toMatch(/: built in \$\(\(/);
      expect(text, script).toMatch(/go build .*-v /);
    }
  });
});
