/**
 * Fault: two operator replicas with leader election (`--leader-elect true`, the default Lease
 * timings: 15 s lease, 10 s renew deadline, 2 s retry; not configurable by flag, so a hand-over
 * takes ~15-20 s and the waits allow for it). The leader is found from the Lease's
 * holderIdentity, mapped to a process by the identity each replica logs in its "started" line,
 * and SIGKILLed mid-convergence; the standby must take the Lease and finish. Before the kill the
 * standby must have written nothing (its request counters show no apply, patch or delete).
 * The killed replica is started again as the next trial's standby.
 */
import { expect } from "chai";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { RESOURCES } from "../../src/api/resources.js";
import { installIstioCrds } from "../integration/support/istio.js";
import {
  adminClient,
  installOperatorPrerequisites,
  OPERATOR_NAMESPACE,
} from "../integration/support/operator.js";
import { waitFor } from "../support/wait.js";
import { expectConvergedExactly } from "./support/final-state.js";
import {
  forbiddenLines,
  startFaultOperator,
  type OperatorProcess,
  sumMetric,
  writeOperatorKubeconfig,
} from "./support/operator-process.js";
import {
  applyAll,
  cleanup,
  namespacesOf,
  Rng,
  Scoreboard,
  trialCount,
  trialSeed,
  trialWorkspaces,
  waitForProgress,
} from "./support/trials.js";

const LEASE = RESOURCES.of("coordination.k8s.io/v1", "Lease");
const LEASE_NAME = "secure-workspace-operator";
/** Verbs of the operator's request metric that change workspaces or their objects. */
const WRITE_VERBS = ["apply", "apply-status", "patch", "delete"];

async function holder(admin: TestKubeClient): Promise<string> {
  const lease = await admin.get<KubeObject & { spec?: { holderIdentity?: string } }>(
    LEASE,
    LEASE_NAME,
    OPERATOR_NAMESPACE,
  );
  return lease.spec?.holderIdentity ?? "";
}

async function writesBy(op: OperatorProcess): Promise<number> {
  const text = await op.metricsText();
  return WRITE_VERBS.reduce(
    (n, verb) => n + sumMetric(text, "secureworkspace_api_requests_total", { verb }),
    0,
  );
}

describe("fault: the leader of two replicas SIGKILLed mid-convergence", function () {
  const board = new Scoreboard("3 leader kill -9, standby takes over");
  let admin: TestKubeClient;
  let kubeconfig = "";
  let replicas: OperatorProcess[] = [];
  const all: OperatorProcess[] = [];

  const identities = new Map<OperatorProcess, string>();

  async function startReplica(): Promise<OperatorProcess> {
    const p = await startFaultOperator({ kubeconfig, name: `replica-${all.length}`, leaderElect: true });
    all.push(p);
    identities.set(p, await p.identity());
    return p;
  }

  /** The replica holding the Lease (waits until one of ours does). */
  async function leader(): Promise<OperatorProcess> {
    let seen = "";
    return waitFor(
      async () => {
        seen = await holder(admin);
        return replicas.find((r) => identities.get(r) === seen && r.alive);
      },
      {
        timeoutMs: 90_000,
        intervalMs: 250,
        message: () => `a live replica to hold the Lease (holder "${seen}")`,
      },
    );
  }

  before(async () => {
    await installOperatorPrerequisites();
    await installIstioCrds();
    admin = adminClient();
    kubeconfig = await writeOperatorKubeconfig("leader-failover.kubeconfig");
    replicas = [await startReplica(), await startReplica()];
    await leader();
  });

  after(async () => {
    console.log(board.summary());
    admin?.close();
    for (const p of all) await p.stop();
    expect(all.flatMap(forbiddenLines), "the operator's ClusterRole lacks a permission").to.deep.equal([]);
  });

  for (let trial = 1; trial <= trialCount(); trial++) {
    it(`trial ${trial}: the standby takes the Lease and converges exactly`, async () => {
      const seed = trialSeed(3, trial);
      const rng = new Rng(seed);
      const workspaces = trialWorkspaces(`f3t${trial}`, seed, { count: 10, maxNamespaces: 4 });
      const names = workspaces.map((w) => w.metadata.name);
      await board.trial(`trial ${trial} (seed ${seed})`, async () => {
        try {
          const first = await leader();
          const standby = replicas.find((r) => r !== first);
          if (!standby) throw new Error("no standby replica");
          await applyAll(admin, workspaces);
          const progress = await waitForProgress(admin, workspaces, rng.next() * 0.8);
          // Read before the kill: once it leads, the standby writes, legitimately.
          const standbyWrites = await writesBy(standby);
          await first.kill();
          expect(standbyWrites, "the standby wrote while it was not the leader").to.equal(0);
          const next = await leader();
          expect(next).to.equal(standby);
          const report = await expectConvergedExactly(admin, names, { timeoutMs: 240_000 });
          expect(
            standby.alive,
            `standby exited: ${JSON.stringify(standby.exit)}\n${standby.tail()}`,
          ).to.equal(true);
          // The killed one comes back as the next standby, as its Deployment would restart it.
          replicas = [standby, await startReplica()];
          return `leader killed at ${progress} objects; ${report.objects} objects exact`;
        } finally {
          await cleanup(admin, names, namespacesOf(workspaces), (l) => console.log(`      ${l}`));
          // Whatever happened, the next trial starts with two live replicas.
          replicas = replicas.filter((r) => r.alive);
          while (replicas.length < 2) replicas.push(await startReplica());
        }
      });
    });
  }
});
