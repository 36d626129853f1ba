/**
 * The published build: one ES module per entry, with everything that runs only after opt-in
 * (the OTel SDK, zod, the transport) in a lazily loaded chunk. One file loads much faster than
 * the ~100 files of the SDK, and a bundled SDK cannot clash with the host app's own OTel
 * packages. `@opentelemetry/api` stays external: its globals are shared with the host so that
 * suppressed tracing is seen by the host's instrumentation.
 */
import { defineConfig } from 'rolldown';

export default defineConfig({
  input: { index: 'src/index.ts', cli: 'src/cli.ts' },
  platform: 'node',
  external: [/^node:/, '@opentelemetry/api'],
  output: {
    dir: 'dist',
    format: 'esm',
    entryFileNames: '[name].js',
    chunkFileNames: '[name]-[hash].js',
    sourcemap: true,
    minify: true,
  },
});
