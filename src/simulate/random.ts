/** Seeded randomness for the fleet simulator: the same seed gives the same fleet. */

/** mulberry32: a tiny, fast 32-bit PRNG (not for cryptography). Returns [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** One value from `[value, weight]` pairs. */
export function pick<T>(random: () => number, weighted: ReadonlyArray<readonly [T, number]>): T {
  let r = random() * weighted.reduce((n, [, w]) => n + w, 0);
  for (const [value, w] of weighted) if ((r -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
}

/** Standard normal (Box-Muller). */
export function normal(random: () => number): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

/** A long-tailed (log-normal) whole number >= 0: most installs small, a few very large. */
export function logNormalInt(random: () => number, mu: number, sigma: number): number {
  return Math.max(0, Math.floor(Math.exp(mu + sigma * normal(random))));
}

/** A UUID v4 from the PRNG, so a seeded fleet has reproducible install ids. */
export function seededUuid(random: () => number): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(random() * 16).toString(16));
  hex[12] = '4';
  hex[16] = '89ab'[Math.floor(random() * 4)]!;
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}
