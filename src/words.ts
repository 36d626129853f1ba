/**
 * Fixed words for warnings about errors. An error's `name`, `message` or `code` comes from the
 * host's code or its state store and may carry anything (a password, a host name, a path), so a
 * warning names an error only with a word from a closed set, read without trusting the object
 * (a getter may throw, the object may be a revoked proxy).
 */
import { os } from './builtins.ts';

const ERROR_NAMES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError', 'URIError', 'AggregateError', 'AbortError', 'TimeoutError']);

function field(value: unknown, key: 'name' | 'code'): unknown {
  // Null and undefined throw, primitives have no such field; a getter may throw, a proxy may be revoked.
  try {
    return (value as Record<string, unknown>)[key];
  } catch {
    // No field.
  }
  return undefined;
}

/** `TypeError` for a built-in error class name; anything else is `an error`. */
export function errorWord(error: unknown): string {
  const name = field(error, 'name');
  return typeof name === 'string' && ERROR_NAMES.has(name) ? name : 'an error';
}

/** An operating-system error code (`EACCES`, `ENOSPC`) from the platform's own list; anything else is `error`. */
export function errnoWord(error: unknown): string {
  const code = field(error, 'code');
  return typeof code === 'string' && Object.hasOwn(os().constants.errno, code) ? code : 'error';
}
