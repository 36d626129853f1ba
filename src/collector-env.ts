/**
 * The collector's catalog allow-lists as environment variables (`headcount collector-env`), and
 * their validation. The collector's `transform/catalog` stage splices each value into an OTTL
 * membership test (`ContainsValue(<list>, name)`, `keep_keys(attrs, <list>)`), so a value must
 * be a JSON list of names of the wire contract's shape: anything else would either stop the
 * collector (it does not parse) or - worse - change the statement. `parseCollectorEnv` is what
 * the test stack, the demo and `collector-env` itself use before a collector sees a file.
 */

export const COLLECTOR_LIST_VARIABLES = {
  HEADCOUNT_PRODUCTS: /^[a-z][a-z0-9_-]{0,62}$/,
  HEADCOUNT_HEARTBEAT_KEYS: /^(quantity|flag)\.[a-z][a-z0-9_]{0,62}$/,
  HEADCOUNT_FEATURE_NAMES: /^[a-z][a-z0-9_]{0,62}$/,
} as const;

export type CollectorListVariable = keyof typeof COLLECTOR_LIST_VARIABLES;

export interface CollectorLists {
  readonly products: readonly string[];
  /** `quantity.<name>` and `flag.<name>` keys. */
  readonly heartbeatKeys: readonly string[];
  readonly features: readonly string[];
}

function checkList(variable: CollectorListVariable, names: readonly string[]): void {
  const shape = COLLECTOR_LIST_VARIABLES[variable];
  for (const name of names) {
    if (!shape.test(name)) throw new Error(`${variable}: ${JSON.stringify(name)} is not a valid name (expected ${shape.source})`);
  }
  if (new Set(names).size !== names.length) throw new Error(`${variable}: a name is listed twice`);
  if (variable === 'HEADCOUNT_PRODUCTS' && names.length === 0) throw new Error('HEADCOUNT_PRODUCTS: at least one product is needed');
}

/** The three variables for `lists`; throws naming the variable when a name has the wrong shape. */
export function renderCollectorLists(lists: CollectorLists): Record<CollectorListVariable, string> {
  const out = {
    HEADCOUNT_PRODUCTS: [...lists.products],
    HEADCOUNT_HEARTBEAT_KEYS: [...lists.heartbeatKeys],
    HEADCOUNT_FEATURE_NAMES: [...lists.features],
  };
  for (const [variable, names] of Object.entries(out)) checkList(variable as CollectorListVariable, names);
  return {
    HEADCOUNT_PRODUCTS: JSON.stringify(out.HEADCOUNT_PRODUCTS),
    HEADCOUNT_HEARTBEAT_KEYS: JSON.stringify(out.HEADCOUNT_HEARTBEAT_KEYS),
    HEADCOUNT_FEATURE_NAMES: JSON.stringify(out.HEADCOUNT_FEATURE_NAMES),
  };
}

/**
 * Parses and validates a `collector.env` file (the output of `headcount collector-env`): every
 * variable present exactly once, each a JSON list of well-formed names, nothing else but
 * comments. An empty file (a failed redirect) or a leftover regex-style value is an error that
 * names the variable and the line.
 */
export function parseCollectorEnv(text: string): { readonly env: Record<CollectorListVariable, string>; readonly lists: CollectorLists } {
  const seen = new Map<string, string>();
  text.split('\n').forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    // Meaningless when there is no `=` (eq < 0): the check below throws before it is used.
    const name = line.slice(0, eq);
    // Stryker disable next-line EqualityOperator: equivalent, `eq <= 0` only adds eq === 0, where name is '' and is no variable either
    if (eq < 0 || !(name in COLLECTOR_LIST_VARIABLES)) throw new Error(`collector env line ${index + 1}: expected one of ${Object.keys(COLLECTOR_LIST_VARIABLES).join(', ')}=<JSON list>, got ${JSON.stringify(line.slice(0, 80))}`);
    if (seen.has(name)) throw new Error(`collector env: ${name} is set twice`);
    const value = line.slice(eq + 1);
    // Single-quoted, so that a shell (`set -a; . collector.env`) and docker compose's env_file
    // both pass the JSON's double quotes through.
    if (!/^'[^']*'$/.test(value)) throw new Error(`collector env: ${name} must be a single-quoted JSON list, got ${JSON.stringify(value.slice(0, 80))}`);
    seen.set(name, value.slice(1, -1));
  });
  const list = (variable: CollectorListVariable): string[] => {
    const value = seen.get(variable);
    if (value === undefined) throw new Error(`collector env: ${variable} is missing (regenerate it with \`headcount collector-env --app <module>\`)`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      throw new Error(`collector env: ${variable} is not a JSON list: ${JSON.stringify(value.slice(0, 80))}`);
    }
    if (!Array.isArray(parsed) || parsed.some((n) => typeof n !== 'string')) throw new Error(`collector env: ${variable} is not a JSON list of names`);
    return parsed as string[];
  };
  const lists: CollectorLists = { products: list('HEADCOUNT_PRODUCTS'), heartbeatKeys: list('HEADCOUNT_HEARTBEAT_KEYS'), features: list('HEADCOUNT_FEATURE_NAMES') };
  const env = renderCollectorLists(lists);
  // The file's own text must be exactly what the lists render to (no spaces or escapes that the
  // collector would read differently from this check).
  for (const variable of Object.keys(env) as CollectorListVariable[]) {
    if (env[variable] !== seen.get(variable)) throw new Error(`collector env: ${variable} is not in canonical form (regenerate it with \`headcount collector-env\`)`);
  }
  return { env, lists };
}
