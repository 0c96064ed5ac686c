/**
 * Fault: a slow and erroring API. The operator (its own process, resync off) reaches the API
 * server only through a loopback HTTPS proxy (support/fault-proxy.ts: an HTTP-level fake, since
 * a real server does not produce 500/429 bursts on demand) that, mid-convergence, goes through
 * phases in a random order: every request and watch chunk delayed, half the requests answered
 * 500, most answered 429 (Retry-After: 1), every connection reset (TCP RST, watches included).
 * A new group of workspaces arrives with each phase, so every fault meets work in progress (the
 * trial checks the faults really reached the operator). Then the proxy passes everything again. The operator must not crash (same PID), must retry with
 * back-off (bounded retries), must converge exactly after, and its watches must work again.
 *
 * The retry bound: a key's retry delay starts at 5 ms and doubles per consecutive failure, so
 * during F ms of faults one failure streak holds at most log2(F / 5 ms) + 2 retries. Runs woken
 * by watch events can fail too, and each watch event comes from a write that got through, so a
 * key adds at most one failure per desired object. Bound per key: log2(F / 5) + 2 + objects + 10
 * (slack for phase changes). A retry loop without back-off would do thousands.
 */
import { expect } from "chai";
import { desiredState } from "../../src/baseline/index.js";
import type { TestKubeClient } from "../support/test-client.js";
import type { LocalCluster } from "../harness/local-cluster.js";
import { testEnv } from "../harness/test-env.js";
import { installIstioCrds } from "../integration/support/istio.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import { sleep } from "../support/wait.js";
import { FaultProxy, type ProxyMode } from "./support/fault-proxy.js";
import { expectConvergedExactly } from "./support/final-state.js";
import {
  forbiddenLines,
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

const PHASE_MS = 3_000;

/** The fault phases of one trial, shuffled. */
function phases(rng: Rng): ProxyMode[] {
  const all: ProxyMode[] = [
    { kind: "delay", ms: rng.int(100, 500) },
    { kind: "error", status: 500, fraction: 0.5 },
    { kind: "error", status: 429, fraction: 0.8 },
    { kind: "reset" },
  ];
  // A uniform shuffle: draw the phases one by one without replacement.
  const out: ProxyMode[] = [];
  while (all.length > 0) out.push(...all.splice(rng.int(0, all.length - 1), 1));
  return out;
}

const describeMode = (m: ProxyMode): string =>
  m.kind === "delay" ? `delay ${m.ms}ms` : m.kind === "error" ? `${m.status}x${m.fraction}` : m.kind;

describe("fault: slow and erroring API (HTTPS fault proxy in front of the server)", function () {
  const board = new Scoreboard("5 slow/500/429/reset API via proxy");
  let cluster: LocalCluster | undefined;
  let admin: TestKubeClient;
  let proxy: FaultProxy | undefined;
  let operator: OperatorProcess | undefined;

  before(async function () {
    cluster = testEnv().cluster;
    // The proxy serves the API server's own certificate, which only the harness's cluster exposes.
    if (!cluster) this.skip();
    await installOperatorPrerequisites();
    await installIstioCrds();
    admin = adminClient();
    proxy = await FaultProxy.start(cluster.server, `${cluster.dir}/certs`, cluster.caPem);
    operator = await startFaultOperator({
      kubeconfig: await writeOperatorKubeconfig("slow-api.kubeconfig", proxy.url),
      name: "slow-api",
    });
  });

  after(async () => {
    console.log(board.summary());
    admin?.close();
    if (operator) {
      await operator.stop();
      expect(forbiddenLines(operator), "the operator's ClusterRole lacks a permission").to.deep.equal([]);
    }
    await proxy?.close();
  });

  for (let trial = 1; trial <= trialCount(); trial++) {
    it(`trial ${trial}: no crash, bounded retries, exact convergence once the API behaves`, async () => {
      const op = operator as OperatorProcess;
      const px = proxy as FaultProxy;
      const seed = trialSeed(5, trial);
      const rng = new Rng(seed);
      const workspaces = trialWorkspaces(`f5t${trial}`, seed, { count: 8 });
      const names = workspaces.map((w) => w.metadata.name);
      await board.trial(`trial ${trial} (seed ${seed})`, async () => {
        const pid = op.pid;
        try {
          const retriesBefore = await op.metric("workqueue_retries_total");
          const statsBefore = { ...px.stats };
          // One group of workspaces per phase, applied as the phase starts (the admin talks to the
          // server directly), so the operator has work to do under every fault, not only the first.
          const plan = phases(rng);
          const per = Math.ceil(workspaces.length / plan.length);
          const groups = plan.map((_, i) => workspaces.slice(i * per, (i + 1) * per));
          await applyAll(admin, groups[0] ?? []);
          const progress = await waitForProgress(admin, groups[0] ?? [], rng.next() * 0.5);
          try {
            for (const [i, mode] of plan.entries()) {
              px.setMode(mode);
              if (i > 0) await applyAll(admin, groups[i] ?? []);
              await sleep(PHASE_MS);
            }
          } finally {
            px.setMode({ kind: "pass" });
          }
          const report = await expectConvergedExactly(admin, names, { timeoutMs: 240_000 });
          expect(op.alive, `operator exited: ${JSON.stringify(op.exit)}\n${op.tail()}`).to.equal(true);
          expect(op.pid).to.equal(pid);
          const restored = await expectWatchesLive(admin, workspaces);
          await expectConvergedExactly(admin, names);

          const faultMs = plan.length * PHASE_MS;
          const perKey = (ws: (typeof workspaces)[number]): number =>
            Math.ceil(Math.log2(faultMs / 5)) + 2 + desiredState(ws).length + 10;
          const bound = workspaces.reduce((n, ws) => n + perKey(ws), 0);
          const retries = (await op.metric("workqueue_retries_total")) - retriesBefore;
          expect(retries, "workqueue retries").to.be.at.most(bound);
          const injected = {
            errors: px.stats.errors - statsBefore.errors,
            resets: px.stats.resets - statsBefore.resets,
            delayed: px.stats.delayed - statsBefore.delayed,
          };
          // The faults must have reached the operator, or the trial proved nothing.
          expect(injected.errors, "injected 500/429 answers").to.be.greaterThan(0);
          expect(injected.resets, "reset connections").to.be.greaterThan(0);
          return (
            `faults at ${progress} objects: ${plan.map(describeMode).join(" -> ")}; proxy answered ` +
            `${injected.errors} errors, reset ${injected.resets} connections, delayed ${injected.delayed}; ` +
            `${retries} retries (bound ${bound}); ${report.objects} objects exact; watch restored ${restored}`
          );
        } finally {
          px.setMode({ kind: "pass" });
          await cleanup(admin, names, namespacesOf(workspaces), (l) => console.log(`      ${l}`));
        }
      });
    });
  }
});
