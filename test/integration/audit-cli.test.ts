/**
 * `sws audit` reads every SecureWorkspace from a real cluster and prints the compliance report:
 * workspace x control x state with evidence, as a table, JSON, Markdown or OSCAL (validated by
 * compliance-trestle), filtered by name and state.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { AuditRow } from "../../src/audit.js";
import type { TestKubeClient } from "../support/test-client.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { testEnv } from "../harness/test-env.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import { trestlePython, validateWithTrestle } from "../support/trestle.js";
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
  let admin: TestKubeClient;
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
    // Audit mode over a namespace that does not exist: nothing is written, everything is drift.
    await admin.apply(
      workspace("audit-legacy", { namespaces: [{ name: "audit-legacy" }], enforcement: "Audit" }),
    );
    await waitReady(admin, "audit-report");
    await waitReady(admin, "audit-legacy", "Audited");
    await operator.stop();
    trestlePython(); // installs compliance-trestle on first use (cached)
  });
  after(() => admin.close());

  const ours = (rows: AuditRow[]): AuditRow[] =>
    rows.filter((r) => r.workspace === "audit-report" || r.workspace === "audit-legacy");

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

  it("ends the table with a summary line counting the rows printed", () => {
    const run = audit("audit-report");
    const lines = run.stdout.trim().split("\n");
    expect(lines[lines.length - 1]).to.match(
      /^1 workspace, \d+ controls: \d+ Compliant, 0 NonCompliant, \d+ NotApplicable$/,
    );
    expect(run.status).to.equal(0);
  });

  it("filters by workspace name and by --state; the exit code follows the rows printed", () => {
    const both = JSON.parse(audit("audit-report", "audit-legacy", "-o", "json").stdout) as AuditRow[];
    expect([...new Set(both.map((r) => r.workspace))]).to.deep.equal(["audit-legacy", "audit-report"]);
    const failing = audit("audit-report", "audit-legacy", "--state", "NonCompliant", "-o", "json");
    const rows = JSON.parse(failing.stdout) as AuditRow[];
    expect(rows.length).to.be.greaterThan(0);
    expect(rows.every((r) => r.workspace === "audit-legacy" && r.state === "NonCompliant")).to.be.true;
    expect(failing.status).to.equal(1);
    const passing = audit("audit-report", "--state", "Compliant,NotApplicable", "-o", "json");
    expect(passing.status).to.equal(0);
    expect((JSON.parse(passing.stdout) as AuditRow[]).every((r) => r.state !== "NonCompliant")).to.be.true;
  });

  it("names a workspace that does not exist on stderr and exits 1", () => {
    const run = audit("audit-report", "no-such-workspace", "-o", "json");
    expect(run.status).to.equal(1);
    expect(run.stderr).to.equal('sws: secureworkspace "no-such-workspace" not found\n');
    expect(ours(JSON.parse(run.stdout) as AuditRow[]).length).to.be.greaterThan(0);
  });

  it("-o oscal: an assessment-results document compliance-trestle accepts, a finding per judged control", () => {
    const run = audit("audit-report", "audit-legacy", "-o", "oscal", "--oscal-seed", "it");
    expect(run.stderr).to.equal("");
    expect(run.status, "audit-legacy is NonCompliant").to.equal(1);
    const rows = JSON.parse(audit("audit-report", "audit-legacy", "-o", "json").stdout) as AuditRow[];
    const judged = rows.filter((r) => r.state === "Compliant" || r.state === "NonCompliant");
    const dir = mkdtempSync(path.join(os.tmpdir(), "sws-oscal-it-"));
    try {
      const file = path.join(dir, "assessment-results.json");
      writeFileSync(file, run.stdout);
      const verdict = validateWithTrestle(file);
      expect(verdict.error).to.equal(undefined);
      expect(verdict).to.include({ valid: true, oscalVersionSupported: true, observations: rows.length });
      expect(verdict.findings).to.have.length(judged.length);
      const legacySc7 = verdict.findings?.find(
        (f) => f.target === "sc-7_smt" && f.title.includes("workspace audit-legacy"),
      );
      expect(legacySc7?.state).to.equal("not-satisfied");
      const reportSc7 = verdict.findings?.find(
        (f) => f.target === "sc-7_smt" && f.title.includes("workspace audit-report"),
      );
      expect(reportSc7?.state).to.equal("satisfied");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // The evidence the operator wrote is in the document.
    const doc = JSON.parse(run.stdout) as {
      "assessment-results": {
        results: Array<{ observations: Array<{ "relevant-evidence": Array<{ description: string }> }> }>;
      };
    };
    const evidence = doc["assessment-results"].results[0]?.observations.flatMap((o) =>
      o["relevant-evidence"].map((e) => e.description),
    );
    expect(evidence?.some((e) => e.includes("NetworkPolicy/sws-default-deny"))).to.be.true;
  });

  it("refuses an unknown output format with one line and exit 2, before contacting the cluster", () => {
    const run = audit("-o", "yaml");
    expect(run.status).to.equal(2);
    expect(run.stdout).to.equal("");
    expect(run.stderr.trim().split("\n")).to.have.length(1);
    expect(run.stderr).to.contain("-o must be one of table, json, markdown, oscal");
  });
});
