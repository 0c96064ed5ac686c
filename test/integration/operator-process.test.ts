/**
 * The operator as a product process: health and readiness endpoints, Prometheus metrics under
 * controller-runtime's names, and leader election between two replicas on a real Lease
 * (kill -9 the leader: the standby takes over; SIGTERM: the lease is released, exit 0).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import type { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { OperatorProcess, writeOperatorKubeconfig } from "../support/operator-process.js";
import { waitFor } from "../support/wait.js";
import { adminClient, installOperatorPrerequisites, OPERATOR_NAMESPACE } from "./support/operator.js";
import { waitReady, workspace } from "./support/workspaces.js";

const LEASE = resourceOfKind("Lease");

async function holder(admin: TestKubeClient): Promise<string> {
  try {
    const lease = await admin.get(LEASE, "secure-workspace-operator", OPERATOR_NAMESPACE);
    return ((lease["spec"] as { holderIdentity?: string } | undefined)?.holderIdentity ?? "").trim();
  } catch {
    return "";
  }
}

/** The value of one metric sample in Prometheus text, e.g. `leader_election_master_status{name="x"}`. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return undefined;
}

describe("the operator process: health, metrics, leader election", function () {
  this.timeout(240_000);
  let admin: TestKubeClient;
  const procs: OperatorProcess[] = [];

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
  });
  after(async () => {
    for (const p of procs) await p.kill();
    admin.close();
  });

  it("elects one leader, serves /healthz, /readyz and /metrics, and hands over on kill -9 and SIGTERM", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sws-operator-"));
    const kubeconfig = await writeOperatorKubeconfig(path.join(dir, "kubeconfig"));
    const start = (name: string): Promise<OperatorProcess> =>
      OperatorProcess.start({
        kubeconfig,
        name,
        logFile: path.join(dir, `${name}.log`),
        logLevel: "debug",
        leaderElect: true,
      });
    const a = await start("replica-a");
    const b = await start("replica-b");
    procs.push(a, b);
    const ids = [await a.identity(), await b.identity()];
    for (const p of [a, b]) {
      await waitFor(async () => (await p.http("/readyz")).status === 200, {
        message: "/readyz after cache sync",
      });
      expect((await p.http("/healthz")).status).to.equal(200);
    }
    const first = await waitFor(
      async () => {
        const h = await holder(admin);
        return ids.includes(h) ? h : undefined;
      },
      { message: "a leader holds the Lease" },
    );
    const leader = first === ids[0] ? a : b;
    const standby = leader === a ? b : a;

    await admin.apply(workspace("le-one", { namespaces: [{ name: "le-one" }] }));
    await waitReady(admin, "le-one");
    const metrics = (await leader.http("/metrics")).body;
    expect(sample(metrics, "leader_election_master_status")).to.equal(1);
    expect(sample((await standby.http("/metrics")).body, "leader_election_master_status")).to.equal(0);
    expect(
      sample(metrics, "controller_runtime_reconcile_total", { result: "success" }) ?? 0,
    ).to.be.greaterThan(0);
    expect(sample(metrics, "secureworkspace_api_requests_total", { verb: "apply" }) ?? 0).to.be.greaterThan(
      0,
    );
    expect(sample(metrics, "workqueue_adds_total") ?? 0).to.be.greaterThan(0);
    for (const name of [
      "controller_runtime_reconcile_errors_total",
      "controller_runtime_reconcile_time_seconds_bucket",
      "workqueue_depth",
      "workqueue_retries_total",
      "workqueue_queue_duration_seconds_bucket",
      "secureworkspace_drift_corrections_total",
      "secureworkspace_managed_objects",
      "secureworkspace_workspaces",
      "process_resident_memory_bytes",
    ])
      expect(metrics, name).to.contain(name);

    // kill -9: no release, the standby takes over once the Lease expires, then does the work.
    await leader.kill("SIGKILL");
    const second = ids.find((i) => i !== first) ?? "";
    await waitFor(async () => (await holder(admin)) === second, {
      timeoutMs: 90_000,
      message: "the standby takes the Lease",
    });
    await admin.apply(workspace("le-two", { namespaces: [{ name: "le-two" }] }));
    await waitReady(admin, "le-two");

    // SIGTERM: drain, release the Lease (holder cleared), exit 0.
    expect((await standby.kill("SIGTERM")).code).to.equal(0);
    expect(await holder(admin)).to.equal("");
  });
});
