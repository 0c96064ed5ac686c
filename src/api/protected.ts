/**
 * Protected namespaces: never created, adopted or owned by a workspace. The system namespaces and
 * the operator's own are always protected; the rest is a configurable list of patterns
 * (--protected-namespaces) in which `*` matches any run of characters, e.g. `kube-*`, `*-system`.
 */
import { SYSTEM_NAMESPACES } from "./constants.js";

const PATTERN = /^[a-z0-9*]([-a-z0-9*]*[a-z0-9*])?$/;

/**
 * Whether a string is a valid protected-namespace pattern: a DNS-1123 label (at most 63 lower-case
 * letters, digits and '-', starting and ending with a letter or digit) in which any character may
 * also be `*`.
 */
export function isNamespacePattern(pattern: string): boolean {
  return pattern.length <= 63 && PATTERN.test(pattern);
}

/**
 * Whether `name` matches `pattern`, where `*` matches any run of characters (none included) and
 * every other character only itself. Linear backtracking on the last star, never a RegExp: the
 * cost stays O(name × pattern) whatever the pattern.
 */
export function matchesNamespacePattern(name: string, pattern: string): boolean {
  let n = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === name[n]) {
      n++;
      p++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      // The last star swallows one more character; retry the rest of the pattern after it.
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * Whether a namespace is protected: one of the system namespaces (kube-system, kube-public,
 * kube-node-lease, default) or the operator's own, whatever the patterns say, or a match of any
 * of `patterns`.
 */
export function isProtectedNamespace(
  name: string,
  patterns: readonly string[],
  operatorNamespace: string,
): boolean {
  return (
    (SYSTEM_NAMESPACES as readonly string[]).includes(name) ||
    name === operatorNamespace ||
    patterns.some((pattern) => matchesNamespacePattern(name, pattern))
  );
}
