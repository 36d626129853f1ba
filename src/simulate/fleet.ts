/**
 * A simulated install base: who exists on which day, on which version, on what host, reporting
 * which values and using which features. Pure data from a seed; `run.ts` drives each planned
 * install through the real sender (`createHeadcount` + `sendNow()` / `feature()`).
 *
 * The model, per install:
 * - lifetime: most installs exist from the first day, some appear later (growth), established
 *   ones stop with a small daily hazard (churn), and some are one-off (a CI run or throwaway
 *   container: one heartbeat on one day, never again);
 * - versions: a release wave (`1.5.0`) lands mid-history; stable installs upgrade after an
 *   exponential lag, some never; rc installs move on the release day; new installs after the
 *   release mostly start on it;
 * - host: OS / arch / runtime / deployment mixes (one-offs are mostly containers on amd64);
 * - quantities: log-normal (long-tailed), growing slowly; flags: per-flag adoption rate;
 * - features: per-feature adoption share, an adoption day per install (adoption curve) and a
 *   log-normal number of uses per day.
 */
import type { Catalog } from '../catalog.ts';
import type { SimulatedHost } from '../headcount.ts';
import { logNormalInt, pick, prng } from './random.ts';

export interface InstallPlan {
  /** Simulated days (0 = the first, days-1 = today) on which the install sends a heartbeat, ascending. */
  readonly days: readonly number[];
  /** `[fromDay, version]`, ascending: the version of the heartbeat sent on that day and after. */
  readonly versions: readonly (readonly [number, string])[];
  readonly host: SimulatedHost;
  /** Raw values on the install's first day; they grow by `growthPerDay`. */
  readonly quantities: Readonly<Record<string, number>>;
  readonly growthPerDay?: number;
  readonly flags: Readonly<Record<string, boolean>>;
  /** Per feature: first day of use and uses per day from then on (while the install runs). */
  readonly features: Readonly<Record<string, { readonly from: number; readonly uses: number }>>;
}

export interface FleetPlan {
  readonly days: number;
  readonly installs: readonly InstallPlan[];
}

/** The version an install reports on `day`. */
export function versionOn(plan: InstallPlan, day: number): string {
  let v = plan.versions[0]![1];
  for (const [from, version] of plan.versions) if (from <= day) v = version;
  return v;
}

/** The raw quantity values an install reports on `day`. */
export function quantitiesOn(plan: InstallPlan, day: number): Record<string, number> {
  const grown = (1 + (plan.growthPerDay ?? 0)) ** Math.max(0, day - (plan.days[0] ?? 0));
  return Object.fromEntries(Object.entries(plan.quantities).map(([k, v]) => [k, Math.floor(v * grown)]));
}

/** Uses of each feature on `day` (features with 0 uses left out). */
export function usesOn(plan: InstallPlan, day: number): [string, number][] {
  return Object.entries(plan.features).flatMap(([name, f]): [string, number][] => (f.uses > 0 && day >= f.from ? [[name, f.uses]] : []));
}

export const RELEASED = ['1.2.9', '1.3.2', '1.4.0'] as const;
export const WAVE = '1.5.0';

/** A seeded, realistic fleet of `installs` installs over `days` days for `catalog`. */
export function planFleet(installs: number, days: number, seed: number, catalog: Catalog): FleetPlan {
  const random = prng(seed);
  const releaseDay = days >= 2 ? Math.floor(days / 2) : Number.POSITIVE_INFINITY;
  // Per-catalog-entry parameters, also from the seed.
  const quantityMu = new Map([...catalog.quantities.keys()].map((q) => [q, 0.5 + random() * 4]));
  const flagRate = new Map([...catalog.flags.keys()].map((f) => [f, 0.1 + random() * 0.6]));
  const featureShare = new Map([...catalog.features.keys()].map((f) => [f, 0.15 + random() * 0.6]));

  const out: InstallPlan[] = [];
  for (let i = 0; i < installs; i++) {
    const oneOff = random() < 0.08;
    const first = oneOff ? Math.floor(random() * days) : random() < 0.8 ? 0 : 1 + Math.floor(random() * Math.max(1, days - 1));
    const firstDay = Math.min(first, days - 1);
    let lastDay = firstDay;
    if (!oneOff) {
      while (lastDay < days - 1 && random() >= 0.015) lastDay++;
    }
    const installDays = Array.from({ length: lastDay - firstDay + 1 }, (_, k) => firstDay + k);

    const onOs = oneOff ? 'linux' : pick(random, [['linux', 78], ['windows', 10], ['darwin', 9], ['freebsd', 3]] as const);
    const host: SimulatedHost = {
      osType: onOs,
      hostArch: oneOff ? 'amd64' : onOs === 'darwin' ? pick(random, [['arm64', 75], ['amd64', 25]] as const) : pick(random, [['amd64', 76], ['arm64', 22], ['arm32', 2]] as const),
      runtimeVersion: pick(random, [['22.23', 55], ['20.19', 30], ['24.11', 15]] as const),
      deployment: oneOff ? pick(random, [['container', 80], ['kubernetes', 10], ['other', 10]] as const) : pick(random, [['container', 45], ['kubernetes', 25], ['other', 30]] as const),
    };

    const versions: [number, string][] = [];
    const channel = pick(random, [['stable', 92], ['rc', 5], ['dev', 3]] as const);
    if (channel === 'dev') versions.push([firstDay, '1.6.0-dev.2']);
    else if (channel === 'rc') {
      versions.push([firstDay, firstDay >= releaseDay ? WAVE : '1.5.0-rc.1']);
      if (firstDay < releaseDay && releaseDay <= lastDay) versions.push([releaseDay, WAVE]);
    } else if (firstDay >= releaseDay && random() < 0.7) versions.push([firstDay, WAVE]);
    else {
      versions.push([firstDay, pick(random, [['1.4.0', 58], ['1.3.2', 28], ['1.2.9', 14]] as const)]);
      if (random() < 0.6) {
        const upgradeDay = Math.max(releaseDay, firstDay + 1) + Math.floor(-Math.log(1 - random()) * 3);
        if (upgradeDay <= lastDay) versions.push([upgradeDay, WAVE]);
      }
    }

    const quantities = Object.fromEntries([...quantityMu].map(([q, mu]) => [q, logNormalInt(random, mu, 1.6)]));
    const flags = Object.fromEntries([...flagRate].map(([f, p]) => [f, random() < p]));
    const features = Object.fromEntries(
      [...featureShare].map(([f, share]) => {
        if (oneOff || random() >= share) return [f, { from: 0, uses: 0 }];
        // Adoption curve: a third already use it, the rest start after an exponential delay.
        const from = random() < 0.33 ? firstDay : firstDay + Math.floor(-Math.log(1 - random()) * days * 0.5);
        return [f, { from, uses: 1 + logNormalInt(random, 1.5, 1.5) }];
      }),
    );
    out.push({ days: installDays, versions, host, quantities, growthPerDay: 0.01 + random() * 0.03, flags, features });
  }
  return { days, installs: out };
}
