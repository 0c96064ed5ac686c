/**
 * Fault: another client keeps rewriting a managed object. A writer (the admin, its own field
 * manager) merge-patches a workspace's sws-default-deny every 50 ms for ~5 s, each time adding
 * an allow-all ingress rule (a new port each time, so every write is a real change). The operator
 * must win once the writer stops, without a hot loop, say so in an Event, and go quiet.
 *
 * The bound on work: each foreign write is one watch event, which wakes at most one reconcile
 * (the queue de-duplicates a key that is already waiting); that reconcile reverts the write and
 * adds it to status, and the watch events of the revert and of the status write wake at most two
 * more, which find the workspace in sync. So a fight costs at most 3 reconciles and 1 apply per
 * foreign write (measured: about 2.7, as some wake-ups coalesce); the test allows 3 per write
 * plus 20. A hot loop shows up as work beyond that, as retries
 * (workqueue_retries_total: a correction that meets a newer version than it judged reads it and
 * writes again within the pass, so there should be none), or as reconciles continuing after the writer has stopped (the quiet-period check).
 */
import { expect } from "chai";
import { NAMES } from "../../src/api/constants.js";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { installIstioCrds } from "../integration/support/istio.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import { getWorkspace } from "../integration/support/workspaces.js";
import { sleep, waitFor } from "../support/wait.js";
import { checkFinalState, expectConvergedExactly } from "./support/final-state.js";
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
  Scoreboard,
  trialCount,
  trialSeed,
  trialWorkspaces,
} from "./support/trials.js";

const NP = resourceOfKind("NetworkPolicy");
const EVENT = resourceOfKind("Event");
const WRITER_MS = 5_000;
const WRITER_INTERVAL_MS = 50;
/** How long the operator must stay idle after winning (reconciles and applies unchanged). */
const QUIET_MS = 3_000;

/** The operator's work counters. */
async function work(op: OperatorProcess): Promise<{ reconciles: number; retries: number; applies: number }> {
  const text = await op.metricsText();
  return {
    reconciles: sumMetric(text, "controller_runtime_reconcile_total"),
    retries: sumMetric(text, "workqueue_retries_total"),
    applies: sumMetric(text, "secureworkspace_api_requests_total", { verb: "apply" }),
  };
}

/** A workspace that denies both directions and allows DNS (so both policies exist), two namespaces. */
function fightWorkspace(prefix: string, seed: number): SecureWorkspace {
  const [ws] = trialWorkspaces(prefix, seed, { count: 1, maxNamespaces: 2 });
  if (!ws) throw new Error("no workspace generated");
  const networkPolicy = {
    ...ws.spec.networkPolicy,
    defaultDeny: ["Ingress" as const, "Egress" as const],
    allowDNS: true,
  };
  return { ...ws, spec: { ...ws.spec, networkPolicy } };
}

/** Events about a workspace with a reason. */
async function eventsFor(admin: TestKubeClient, workspace: string, reason: string): Promise<KubeObject[]> {
  const list = await admin.list(EVENT, { namespace: "default" });
  return list.items.filter(
    (e) => (e["regarding"] as { name?: string } | undefined)?.name === workspace && e["reason"] === reason,
  );
}

describe("fault: another client keeps rewriting a managed object", function () {
  const board = new Scoreboard("4 conflicting writer on sws-default-deny");
  let admin: TestKubeClient;
  let operator: OperatorProcess;

  before(async () => {
    await installOperatorPrerequisites();
    await installIstioCrds();
    admin = adminClient();
    operator = await startFaultOperator({
      kubeconfig: await writeOperatorKubeconfig("conflicting-writes.kubeconfig"),
      name: "conflicting-writes",
    });
  });

  after(async () => {
    console.log(board.summary());
    admin?.close();
    if (operator) {
      await operator.stop();
      expect(forbiddenLines(operator), "the operator's ClusterRole lacks a permission").to.deep.equal([]);
    }
  });

  for (let trial = 1; trial <= trialCount(); trial++) {
    it(`trial ${trial}: the operator wins after the writer stops, bounded work, an Event, then quiet`, async () => {
      const seed = trialSeed(4, trial);
      const ws = fightWorkspace(`f4t${trial}`, seed);
      const name = ws.metadata.name;
      const ns = ws.spec.namespaces[0]?.name ?? "";
      await board.trial(`trial ${trial} (seed ${seed})`, async () => {
        try {
          await applyAll(admin, [ws]);
          await expectConvergedExactly(admin, [name]);
          const before = await work(operator);
          let writes = 0;
          const stopAt = Date.now() + WRITER_MS;
          while (Date.now() < stopAt) {
            const allowAll = { from: [{ ipBlock: { cidr: "0.0.0.0/0" } }], ports: [{ port: 1000 + writes }] };
            await admin.mergePatch(NP, NAMES.defaultDeny, { spec: { ingress: [allowAll] } }, ns);
            writes++;
            await sleep(WRITER_INTERVAL_MS);
          }
          const report = await expectConvergedExactly(admin, [name]);
          // Quiet: once it has won, nothing wakes the loop, so the counters stand still.
          let settled = await work(operator);
          await waitFor(
            async () => {
              const a = await work(operator);
              await sleep(QUIET_MS);
              const b = await work(operator);
              settled = b;
              return a.reconciles === b.reconciles && a.applies === b.applies;
            },
            { timeoutMs: 60_000, message: "the operator to go quiet after winning (a hot loop?)" },
          );
          const reconciles = settled.reconciles - before.reconciles;
          const applies = settled.applies - before.applies;
          const retries = settled.retries - before.retries;
          const bound = 3 * writes + 20;
          expect(reconciles, `reconciles for ${writes} foreign writes`).to.be.at.most(bound);
          expect(applies, `applies for ${writes} foreign writes`).to.be.at.most(bound);
          expect(retries, "retries (a conflict is resolved within the pass)").to.be.at.most(10);
          const events = await eventsFor(admin, name, "DriftCorrected");
          expect(events.map((e) => String(e["note"]))).to.include.members([
            `reverted a change to NetworkPolicy/${NAMES.defaultDeny} in ${ns}`,
          ]);
          const live = await getWorkspace(admin, name);
          expect(live?.status?.driftCorrections ?? 0).to.be.greaterThan(0);
          expect(live?.status?.lastDriftCorrection).to.include({
            namespace: ns,
            object: `NetworkPolicy/${NAMES.defaultDeny}`,
          });
          return (
            `${writes} foreign writes -> ${reconciles} reconciles, ${applies} applies, ${retries} retries ` +
            `(bound ${bound}); ${events.length} DriftCorrected Events; driftCorrections ` +
            `${live?.status?.driftCorrections ?? 0}; ${report.objects} objects exact`
          );
        } finally {
          await cleanup(admin, [name], namespacesOf([ws]), (l) => console.log(`      ${l}`));
        }
      });
    });
  }

  /**
   * Drift that only ADDS a key inside spec (found by this suite): a matchLabels entry in the
   * default deny's podSelector (it then isolates only the pods with that label), or an `endPort`
   * on an allowed port (DNS egress to TCP 53 becomes 53-65535). The diff once treated every map
   * as "may hold more keys"; it now compares a NetworkPolicy's spec exactly (diff.ts inSync).
   */
  describe("drift that only adds keys inside spec", () => {
    const ws = fightWorkspace("f4x", trialSeed(4, 0));
    const name = ws.metadata.name;
    const ns = ws.spec.namespaces[0]?.name ?? "";

    before(async () => {
      await applyAll(admin, [ws]);
      await expectConvergedExactly(admin, [name]);
    });

    after(async () => {
      await cleanup(admin, [name], namespacesOf([ws]), (l) => console.log(`      ${l}`));
    });

    /** Waits until the final-state check finds nothing wrong with the named policy. */
    async function expectRestored(policy: string, what: string): Promise<void> {
      let problems: string[] = [];
      await waitFor(
        async () => {
          problems = (await checkFinalState(admin, [name])).problems.filter((p) => p.includes(`/${policy} `));
          return problems.length === 0;
        },
        { timeoutMs: 30_000, intervalMs: 250, message: () => `${what} reverted: ${problems.join("; ")}` },
      );
    }

    it("restores a default-deny policy whose podSelector was narrowed", async () => {
      await admin.mergePatch(
        NP,
        NAMES.defaultDeny,
        { spec: { podSelector: { matchLabels: { only: "these" } } } },
        ns,
      );
      await expectRestored(NAMES.defaultDeny, "podSelector.matchLabels on sws-default-deny");
    });

    it("reverts an endPort that widens the DNS egress port", async () => {
      const live = await admin.get(NP, NAMES.allowDns, ns);
      const spec = live["spec"] as { egress: Array<{ ports: Array<Record<string, unknown>> }> };
      const egress = spec.egress.map((rule) => ({
        ...rule,
        ports: rule.ports.map((p) => (p["protocol"] === "TCP" ? { ...p, endPort: 65535 } : p)),
      }));
      await admin.mergePatch(NP, NAMES.allowDns, { spec: { egress } }, ns);
      await expectRestored(NAMES.allowDns, "endPort on sws-allow-dns");
    });
  });
});
