// A StrykerJS reporter that appends every mutant a test did not kill (survived, no coverage,
// timeout) to reports/mutation/live.jsonl the moment it is tested, so survivors can be worked
// on while a long run goes on (`npm run mutation:survivors` prints them readably).
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import type { MutantResult } from '@stryker-mutator/api/core';
import { declareValuePlugin, PluginKind } from '@stryker-mutator/api/plugin';

const file = 'reports/mutation/live.jsonl';

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Reporter, 'live-survivors', {
    onMutationTestingPlanReady() {
      mkdirSync('reports/mutation', { recursive: true });
      writeFileSync(file, '');
    },
    onMutantTested(r: Readonly<MutantResult>) {
      if (r.status === 'Killed' || r.status === 'CompileError' || r.status === 'Ignored') return;
      const line = {
        file: relative(process.cwd(), r.fileName),
        line: r.location.start.line,
        column: r.location.start.column + 1,
        status: r.status,
        mutator: r.mutatorName,
        replacement: r.replacement,
        coveredBy: r.coveredBy?.length ?? 0,
      };
      appendFileSync(file, `${JSON.stringify(line)}\n`);
    },
  }),
];
