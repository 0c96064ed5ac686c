/**
 * Fault: kube-apiserver and etcd SIGKILLed together mid-convergence, down for a random while,
 * then restarted (etcd first) with the same data. The operator runs as its own process, without
 * leader election (a leader that cannot renew for renewDeadline exits by design, as client-go's
 * do; that path is the leader-failover scenario) and with the periodic resync OFF, so recovery
 * can only come from its informers re-listing and re-watching: it must converge with the same
 * PID, never restarted. Each trial ends with the exact final-state check.
 */
import { expect } from "chai";
import type { LocalCluster } from "../harness/local-cluster.js";
import { testEnv } from "../harness/test-env.js";
import { installIstioCrds } from "../integration/support/istio.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import type { TestKubeClient } from "../support/test-client.js";
import { sleep, waitFor } from "../support/wait.js";
import { expectConvergedExactly } from "./support/final-state.js";
import {
  forbiddenLines,
  type LogLine,
  startFaultOperator,
  writeOperatorKubeconfig,
  type OperatorProcess,
} from "./support/operator-process.js";
import {
  applyAll,
  cleanup,
  expectWatchesLive,
  namespacesOf,
  Rng,
  Scoreboard,
  trialCount,
  trialSeed,
  trialWorkspaces,
  waitForProgress,
} from "./support/trials.js";

/** Kills the control plane and brings it back: etcd, then kube-apiserver, then the controller-manager. */
async function crashAndRestart(cluster: LocalCluster, downMs: number): Promise<void> {
  await Promise.all([cluster.kill("apiserver"), cluster.kill("etcd"), cluster.kill("controller-manager")]);
  await sleep(downMs);
  await cluster.startEtcd();
  await cluster.startApiServer();
  cluster.startControllerManager();
}

describe("fault: API server and etcd SIGKILLed mid-convergence", function () {
  const board = new Scoreboard("1 api-server+etcd SIGKILL/restart");
  let cluster: LocalCluster | undefined;
  let admin: TestKubeClient;
  let operator: OperatorProcess | undefined;
  /**
   * From each kill until the restarted server's /readyz answered 200 (plus 2 s for answers already
   * on their way): a kube-apiserver serves requests before its RBAC caches are synced, so a 403 then
   * is the restart, not a permission the ClusterRole lacks.
   */
  const restarting: Array<{ fromMs: number; toMs: number }> = [];
  const duringRestart = (line: LogLine): boolean => {
    const at = typeof line["timestamp"] === "string" ? Date.parse(line["timestamp"]) : Number.NaN;
    return restarting.some((w) => at >= w.fromMs && at <= w.toMs);
  };

  before(async function () {
    cluster = testEnv().cluster;
    // Killing the control plane needs the cluster the harness started (not SWS_TEST_KUBECONFIG's).
    if (!cluster) this.skip();
    await installOperatorPrerequisites();
    await installIstioCrds();
    admin = adminClient();
    operator = await startFaultOperator({
      kubeconfig: await writeOperatorKubeconfig("apiserver-restart.kubeconfig"),
      name: "apiserver-restart",
    });
  });

  after(async () => {
    console.log(board.summary());
    admin?.close();
    if (operator) {
      await operator.stop();
      expect(
        forbiddenLines(operator).filter((l) => !duringRestart(l)),
        "the operator's ClusterRole lacks a permission",
      ).to.deep.equal([]);
    }
  });

  for (let trial = 1; trial <= trialCount(); trial++) {
    it(`trial ${trial}: the same operator process converges exactly once the server is back`, async () => {
      const c = cluster as LocalCluster;
      const op = operator as OperatorProcess;
      const seed = trialSeed(1, trial);
      const rng = new Rng(seed);
      const workspaces = trialWorkspaces(`f1t${trial}`, seed);
      const names = workspaces.map((w) => w.metadata.name);
      await board.trial(`trial ${trial} (seed ${seed})`, async () => {
        const pid = op.pid;
        try {
          await applyAll(admin, workspaces);
          const progress = await waitForProgress(admin, workspaces, rng.next() * 0.8);
          const downMs = rng.int(200, 4000);
          const fromMs = Date.now();
          await crashAndRestart(c, downMs);
          // Waits until the admin client can talk to the restarted server before judging anything.
          await waitFor(async () => (await c.get("/readyz")).status === 200, { timeoutMs: 60_000 });
          restarting.push({ fromMs, toMs: Date.now() + 2_000 });
          const report = await expectConvergedExactly(admin, names, { timeoutMs: 240_000 });
          expect(op.alive, `operator exited: ${JSON.stringify(op.exit)}\n${op.tail()}`).to.equal(true);
          expect(op.pid).to.equal(pid);
          const restored = await expectWatchesLive(admin, workspaces);
          await expectConvergedExactly(admin, names);
          return `killed at ${progress} objects, down ${downMs} ms, ${report.objects} objects exact; watch restored ${restored}`;
        } finally {
          await cleanup(admin, names, namespacesOf(workspaces), (l) => console.log(`      ${l}`));
        }
      });
    });
  }
});
