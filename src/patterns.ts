/** Value shapes shared by the sender's checks and the allow-list. */
export const SERVICE_NAME_PATTERN = /^[a-z][a-z0-9_-]{0,62}$/;

/**
 * The closed vocabulary of pre-release words a version may carry on the wire. Anything else after
 * `x.y.z-` is a free-text channel (a key id, a phone number, a host name fit in 16 characters), so
 * the sender cuts it off and the collector rejects it.
 */
export const PRERELEASE_WORDS = ['alpha', 'beta', 'rc', 'dev', 'pre', 'canary', 'nightly'] as const;

/** A pre-release the wire may carry: one word of `PRERELEASE_WORDS`, then optionally a number 0-999, directly or after a dot (`rc.1`, `beta2`). */
export const PRERELEASE_PATTERN = new RegExp(`^(?:${PRERELEASE_WORDS.join('|')})(?:\\.?(?:0|[1-9]\\d{0,2}))?$`);

/** A version as it leaves an install: `x.y.z`, or `x.y.z-<pre-release>` per `PRERELEASE_PATTERN`. */
export const VERSION_PATTERN = new RegExp(`^\\d{1,6}\\.\\d{1,6}\\.\\d{1,6}(?:-${PRERELEASE_PATTERN.source.slice(1, -1)})?$`);
