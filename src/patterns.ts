/** Value shapes shared by the sender's checks and the allow-list. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The closed vocabulary of pre-release words a version may carry on the wire. Anything else after
 * `x.y.z-` is a free-text channel (a key id, a phone number, a host name fit in 16 characters), so
 * the sender cuts it off and the collector rejects it.
 */
export const PRERELEASE_WORDS = ['alpha', 'beta', 'rc', 'dev', 'pre', 'canary', 'nightly'] as const;

/** A pre-release the wire may carry: one word of `PRERELEASE_WORDS`, then optionally a number 0-99, directly or after a dot (`rc.1`, `beta2`). */
export const PRERELEASE_PATTERN = new RegExp(`^(?:${PRERELEASE_WORDS.join('|')})(?:\\.?(?:0|[1-9]\\d?))?$`);

/** The largest number a version component may carry (4 digits: few client-chosen bits). */
export const MAX_VERSION_COMPONENT = 9999;

/**
 * A version as it leaves an install: `x.y.z` (each 0-9999, no leading zero), or
 * `x.y.z-<pre-release>` per `PRERELEASE_PATTERN`. The collector's `transform/sanitize` applies the
 * same grammar (collector-config/otelcol.yaml; `test/sdk-hardening.test.ts` checks they agree).
 */
export const VERSION_PATTERN = new RegExp(`^(?:0|[1-9]\\d{0,3})\\.(?:0|[1-9]\\d{0,3})\\.(?:0|[1-9]\\d{0,3})(?:-${PRERELEASE_PATTERN.source.slice(1, -1)})?$`);
