/**
 * PromQL syntax check with Prometheus' own Lezer grammar (@prometheus-io/lezer-promql, the one
 * Prometheus' and Grafana's query editors use). Grafana variables are substituted first, the
 * way Grafana does before a query reaches Prometheus.
 */
import { parser } from '@prometheus-io/lezer-promql';

/** What the dashboards' variables become for the check ("All" selections are `.*`). */
export const TEST_VARIABLES: Readonly<Record<string, string>> = {
  service: '.*',
  version: '.*',
  k: '5',
  datasource: 'headcount-prometheus',
  __range: '30d',
  __interval: '1h',
  __rate_interval: '4h',
};

/** Replaces `$name` and `${name}`; throws on a variable the dashboards do not define. */
export function substitute(expr: string, vars: Readonly<Record<string, string>> = TEST_VARIABLES): string {
  return expr.replace(/\$\{(\w+)\}|\$(\w+)/g, (match, braced: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? '';
    const value = vars[name];
    if (value === undefined) throw new Error(`unknown Grafana variable ${match} in ${expr}`);
    return value;
  });
}

/** Syntax errors of `expr` (empty when it parses), each with its position. */
export function promqlErrors(expr: string): string[] {
  const errors: string[] = [];
  const tree = parser.parse(expr);
  tree.iterate({
    enter: (node) => {
      if (node.type.isError) errors.push(`syntax error at ${node.from}: ${JSON.stringify(expr.slice(Math.max(0, node.from - 15), node.to + 15))}`);
    },
  });
  if (tree.length !== expr.length) errors.push(`parsed ${tree.length} of ${expr.length} characters`);
  return errors;
}
