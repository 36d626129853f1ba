/**
 * A minimal host app: about ten lines of Headcount. Run it with
 *   ACME_TELEMETRY_TOKEN=… ACME_TELEMETRY_ENDPOINT=http://127.0.0.1:4318 node examples/acme-app/app.ts
 * Without the token nothing is sent, written or loaded.
 */
import { createServer } from 'node:http';
import { createHeadcount } from '../../src/index.ts';
import options from './telemetry.ts';

const telemetry = createHeadcount(options);
telemetry.start();

const server = createServer((req, res) => {
  if (req.url === '/export.csv') telemetry.feature('export_csv');
  res.end('ok\n');
});
server.listen(Number(process.env['PORT'] ?? 8080), '127.0.0.1');

process.on('SIGTERM', () => {
  server.close();
  void telemetry.shutdown({ timeoutMs: 2_000 });
});
