/**
 * The published build: one ES module per entry, with everything that runs only after opt-in in
 * lazily loaded chunks: the active part (schedule, store, transport) at `start()`, then the OTel
 * SDK in a few chunks that `src/otlp/pipeline.ts` imports one at a time, with the event loop let
 * through between them, before the first heartbeat. A few files load much faster than the ~100
 * files of the SDK, and a bundled SDK cannot clash with the host app's own OTel packages.
 * `@opentelemetry/api` is bundled as well: resolving its ~50 files through the ESM loader cost
 * ~8 MiB RSS; its globals still meet the host's (the API keeps them in a `Symbol.for` registry
 * on globalThis), so suppressed tracing is seen by the host's instrumentation
 * (test/isolation.test.ts checks that on the built package).
 */
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { index: 'src/index.ts', cli: 'src/cli.ts' },
  platform: 'node',
  external: [/^node:/],
  // headcount.ts imports store.ts lazily for its status-while-off path, but index.ts exports the
  // store classes, so the module is in the entry chunk anyway: nothing to split there.
  checks: { ineffectiveDynamicImport: false },
  output: {
    dir: 'dist',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
    minify: true,
    // Few files on the paths a host runs: each file is one more ESM resolution (realpath, URL
    // and path work) in the host's process, and ~20 of them in a fresh process get V8's
    // optimizing compiler going on Node's path code (~6 MiB RSS, the first time it runs).
    // The OTel SDK is imported in steps (src/otlp/pipeline.ts): each step's packages in one chunk
    // (plus a 50-byte re-export, as the step's module is in a group), compiled and evaluated on
    // its own; the last step (sdk-pipeline) carries sdk-logs, the serialisers and Headcount's code.
    codeSplitting: {
      groups: [
        // What the entries load statically, in one file.
        { name: 'headcount', tags: ['$initial'], test: (id) => /[\\/]src[\\/]/.test(id) && !/[\\/]src[\\/](index|cli)\.ts$/.test(id) },
        { name: 'otel-base', test: /node_modules[\\/]@opentelemetry[\\/](api|core|resources|semantic-conventions)[\\/]|src[\\/]otlp[\\/]stages[\\/]base\.ts$/ },
        { name: 'otel-metrics', test: /node_modules[\\/]@opentelemetry[\\/]sdk-metrics[\\/]|src[\\/]otlp[\\/]stages[\\/]metrics\.ts$/ },
      ],
    },
  },
});
