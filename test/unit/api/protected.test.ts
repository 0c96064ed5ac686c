/** Protected namespaces (src/api/protected.ts): glob patterns plus the namespaces always protected. */
import { expect } from "chai";
import fc from "fast-check";
import { DEFAULT_PROTECTED_NAMESPACES, SYSTEM_NAMESPACES } from "../../../src/api/constants.js";
import {
  isNamespacePattern,
  isProtectedNamespace,
  matchesNamespacePattern,
} from "../../../src/api/protected.js";

const DEFAULTS = [...DEFAULT_PROTECTED_NAMESPACES];
const OPERATOR = "secure-workspace-system";

/** Namespace names: DNS-1123 labels from a small alphabet, so patterns and names often meet. */
const name = fc
  .array(fc.constantFrom("a", "b", "k", "-", "1"), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(""))
  .filter((n) => /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(n));
/** Patterns over the same alphabet, with stars. */
const pattern = fc
  .array(fc.constantFrom("a", "b", "k", "-", "1", "*", "*"), { minLength: 1, maxLength: 8 })
  .map((chars) => chars.join(""));

/** The obvious reference: a RegExp with each `*` as `.*`. */
function reference(n: string, p: string): boolean {
  const source = p
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${source}$`).test(n);
}

describe("matchesNamespacePattern", () => {
  it("matches kube-*, *-system and exact names as the defaults intend", () => {
    expect(matchesNamespacePattern("kube-system", "kube-*")).to.be.true;
    expect(matchesNamespacePattern("kube-flannel", "kube-*")).to.be.true;
    expect(matchesNamespacePattern("kube-", "kube-*")).to.be.true;
    expect(matchesNamespacePattern("kube", "kube-*")).to.be.false;
    expect(matchesNamespacePattern("kubeflow", "kube-*")).to.be.false;
    expect(matchesNamespacePattern("istio-system", "*-system")).to.be.true;
    expect(matchesNamespacePattern("team-a-system", "*-system")).to.be.true;
    expect(matchesNamespacePattern("system", "*-system")).to.be.false;
    expect(matchesNamespacePattern("team-systems", "*-system")).to.be.false;
    expect(matchesNamespacePattern("default", "default")).to.be.true;
    expect(matchesNamespacePattern("default-2", "default")).to.be.false;
  });

  it("lets * match nothing, and several stars match in order", () => {
    expect(matchesNamespacePattern("ab", "a*b")).to.be.true;
    expect(matchesNamespacePattern("a-x-b-y-c", "a*b*c")).to.be.true;
    expect(matchesNamespacePattern("a-x-c-y-b", "a*b*c")).to.be.false;
    expect(matchesNamespacePattern("anything", "*")).to.be.true;
    expect(matchesNamespacePattern("aaa", "a**a")).to.be.true;
  });

  it("agrees with a RegExp reference on any name and pattern", () => {
    fc.assert(
      fc.property(name, pattern, (n, p) => {
        expect(matchesNamespacePattern(n, p), `${n} ~ ${p}`).to.equal(reference(n, p));
      }),
      { numRuns: 2000 },
    );
  });

  it("matches every name against itself, and a star in place of any part of it", () => {
    fc.assert(
      fc.property(name, fc.nat(), fc.nat(), (n, i, j) => {
        const [from, to] = [i % (n.length + 1), j % (n.length + 1)].sort((a, b) => a - b) as [number, number];
        expect(matchesNamespacePattern(n, n)).to.be.true;
        expect(matchesNamespacePattern(n, `${n.slice(0, from)}*${n.slice(to)}`)).to.be.true;
      }),
    );
  });

  it("stays fast on a pattern built to make a backtracking matcher explode", () => {
    const started = Date.now();
    expect(matchesNamespacePattern("a".repeat(63), `${"a*".repeat(31)}b`)).to.be.false;
    expect(Date.now() - started).to.be.below(100);
  });
});

describe("isProtectedNamespace", () => {
  it("protects the defaults' matches and nothing else", () => {
    for (const n of [
      "kube-system",
      "kube-public",
      "kube-flannel",
      "default",
      "istio-system",
      "cert-manager-system",
    ])
      expect(isProtectedNamespace(n, DEFAULTS, OPERATOR), n).to.be.true;
    for (const n of ["team-a", "kubeflow", "defaults", "system", "team-a-systems"])
      expect(isProtectedNamespace(n, DEFAULTS, OPERATOR), n).to.be.false;
  });

  it("always protects the system namespaces and the operator's own, whatever the patterns", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), name, (patterns, operator) => {
        for (const n of SYSTEM_NAMESPACES) expect(isProtectedNamespace(n, patterns, operator), n).to.be.true;
        expect(isProtectedNamespace(operator, patterns, operator)).to.be.true;
      }),
    );
    expect(isProtectedNamespace("ops", [], "ops")).to.be.true;
    expect(isProtectedNamespace("kube-node-lease", [], "ops")).to.be.true;
    expect(isProtectedNamespace("kube-flannel", [], "ops")).to.be.false;
  });

  it("protects a name exactly when it is always protected or some pattern matches it", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 4 }), name, (patterns, n) => {
        const expected =
          (SYSTEM_NAMESPACES as readonly string[]).includes(n) ||
          n === OPERATOR ||
          patterns.some((p) => reference(n, p));
        expect(isProtectedNamespace(n, patterns, OPERATOR)).to.equal(expected);
      }),
      { numRuns: 1000 },
    );
  });

  it("protects more with more patterns, never less", () => {
    fc.assert(
      fc.property(fc.array(pattern, { maxLength: 3 }), pattern, name, (patterns, extra, n) => {
        if (isProtectedNamespace(n, patterns, OPERATOR))
          expect(isProtectedNamespace(n, [...patterns, extra], OPERATOR)).to.be.true;
      }),
    );
  });
});

describe("isNamespacePattern", () => {
  it("accepts DNS-1123 labels with stars anywhere", () => {
    for (const p of [...DEFAULTS, "*", "a", "team-*-prod", "*a*", "a".repeat(63), "0-*"])
      expect(isNamespacePattern(p), p).to.be.true;
  });

  it("refuses empty, upper-case, dotted, spaced, edge-dash and over-long patterns", () => {
    for (const p of ["", "Kube-*", "kube.*", "kube *", "-kube", "kube-", "a".repeat(64), "kube?", "kube_*"])
      expect(isNamespacePattern(p), JSON.stringify(p)).to.be.false;
  });
});
