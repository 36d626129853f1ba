/**
 * Health: is data arriving? Freshness from the stored heartbeats, and the collector's own
 * counters (accepted / refused / dropped, export queue). otelcol.yaml serves them and
 * docker-compose's Prometheus scrapes them (`job="otelcol"`); "Collector metrics scraped" shows
 * whether that scrape works, and the collector panels show no data (not 0) without it.
 */
import { FRESHNESS, HEALTH, type Query } from '../../src/queries.ts';
import { finish, headcountDashboard, panelFor, pick, row, sized } from './common.ts';

const fresh = (id: string): Query => pick(FRESHNESS, id);
const h = (id: string): Query => pick(HEALTH, id);

export const lastHeartbeat = () => sized(panelFor(fresh('last_heartbeat')), 6, 4);
export const installsHeard = () => sized(panelFor(fresh('installs_heard_1h')), 6, 4);
export const collectorScraped = () => sized(panelFor(h('collector_scraped')), 6, 4);
export const queueSize = () => sized(panelFor(h('collector_queue_size')), 6, 4);
export const collectorSeries = (id: string) => sized(panelFor(h(id)), 8, 8);

export const healthDashboard = () =>
  finish(
    headcountDashboard({
      uid: 'headcount-health',
      title: 'Headcount / Pipeline health',
      description: 'Data freshness and the collector pipeline: accepted, refused and dropped data, export queue.',
      time: 'now-2d',
    })
      .withPanel(lastHeartbeat())
      .withPanel(installsHeard())
      .withPanel(collectorScraped())
      .withPanel(queueSize())
      .withRow(
        row('Collector', [
          collectorSeries('collector_accepted_per_hour'),
          collectorSeries('collector_refused_per_hour'),
          collectorSeries('collector_dropped_per_hour'),
        ]),
      ),
  );
