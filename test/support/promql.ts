/**
 * The metric names a PromQL expression selects, without a PromQL parser: enough for the
 * expressions of config/monitoring (their syntax is checked by the real promtool elsewhere).
 */

/** PromQL's keywords and aggregation/binary modifiers: identifiers that are never metric names. */
const KEYWORDS = new Set([
  "and",
  "or",
  "unless",
  "bool",
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "offset",
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "stddev",
  "stdvar",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
  "group",
  "inf",
  "nan",
]);

/**
 * Metric names in `expr`: identifiers left once strings, label matchers `{...}`, ranges `[...]` and
 * grouping lists (`by (...)`, `on (...)`, ...) are removed, that are not followed by `(` (a function)
 * and are not keywords or numbers.
 */
export function metricNames(expr: string): Set<string> {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, " ")
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*(?=\s*(\()?)/g)) {
    const name = m[0];
    if (m[1] !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    // A digit before it makes it part of a number or a duration (1e3, 5m).
    if (m.index > 0 && /[0-9.]/.test(stripped[m.index - 1] ?? "")) continue;
    names.add(name);
  }
  return names;
}
