/**
 * `sws audit` reads every SecureWorkspace from a real cluster and prints the compliance report:
 * workspace x control x state with evidence, as a table, JSON or Markdown.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import type { AuditRow } from "../../src/audit.js";
import type { KubeClient } from "../../src/kube/client.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { testEnv } from "../harness/test-env.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import { waitReady, workspace } from "./support/workspaces.js";

function audit(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const cli = path.join(repoRoot(), "dist", "src", "cli.js");
  const run = spawnSync(process.execPath, [cli, "audit", "--kubeconfig", testEnv().kubeconfigPath, ...args], {
    encoding: "utf8",
  });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("sws audit against a real cluster", function () {
  this.timeout(120_000);
  let admin: KubeClient;
  let operator: RunningOperator;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await startOperator();
    await admin.apply(
      workspace("audit-report", {
        namespaces: [{ name: "audit-report" }],
        rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "auditors" }] }] },
      }),
    );
    await waitReady(admin, "audit-report");
    await operator.stop();
  });
  after(() => admin.close());

  it("reports each control of a workspace with its state and evidence as JSON", () => {
    const run = audit("-o", "json");
    expect(run.stderr).to.equal("");
    const rows = (JSON.parse(run.stdout) as AuditRow[]).filter((r) => r.workspace === "audit-report");
    const sc7 = rows.find((r) => r.control === "NIST-800-53:SC-7");
    expect(sc7).to.include({ state: "Compliant", ready: "True" });
    expect(sc7?.evidence).to.contain("NetworkPolicy/sws-default-deny");
    expect(rows.find((r) => r.control === "NIST-800-53:AC-6")?.evidence).to.contain("RoleBinding/sws-view-0");
    expect(rows.find((r) => r.control === "NIST-800-53:SC-8")?.state).to.equal("NotApplicable");
  });

  it("prints a table and a Markdown report with the same rows", () => {
    const table = audit();
    expect(table.stdout.split("\n")[0]).to.match(/^WORKSPACE\s+READY\s+CONTROL\s+TITLE\s+STATE\s+EVIDENCE/);
    expect(table.stdout).to.match(/audit-report\s+True\s+NIST-800-53:SC-7\s+Boundary Protection\s+Compliant/);
    const md = audit("-o", "markdown");
    expect(md.stdout).to.contain("# SecureWorkspace compliance report");
    expect(md.stdout).to.contain(
      "| audit-report | True | NIST-800-53:SC-7 | Boundary Protection | Compliant |",
    );
  });

  it("refuses an unknown output format with one line and exit 1", () => {
    const run = audit("-o", "yaml");
    expect(run.status).to.equal(1);
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.contain("-o must be table, json or markdown");
  });
});
