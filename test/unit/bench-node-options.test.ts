import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { deployedNodeOptions, deploymentNodeOptions } from "../bench/operator-build.js";

describe("bench: the operator's node flags as deployed", () => {
  const manifest = (env: string): string =>
    `spec:\n  template:\n    spec:\n      containers:\n        - name: sidecar\n          env: [{name: NODE_OPTIONS, value: --nope}]\n        - name: operator\n${env}`;

  it("reads NODE_OPTIONS of the operator container, and none when unset", () => {
    expect(
      deploymentNodeOptions(
        manifest("          env:\n            - name: NODE_OPTIONS\n              value: ' --a=1  --b '\n"),
      ),
    ).to.deep.equal(["--a=1", "--b"]);
    expect(deploymentNodeOptions(manifest("          env: [{name: X, value: y}]\n"))).to.deep.equal([]);
    expect(deploymentNodeOptions(manifest(""))).to.deep.equal([]);
    expect(() => deploymentNodeOptions("spec: {}")).to.throw(/containers is not a list/);
  });

  it("config/deployment.yaml and the Helm chart set the same NODE_OPTIONS", () => {
    const flags = deployedNodeOptions();
    expect(flags).to.deep.equal(["--max-semi-space-size=4"]);
    const chart = readFileSync(
      path.join(repoRoot(), "config", "helm", "secure-workspace-operator", "templates", "deployment.yaml"),
      "utf8",
    );
    expect(chart).to.match(new RegExp(`- name: NODE_OPTIONS\\n\\s+value: ${flags.join(" ")}\\n`));
  });
});
