/**
 * A hostile client that bypasses the SDK: everything it sends goes through the real collector
 * into a real Prometheus, and then EVERY series in Prometheus is inspected.
 */
import { describe, expect, it } from 'vitest';
import { collectorBinaries } from '../../scripts/stack/binaries.ts';
import type { PromSeries } from '../../scripts/stack/processes.ts';
import { useStack } from '../helpers/stack-fixture.ts';
import { featuresJson, featuresProto, heartbeatJson, heartbeatProto, newInstallId, postOtlp, SDK_RESOURCE_LABELS, sdkResource, type Attrs } from '../helpers/otlp-requests.ts';

const bins = await collectorBinaries();
const TOKEN = 'privacy-test-token';

/** The identity and network keys the issue names, plus unknown ones. */
const IDENTITY_KEYS: Attrs = {
  'client.address': '203.0.113.77',
  'network.peer.address': '203.0.113.78',
  'net.peer.ip': '198.51.100.4',
  'http.client_ip': '2001:db8::77',
  'source.address': '192.0.2.10',
  'host.name': 'alice-laptop.corp.example',
  'host.ip': '10.1.2.3',
  'host.id': 'f6a1c0de-host-id',
  'user.id': 'alice',
  'user.email': 'alice@example.com',
  'user.name': 'Alice Example',
  'enduser.id': 'alice-enduser',
  'geo.country.iso_code': 'NL',
  'geo.location.lat': 52.37,
  'user_agent.original': 'Mozilla/5.0 (X11; Linux) secret-agent',
  'custom.unknown': 'unknown-value',
  'k8s.pod.name': 'pod-of-alice',
};

/** Strings that must appear nowhere in Prometheus (label names or values). */
const FORBIDDEN = [
  '203.0.113',
  '198.51.100',
  '192.0.2.10',
  '2001:db8',
  '10.1.2.3',
  'alice',
  'example.com',
  'secret-agent',
  'f6a1c0de',
  'unknown-value',
  'pod-of',
  'evil',
];

// No target_info: the collector leaves only service.name and service.instance.id on the
// resource (-> job, instance), so Prometheus writes none (see the target_info test below).
const ALLOWED_METRICS = new Set(['headcount_heartbeat', 'headcount_feature_install_days_total']);
const ALLOWED_LABELS = new Set([
  '__name__',
  'job',
  'instance',
  'service_version',
  'headcount_channel',
  'headcount_deployment',
  'headcount_schema',
  'os_type',
  'host_arch',
  'process_runtime_name',
  'process_runtime_version',
  'feature_name',
  'feature_uses',
]);
const CATALOG_LABEL = /^(quantity|flag)_[a-z][a-z0-9_]{0,62}$/;
const LOOKS_LIKE_IP = /\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|[0-9a-f]{0,4}:[0-9a-f]{0,4}:/i;
const LOOKS_LIKE_EMAIL = /@/;

function assertClean(series: readonly PromSeries[]): void {
  for (const s of series) {
    expect(ALLOWED_METRICS, JSON.stringify(s)).toContain(s['__name__']);
    for (const [label, value] of Object.entries(s)) {
      expect(ALLOWED_LABELS.has(label) || CATALOG_LABEL.test(label), `label ${label} in ${JSON.stringify(s)}`).toBe(true);
      expect(value, `${label}=${value}`).not.toMatch(LOOKS_LIKE_IP);
      expect(value, `${label}=${value}`).not.toMatch(LOOKS_LIKE_EMAIL);
      for (const bad of FORBIDDEN) {
        expect(`${label}=${value}`.toLowerCase()).not.toContain(bad);
      }
    }
  }
}

describe.skipIf(!bins.ok)('collector privacy gates (real collector + Prometheus)', () => {
  const { p, c } = useStack(bins, TOKEN);

  it('stores a hostile heartbeat (JSON) only with allow-listed labels and clean values', async () => {
    const good = newInstallId();
    const hostile = newInstallId();
    const badPoints = newInstallId();
    const body = heartbeatJson(
      // valid install, but with every identity key on resource, scope and data point
      {
        resource: { ...sdkResource(good, { 'service.name': 'privacy_json' }), ...IDENTITY_KEYS },
        scope: { name: 'evil-scope 203.0.113.77', version: 'alice@example.com', attributes: IDENTITY_KEYS },
        unit: '203.0.113.77',
        points: [{ 'quantity.projects': '10-99', 'flag.sso': '1', ...IDENTITY_KEYS }],
        timeUnixNano: '86400000000000',
        value: 42,
      },
      // PII smuggled into allow-listed keys and catalog-shaped keys
      {
        resource: sdkResource(hostile, {
          'service.name': 'privacy_json',
          'service.version': '1.2.3-203.0.113.77',
          'os.type': 'alice@example.com',
          'host.arch': '203.0.113.77',
          'process.runtime.version': '10.1.2.3',
          'headcount.channel': 'evil',
        }),
        points: [{ 'quantity.projects': '10-99', 'flag.sso': '1' }],
      },
      // a data point whose catalog value carries an IP keeps none of its catalog attributes
      {
        resource: sdkResource(badPoints, { 'service.name': 'privacy_json' }),
        points: [{ 'quantity.projects': '203.0.113.77' }, { 'flag.sso': 'alice@example.com' }, { 'quantity.x': '1-9 flag.y=1' }],
      },
    );
    const res = await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN });
    expect(res.status).toBe(200);

    const all = await p().waitFor('headcount_heartbeat{job="privacy_json"}', 2);
    expect(all).toHaveLength(2);
    // transform/sanitize cleared the bad points' attributes: the install counts, with no quantity.
    expect(all.find((r) => r.metric['instance'] === c().pseudonym(badPoints))?.metric).toEqual({ __name__: 'headcount_heartbeat', job: 'privacy_json', instance: c().pseudonym(badPoints), ...SDK_RESOURCE_LABELS });
    const stored = all.filter((r) => r.metric['instance'] === c().pseudonym(good));
    expect(stored).toHaveLength(1);
    const series = stored[0]?.metric ?? {};
    expect(series).toEqual({
      __name__: 'headcount_heartbeat',
      job: 'privacy_json',
      instance: c().pseudonym(good),
      ...SDK_RESOURCE_LABELS,
      quantity_projects: '10-99',
      flag_sso: '1',
    });
    // value forced to 1, timestamp set on receipt (not 1970-01-02)
    expect(stored[0]?.value[1]).toBe('1');
    expect(Math.abs((stored[0]?.value[0] ?? 0) - Date.now() / 1000)).toBeLessThan(120);
    // the install whose version smuggled an IP was dropped entirely (version is required)
    expect(await p().query(`{instance="${c().pseudonym(hostile)}"}`)).toEqual([]);
    assertClean(await p().allSeries());
  });

  it('stores a hostile heartbeat (protobuf) only with allow-listed labels', async () => {
    const id = newInstallId();
    const body = heartbeatProto({ ...sdkResource(id, { 'service.name': 'privacy_proto' }), ...IDENTITY_KEYS }, [
      { 'quantity.users': '1k-9.9k', 'flag.ldap': '0', ...IDENTITY_KEYS },
    ]);
    const res = await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN, gzip: true });
    expect(res.status).toBe(200);
    const stored = await p().waitFor('headcount_heartbeat{job="privacy_proto"}', 1);
    expect(stored[0]?.metric).toMatchObject({ instance: c().pseudonym(id), quantity_users: '1k-9.9k', flag_ldap: '0' });
    assertClean(await p().allSeries());
  });

  it('drops heartbeats with malformed install ids, versions or schema, and unknown metrics', async () => {
    const bad = [
      sdkResource('NOT-A-UUID', { 'service.name': 'privacy_malformed' }),
      sdkResource('0b7a3f4e-1c2d-1e5f-8a9b-0c1d2e3f4a5b', { 'service.name': 'privacy_malformed' }), // v1, not v4
      sdkResource(newInstallId().toUpperCase(), { 'service.name': 'privacy_malformed' }),
      sdkResource(newInstallId(), { 'service.name': 'privacy_malformed', 'service.version': 'latest' }),
      sdkResource(newInstallId(), { 'service.name': 'privacy_malformed', 'service.version': '1.2.3-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' }),
      sdkResource(newInstallId(), { 'service.name': 'privacy_malformed', 'headcount.schema': '2' }),
      sdkResource(newInstallId(), { 'service.name': 'Privacy_Upper' }),
    ].map((resource) => ({ resource }));
    const unknownMetric = { resource: sdkResource(newInstallId(), { 'service.name': 'privacy_malformed' }), metricName: 'evil.metric' };
    const res = await postOtlp(c().url, '/v1/metrics', heartbeatJson(...bad, unknownMetric), { token: TOKEN });
    expect(res.status).toBe(200);
    // a valid marker request sent afterwards proves the pipeline has flushed past the bad ones
    const marker = newInstallId();
    await postOtlp(c().url, '/v1/metrics', heartbeatJson({ resource: sdkResource(marker, { 'service.name': 'privacy_marker' }) }), { token: TOKEN });
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(marker)}"}`);
    expect(await p().query('{job=~"privacy_malformed|Privacy_Upper|privacy_upper"}')).toEqual([]);
    expect(await p().query('{__name__=~"evil.*"}')).toEqual([]);
    assertClean(await p().allSeries());
  });

  it('counts hostile feature records (JSON and protobuf) without any identity in the counter', async () => {
    const product = 'privacy_features';
    const json = featuresJson(
      {
        resource: { ...sdkResource(newInstallId(), { 'service.name': product }), ...IDENTITY_KEYS },
        scope: { name: 'evil', attributes: IDENTITY_KEYS },
        body: 'alice@example.com from 203.0.113.77',
        records: [
          { 'feature.name': 'export', 'feature.uses': '1-9', ...IDENTITY_KEYS },
          { 'feature.name': 'alice@example.com', 'feature.uses': '1-9' },
          { 'feature.name': 'export', 'feature.uses': '203.0.113.77' },
          { 'feature.name': 'export', 'feature.uses': '0' },
        ],
      },
      { resource: sdkResource(newInstallId(), { 'service.name': product }), eventName: 'evil.event', records: [{ 'feature.name': 'export', 'feature.uses': '1-9' }] },
    );
    expect((await postOtlp(c().url, '/v1/logs', json, { token: TOKEN })).status).toBe(200);
    const proto = featuresProto({ ...sdkResource(newInstallId(), { 'service.name': product }), ...IDENTITY_KEYS }, [
      { 'feature.name': 'export', 'feature.uses': '1-9', ...IDENTITY_KEYS },
    ], IDENTITY_KEYS);
    expect((await postOtlp(c().url, '/v1/logs', proto, { token: TOKEN })).status).toBe(200);

    // One counter sample per collector batch (the two requests may be two batches): summed.
    await p().waitFor(`sum_over_time(headcount_feature_install_days_total{job="${product}"}[1h]) >= 2`, 1);
    const counters = await p().query(`headcount_feature_install_days_total{job="${product}"}`);
    expect(counters).toHaveLength(1);
    expect(counters[0]?.metric).toEqual({
      __name__: 'headcount_feature_install_days_total',
      job: product,
      service_version: '1.2.3',
      headcount_channel: 'stable',
      feature_name: 'export',
      feature_uses: '1-9',
    });
    expect((await p().query(`sum(sum_over_time(headcount_feature_install_days_total{job="${product}"}[1h]))`))[0]?.value[1]).toBe('2');
    // no per-install series for feature counts, no raw logs
    expect(await p().query(`{job="${product}", instance!=""}`)).toEqual([]);
    assertClean(await p().allSeries());
  });

  it('writes no target_info: every resource label is on the heartbeat and feature series themselves', async () => {
    const product = 'privacy_labels';
    const full = newInstallId();
    const noSchema = newInstallId();
    // headcount.schema is optional: absent on the client, absent as a label.
    const withoutSchema = Object.fromEntries(Object.entries(sdkResource(noSchema, { 'service.name': product })).filter(([k]) => k !== 'headcount.schema'));
    const heartbeats = heartbeatJson(
      { resource: sdkResource(full, { 'service.name': product }), points: [{ 'quantity.projects': '10-99', 'flag.sso': '1' }] },
      { resource: withoutSchema, points: [{}] },
    );
    expect((await postOtlp(c().url, '/v1/metrics', heartbeats, { token: TOKEN })).status).toBe(200);
    const proto = heartbeatProto(sdkResource(newInstallId(), { 'service.name': product, 'os.type': 'darwin', 'host.arch': 'arm64' }), [{ 'quantity.users': '1-9' }]);
    expect((await postOtlp(c().url, '/v1/metrics', proto, { token: TOKEN, gzip: true })).status).toBe(200);
    const features = featuresJson(
      { resource: sdkResource(newInstallId(), { 'service.name': product }), records: [{ 'feature.name': 'export', 'feature.uses': '1-9' }] },
      { resource: sdkResource(newInstallId(), { 'service.name': product, 'service.version': '2.0.0', 'headcount.channel': 'rc' }), records: [{ 'feature.name': 'export', 'feature.uses': '1-9' }] },
    );
    expect((await postOtlp(c().url, '/v1/logs', features, { token: TOKEN })).status).toBe(200);

    const stored = await p().waitFor(`headcount_heartbeat{job="${product}"}`, 3);
    const counters = await p().waitFor(`headcount_feature_install_days_total{job="${product}"}`, 2);

    // Resource attributes -> the same label names and values as promote_resource_attributes gave.
    const resourceLabels = { job: product, ...SDK_RESOURCE_LABELS };
    const byInstance = new Map(stored.map((r) => [r.metric['instance'], r.metric]));
    expect(byInstance.get(c().pseudonym(full))).toEqual({ __name__: 'headcount_heartbeat', instance: c().pseudonym(full), ...resourceLabels, quantity_projects: '10-99', flag_sso: '1' });
    const withoutSchemaLabels = Object.fromEntries(Object.entries(resourceLabels).filter(([k]) => k !== 'headcount_schema'));
    expect(byInstance.get(c().pseudonym(noSchema))).toEqual({ __name__: 'headcount_heartbeat', instance: c().pseudonym(noSchema), ...withoutSchemaLabels });
    expect(stored.map((r) => r.metric).find((m) => m['quantity_users'] !== undefined)).toMatchObject({ os_type: 'darwin', host_arch: 'arm64', service_version: '1.2.3' });
    // Feature counters: job + version + channel + the record's two attributes; no install id.
    expect(counters.map((r) => r.metric).sort((a, b) => (a['service_version'] ?? '').localeCompare(b['service_version'] ?? ''))).toEqual([
      { __name__: 'headcount_feature_install_days_total', job: product, service_version: '1.2.3', headcount_channel: 'stable', feature_name: 'export', feature_uses: '1-9' },
      { __name__: 'headcount_feature_install_days_total', job: product, service_version: '2.0.0', headcount_channel: 'rc', feature_name: 'export', feature_uses: '1-9' },
    ]);

    // Not one target_info series in the whole TSDB (this file's earlier requests included).
    const all = await p().allSeries();
    expect(all.filter((s) => s['__name__'] === 'target_info')).toEqual([]);
    expect(await p().query('target_info')).toEqual([]);
    expect(new Set(all.map((s) => s['__name__']))).toEqual(ALLOWED_METRICS);
    assertClean(all);
  });

  it('stores versions only as x.y.z with a pre-release from the closed vocabulary: no free-text channel', async () => {
    const product = 'privacy_versions';
    const accepted = ['1.2.3', '0.0.0', '2026.12.1', '1.2.3-alpha', '1.2.3-rc.1', '1.2.3-beta2', '1.2.3-nightly.42', '1.2.3-dev.0', '1.2.3-pre', '1.2.3-canary.99'];
    const rejected = [
      '1.2.3-AKIAIOSFODNN7EXAMPLE', // AWS key id
      '1.2.3-4111111111111111', // card number
      '1.2.3-0a1b2c3d4e5f', // MAC without separators
      '1.2.3-15551234567', // phone number
      '1.2.3-user.host.internal', // host name
      '1.2.3-MTAuMS4yLjM', // base64 of an IP
      '1.2.3-rc.10.1.2.3', // IPv4 after a vocabulary word
      '1.2.3-rc.100', // number too large
      '1.2.3-rc.01', // leading zero
      '1.2.3-rc1x',
      '1.2.3-alpha.beta',
      '1.2.3+build.5',
      '12345.0.0', // 5-digit numbers carry too many chosen bits
      '01.2.3',
      '1.2',
      '1.2.3.4',
      '10.1.2.3',
      ' 1.2.3',
    ];
    const ids = new Map<string, string>();
    const body = heartbeatJson(
      ...[...accepted, ...rejected].map((version) => {
        const id = newInstallId();
        ids.set(version, id);
        return { resource: sdkResource(id, { 'service.name': product, 'service.version': version }) };
      }),
    );
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN })).status).toBe(200);
    const stored = await p().waitFor(`headcount_heartbeat{job="${product}"}`, accepted.length);
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(ids.get(accepted.at(-1) ?? '') ?? '')}"}`);
    expect(stored.map((r) => r.metric['service_version']).sort()).toEqual([...accepted].sort());
    // ...each under its own install's pseudonym; the rejected versions dropped their heartbeats.
    for (const r of stored) expect(r.metric['instance']).toBe(c().pseudonym(ids.get(r.metric['service_version'] ?? '') ?? ''));
  });

  it('stores a keyed pseudonym of the install id, never the id (no client-chosen value reaches disk)', async () => {
    const id = newInstallId();
    // An id a buggy or hostile sender derived from a MAC address: UUIDv4-shaped, 122 chosen bits.
    const macId = '00163e5e-6c00-4000-8000-00163e5e6c00';
    const body = heartbeatJson({ resource: sdkResource(id, { 'service.name': 'privacy_pseudonym' }) }, { resource: sdkResource(macId, { 'service.name': 'privacy_pseudonym' }) });
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: TOKEN })).status).toBe(200);
    const stored = await p().waitFor('headcount_heartbeat{job="privacy_pseudonym"}', 2);
    expect(stored.map((r) => r.metric['instance']).sort()).toEqual([c().pseudonym(id), c().pseudonym(macId)].sort());
    for (const r of stored) expect(r.metric['instance']).toMatch(/^[0-9a-f]{32}$/);
    const all = JSON.stringify(await p().allSeries());
    expect(all).not.toContain(id);
    expect(all).not.toContain('00163e5e');
  });

  it('answers 401 without or with a wrong token, and stores nothing', async () => {
    const id = newInstallId();
    const body = heartbeatJson({ resource: sdkResource(id, { 'service.name': 'privacy_auth' }) });
    expect((await postOtlp(c().url, '/v1/metrics', body)).status).toBe(401);
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: 'wrong' })).status).toBe(401);
    expect((await postOtlp(c().url, '/v1/metrics', body, { token: `${TOKEN}x` })).status).toBe(401);
    expect((await postOtlp(c().url, '/v1/metrics', body, { headers: { authorization: TOKEN } })).status).toBe(401);
    expect((await postOtlp(c().url, '/v1/logs', featuresJson({ resource: sdkResource(id), records: [{ 'feature.name': 'x', 'feature.uses': '1-9' }] }), { token: 'wrong' })).status).toBe(401);
    const marker = newInstallId();
    await postOtlp(c().url, '/v1/metrics', heartbeatJson({ resource: sdkResource(marker, { 'service.name': 'privacy_marker' }) }), { token: TOKEN });
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(marker)}"}`);
    expect(await p().query(`{instance="${c().pseudonym(id)}"}`)).toEqual([]);
  });

  it('rotates tokens: two valid at once, the removed one rejected', async () => {
    const send = async (token: string) =>
      (await postOtlp(c().url, '/v1/metrics', heartbeatJson({ resource: sdkResource(newInstallId(), { 'service.name': 'privacy_rotate' }) }), { token })).status;
    await c().setTokens([TOKEN, 'next-token']);
    await expect.poll(() => send('next-token'), { timeout: 10_000, interval: 200 }).toBe(200);
    expect(await send(TOKEN)).toBe(200);
    await c().setTokens(['next-token']);
    await expect.poll(() => send(TOKEN), { timeout: 10_000, interval: 200 }).toBe(401);
    expect(await send('next-token')).toBe(200);
    await c().setTokens([TOKEN]);
    await expect.poll(() => send(TOKEN), { timeout: 10_000, interval: 200 }).toBe(200);
  });

  it('rejects oversized (also after gzip) and malformed bodies', async () => {
    const huge = heartbeatJson({
      resource: sdkResource(newInstallId(), { 'service.name': 'privacy_big' }),
      points: [Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [`quantity.q${i}`, '1-9']))],
    });
    expect(huge.length).toBeGreaterThan(65_536);
    const plain = await postOtlp(c().url, '/v1/metrics', huge, { token: TOKEN });
    expect(plain.status).toBe(400);
    // compresses to well under the limit, but decompresses past it
    const bomb = await postOtlp(c().url, '/v1/metrics', huge, { token: TOKEN, gzip: true });
    expect(bomb.status).toBe(400);
    expect((await postOtlp(c().url, '/v1/metrics', '{"resourceMetrics": [', { token: TOKEN })).status).toBe(400);
    expect((await postOtlp(c().url, '/v1/metrics', new Uint8Array([0xff, 0xff, 0xff, 0x01]), { token: TOKEN })).status).toBe(400);
    expect((await postOtlp(c().url, '/v1/logs', 'not json', { token: TOKEN })).status).toBe(400);
    expect(await p().query('{job="privacy_big"}')).toEqual([]);
  });

  it('never writes the client address (or forwarded addresses) to its log or its own metrics', async () => {
    // Any 127/8 address is loopback on Linux: connect FROM a distinctive one.
    const from = '127.0.0.123';
    const headers = { 'x-forwarded-for': '203.0.113.99', 'x-real-ip': '203.0.113.98', forwarded: 'for=203.0.113.97' };
    const id = newInstallId();
    for (const token of [TOKEN, 'wrong', undefined]) {
      await postOtlp(c().url, '/v1/metrics', heartbeatJson({ resource: sdkResource(id, { 'service.name': 'privacy_log' }) }), { token, localAddress: from, headers });
      await postOtlp(c().url, '/v1/metrics', '{"broken', { token, localAddress: from, headers });
      await postOtlp(c().url, '/v1/logs', featuresJson({ resource: sdkResource(id), records: [{ 'feature.name': 'x', 'feature.uses': '1-9' }] }), { token, localAddress: from, headers, gzip: true });
    }
    await p().waitFor(`headcount_heartbeat{instance="${c().pseudonym(id)}"}`);
    const log = c().logs();
    expect(log.length).toBeGreaterThan(0);
    expect(log).not.toContain(from);
    expect(log).not.toContain('203.0.113.9');
    expect(log).not.toMatch(/remote_addr|peer\.address|client\.address/i);
    // Nor to its own metrics, which otelcol.yaml serves for Prometheus to scrape.
    const metrics = await (await fetch(`http://${c().metricsTarget}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
    expect(metrics).toMatch(/^otelcol_receiver_accepted_metric_points\{/m);
    expect(metrics).not.toContain(from);
    expect(metrics).not.toContain('203.0.113.9');
    expect(metrics).not.toMatch(/peer\.address|client\.address|client_address|peer_address/i);
  });
});

if (!bins.ok) {
  describe('collector privacy gates', () => {
    it.skip(`skipped locally: ${bins.reason}`, () => undefined);
  });
}
