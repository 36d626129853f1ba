/**
 * Quantities leave an install only as one of these half-open, order-of-magnitude buckets.
 * `0` holds [0, 1); `1-9` holds [1, 10); … `1M+` holds [1 000 000, ∞).
 * The labels are the wire values: the collector accepts nothing else.
 */
export const BUCKETS = [
  { label: '0', min: 0 },
  { label: '1-9', min: 1 },
  { label: '10-99', min: 10 },
  { label: '100-999', min: 100 },
  { label: '1k-9.9k', min: 1_000 },
  { label: '10k-99k', min: 10_000 },
  { label: '100k-999k', min: 100_000 },
  { label: '1M+', min: 1_000_000 },
] as const;

export type BucketLabel = (typeof BUCKETS)[number]['label'];

export const BUCKET_LABELS: readonly BucketLabel[] = BUCKETS.map((b) => b.label);

/**
 * The bucket holding `value`, or `undefined` when `value` is not a finite number ≥ 0
 * (the caller reports that as bad input; a raw number is never sent).
 */
export function bucketOf(value: number): BucketLabel | undefined {
  // Stryker disable next-line ConditionalExpression: equivalent, Number.isFinite is false for a non-number (no coercion), and a negative value matches no bucket (the loop ends in undefined)
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) return undefined;
  for (let i = BUCKETS.length - 1; i >= 0; i--) {
    const bucket = BUCKETS[i]!;
    if (value >= bucket.min) return bucket.label;
  }
  return undefined;
}
