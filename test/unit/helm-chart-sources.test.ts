/**
 * The Helm chart carries verbatim copies of what it cannot reach outside its directory (a chart is
 * packaged alone): the CRD, the three admission policies and config/monitoring. They must equal
 * their sources; `make chart-sync` copies them. (test/integration/helm.test.ts compares the rendered
 * objects with `kubectl kustomize config/` on the real API server.)
 *
 * The chart rewrites the protected-namespace tests and messages of two of those policies from its
 * protectedNamespaces value, finding them in the text as its template renders the operator's
 * defaults: the defaults must be the same everywhere, and config/ must hold them in that form
 * (helm.test.ts renders other lists and checks the result on the API server).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { parse, parseAllDocuments } from "yaml";
import { DEFAULT_PROTECTED_NAMESPACES, SYSTEM_NAMESPACES } from "../../src/api/constants.js";
import { repoRoot } from "../harness/control-plane-binaries.js";

const CHART = "config/helm/secure-workspace-operator";

/** [source, copy in the chart], as `make chart-sync` copies them. */
const CHART_COPIES: readonly (readonly [string, string])[] = [
  ["crds/secureworkspace.yaml", `${CHART}/crds/secureworkspace.yaml`],
  ["config/admission-policy.yaml", `${CHART}/files/admission-policy.yaml`],
  ["config/operator-confinement-policy.yaml", `${CHART}/files/operator-confinement-policy.yaml`],
  ["config/guardrails-policy.yaml", `${CHART}/files/guardrails-policy.yaml`],
  ["config/monitoring/prometheusrule.yaml", `${CHART}/files/monitoring/prometheusrule.yaml`],
  ["config/monitoring/dashboard.json", `${CHART}/files/monitoring/dashboard.json`],
];

const read = (file: string): string => readFileSync(path.join(repoRoot(), file), "utf8");

/** How many times `needle` occurs in `text`. */
const occurrences = (text: string, needle: string): number => text.split(needle).length - 1;

/**
 * What templates/_helpers.tpl (sws.protectedCEL) renders for patterns shaped like the defaults: an
 * exact name, a prefix (`kube-*`) or a suffix (`*-system`).
 */
function protectedCel(x: string, patterns: readonly string[]): string {
  return patterns
    .map((p) => {
      if (!p.includes("*")) return `${x} == '${p}'`;
      if (/^[^*]+\*$/.test(p)) return `${x}.startsWith('${p.slice(0, -1)}')`;
      if (/^\*[^*]+$/.test(p)) return `${x}.endsWith('${p.slice(1)}')`;
      throw new Error(`protectedCel: ${p} is not shaped like a default pattern`);
    })
    .join(" || ");
}

describe("Helm chart: copies of config/ and crds/", () => {
  for (const [source, copy] of CHART_COPIES)
    it(`${copy} equals ${source} (make chart-sync)`, () => {
      expect(read(copy) === read(source), `${copy} differs from ${source}: run make chart-sync`).to.equal(
        true,
      );
    });
});

describe("Helm chart: the protected namespaces it writes into the policies", () => {
  const defaults = [...DEFAULT_PROTECTED_NAMESPACES];

  it("has the operator's default patterns in values.yaml, in its template and in config/deployment.yaml", () => {
    const values = parse(read(`${CHART}/values.yaml`)) as { protectedNamespaces: unknown };
    expect(values.protectedNamespaces).to.deep.equal(defaults);
    const helpers = read(`${CHART}/templates/_helpers.tpl`);
    const listed =
      /define "sws\.defaultProtectedNamespaces" -}}\s*\{\{- toJson \(list ((?:"[^"]*" ?)+)\)/.exec(helpers);
    expect(listed, "sws.defaultProtectedNamespaces in _helpers.tpl").to.not.equal(null);
    expect([...(listed?.[1] ?? "").matchAll(/"([^"]*)"/g)].map((m) => m[1])).to.deep.equal(defaults);
    const deployment = parseAllDocuments(read("config/deployment.yaml"))
      .map((d) => d.toJS() as { kind?: string } | null)
      .find((d) => d?.kind === "Deployment") as {
      spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } };
    };
    const env = deployment.spec.template.spec.containers[0]?.env ?? [];
    expect(env.find((e) => e.name === "SWS_PROTECTED_NAMESPACES")?.value).to.equal(defaults.join(","));
  });

  for (const [file, x] of [
    ["config/operator-confinement-policy.yaml", "variables.targetNamespace"],
    ["config/guardrails-policy.yaml", "a.namespace"],
  ] as const)
    it(`${file} tests the system namespaces, the operator's and the defaults, in the form the chart rewrites`, () => {
      const text = read(file);
      const system = `${x} in [${SYSTEM_NAMESPACES.map((n) => `'${n}'`).join(", ")}] ||`;
      expect(occurrences(text, system), system).to.equal(1);
      expect(occurrences(text, `${x} == variables.operatorNamespace ||`)).to.equal(1);
      // On a line of its own (the guardrails' closes its filter): the chart replaces it whole.
      const patterns = protectedCel(x, defaults);
      const lines = text.split("\n").map((line) => line.trim());
      expect(lines.filter((line) => line === patterns || line === `${patterns})`)).to.have.length(1);
      expect(occurrences(text, patterns)).to.equal(1);
      // The refusal message names the patterns, in the wording the chart rewrites.
      expect(occurrences(text, `one matching ${defaults.join(", ")}`)).to.equal(1);
    });

  it("names the protected patterns in no other admission policy (only those two are rewritten)", () => {
    const text = read("config/admission-policy.yaml");
    expect(text).to.not.include("one matching");
    expect(text).to.not.include(".endsWith('-system')");
  });
});
