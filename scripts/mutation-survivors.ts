/**
 * Prints the mutants no test killed, grouped by file, from a StrykerJS run in progress or done
 * (reports/mutation/live.jsonl, written by scripts/stryker-live-reporter.ts).
 *
 *   npm run mutation:survivors              # every file
 *   npm run mutation:survivors -- src/store.ts
 */
import { readFileSync } from 'node:fs';

interface Line { file: string; line: number; column: number; status: string; mutator: string; replacement: string; coveredBy: number }

const only = process.argv.slice(2);
let text = '';
try {
  text = readFileSync('reports/mutation/live.jsonl', 'utf8');
} catch {
  console.error('reports/mutation/live.jsonl not found: run `npm run mutation` first');
  process.exit(1);
}
const byFile = new Map<string, Line[]>();
for (const raw of text.split('\n')) {
  if (raw.trim() === '') continue;
  const l = JSON.parse(raw) as Line;
  if (only.length > 0 && !only.includes(l.file)) continue;
  byFile.set(l.file, [...(byFile.get(l.file) ?? []), l]);
}
for (const [file, lines] of [...byFile].sort()) {
  console.log(`${file}: ${lines.length}`);
  for (const l of lines.sort((a, b) => a.line - b.line || a.column - b.column)) {
    const repl = JSON.stringify(l.replacement);
    console.log(`  ${file}:${l.line}:${l.column} ${l.status} ${l.mutator} → ${repl.length > 100 ? `${repl.slice(0, 97)}...` : repl} (covered by ${l.coveredBy} tests)`);
  }
}
