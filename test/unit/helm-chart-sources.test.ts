/**
 * The Helm chart carries verbatim copies of what it cannot reach outside its directory (a chart is
 * packaged alone): the CRD, the three admission policies and config/monitoring. They must equal
 * their sources; `make chart-sync` copies them. (test/integration/helm.test.ts compares the rendered
 * objects with `kubectl kustomize config/` on the real API server.)
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
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

describe("Helm chart: copies of config/ and crds/", () => {
  for (const [source, copy] of CHART_COPIES)
    it(`${copy} equals ${source} (make chart-sync)`, () => {
      const read = (file: string): string => readFileSync(path.join(repoRoot(), file), "utf8");
      expect(read(copy) === read(source), `${copy} differs from ${source}: run make chart-sync`).to.equal(
        true,
      );
    });
});
