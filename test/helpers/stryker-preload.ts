/**
 * Setup file of the StrykerJS test set (vitest.stryker.config.ts): loads every mutated module
 * (`mutate` in stryker.config.json) before the test file runs. Module-level code (constants,
 * pattern tables, word lists) then runs outside any test, so Stryker sees its mutants as static
 * and `ignoreStatic` leaves them out, as intended (their promises are pinned by test/promises/).
 * Without it, a test that first loads a module lazily (the sender's active part is imported on
 * start) is taken for the only test covering that module's constants, and Stryker tests those
 * mutants against that one test alone.
 */
import { globSync, readFileSync } from 'node:fs';
import { matchesGlob, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../..');
const { mutate } = JSON.parse(readFileSync(resolve(root, 'stryker.config.json'), 'utf8')) as { mutate: string[] };
const excluded = mutate.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
const files = mutate
  .filter((p) => !p.startsWith('!'))
  .flatMap((p) => globSync(p, { cwd: root }))
  .filter((f) => !excluded.some((e) => matchesGlob(f, e)));
await Promise.all(files.map((f) => import(resolve(root, f))));
