/**
 * The Kubernetes Multi-Tenancy Benchmarks (kubectl-mtb, kubernetes-sigs/multi-tenancy, 18 checks)
 * against two example workspaces on the real local cluster: the operator running under its own
 * ServiceAccount token, config/'s admission policies (tamper protection, operator confinement,
 * tenant guardrails) in force, each tenant's user bound to the admin role in its namespace.
 *
 * Tenant A is examples/full-quota.yaml (the fairness checks look at tenant A's quota); tenant B is
 * examples/team-quota.yaml with an admin binding for its user added (kubectl-mtb impersonates a
 * user without groups, and the example binds groups). kubectl-mtb is built from source by
 * test/tools/kubectl-mtb.sh (not on the Go module proxy: see there), hence its own suite and
 * `make test-mtb`, outside `make test`.
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { expect } from "chai";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { testEnv } from "../harness/test-env.js";
import { installAdmissionPolicies, removeAdmissionPolicies } from "../integration/support/admission.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "../integration/support/operator.js";
import { examples, waitReady } from "../integration/support/workspaces.js";

const TENANT_A = {
  user: "tenant-full-quota-admin",
  namespace: "tenant-full-quota",
  example: "full-quota.yaml",
};
const TENANT_B = { user: "team-quota-admin", namespace: "team-quota-dev", example: "team-quota.yaml" };

/** An example workspace, with an admin binding for `user` when the example has none. */
function tenantWorkspace(file: string, user: string): SecureWorkspace {
  const found = examples().find((e) => e.file === file);
  if (!found) throw new Error(`examples/${file} not found`);
  const ws = structuredClone(found.ws);
  const bindings = ws.spec.rbac?.bindings ?? [];
  const bound = bindings.some(
    (b) => b.role === "admin" && b.subjects.some((s) => s.kind === "User" && s.name === user),
  );
  if (!bound)
    ws.spec.rbac = { bindings: [...bindings, { role: "admin", subjects: [{ kind: "User", name: user }] }] };
  return ws;
}

/** One result row of kubectl-mtb's closing table. */
interface MtbRow {
  readonly id: string;
  readonly test: string;
  readonly result: string;
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;]*m/g;

/** The rows of kubectl-mtb's closing table (`| NO | ID | TEST | RESULT |`), colours removed. */
export function parseReport(text: string): MtbRow[] {
  return text
    .replace(ANSI, "")
    .split("\n")
    .filter((l) => /^\|\s*\d+\s*\|\s*MTB-/.test(l))
    .map((l) => l.split("|").map((c) => c.trim()))
    .map((cells) => ({ id: cells[2] ?? "", test: cells[3] ?? "", result: cells[4] ?? "" }));
}

/** kubectl-mtb's closing table only (the run's log before it is long), colours removed. */
function table(text: string): string {
  const plain = text.replace(ANSI, "");
  const start = plain.indexOf("+-----");
  return start < 0 ? plain : plain.slice(start).trim();
}

/** Runs every benchmark with tenant `a` as the tenant under test and `b` as the other tenant. */
function runBenchmarks(mtb: string, a: typeof TENANT_A, b: typeof TENANT_B): { rows: MtbRow[]; out: string } {
  const run = spawnSync(
    mtb,
    [
      "run",
      "benchmarks",
      "-n",
      `${a.namespace},${b.namespace}`,
      "--as",
      `${a.user},${b.user}`,
      "-l",
      "app.kubernetes.io/managed-by=secure-workspace-operator",
    ],
    { encoding: "utf8", env: { ...process.env, KUBECONFIG: testEnv().kubeconfigPath }, timeout: 600_000 },
  );
  const out = `${run.stdout}${run.stderr}`;
  return { rows: parseReport(run.stdout), out };
}

describe("Kubernetes Multi-Tenancy Benchmarks (kubectl-mtb)", function () {
  this.timeout(900_000);
  let admin: TestKubeClient;
  let operator: RunningOperator | undefined;
  let mtb = "";

  before(async () => {
    mtb = execFileSync(path.join(repoRoot(), "test", "tools", "kubectl-mtb.sh"), {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await startOperator();
    await installAdmissionPolicies();
    for (const t of [TENANT_A, TENANT_B]) {
      const ws = tenantWorkspace(t.example, t.user);
      await admin.apply(ws as unknown as KubeObject);
      await waitReady(admin, ws.metadata.name);
    }
  });

  after(async () => {
    await removeAdmissionPolicies();
    await operator?.stop();
    admin?.close();
  });

  it("all 18 benchmarks pass with examples/full-quota.yaml as the tenant under test", () => {
    const { rows, out } = runBenchmarks(mtb, TENANT_A, TENANT_B);
    console.log(table(out));
    expect(rows, out).to.have.length(18);
    expect(
      rows.filter((r) => r.result !== "Passed").map((r) => `${r.id} ${r.test}: ${r.result}`),
      out,
    ).to.deep.equal([]);
    expect(out.replace(ANSI, "")).to.include("18 Passed | 0 Failed | 0 Skipped | 0 Errors");
  });

  it("the fairness checks fail for a tenant whose quota is partial (examples/team-quota.yaml): the benchmark discriminates", () => {
    const { rows, out } = runBenchmarks(mtb, TENANT_B, TENANT_A);
    expect(rows, out).to.have.length(18);
    expect(
      rows.filter((r) => r.result !== "Passed").map((r) => r.id),
      out,
    ).to.deep.equal(["MTB-PL1-CC-FNS-1", "MTB-PL1-CC-FNS-2"]);
  });
});
