/**
 * Fault: the operator process SIGKILLed (`kill -9`) at random moments while it converges, and
 * started again (a new process, as a Deployment would). Each trial kills it during the first
 * convergence of fresh workspaces, then changes their specs (drops a namespace, an RBAC binding,
 * a default-deny direction: prunes and a release to do) and kills it again during that change,
 * sometimes a third time. It must end exactly right: no duplicate, no leftover, no pruned object
 * resurrected, no released namespace still labelled as ours.
 */
import { expect } from "chai";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { TestKubeClient } from "../support/test-client.js";
import { installIstioCrds } from "../integration/support/istio.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import { sleep } from "../support/wait.js";
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
  namespacesOf,
  Rng,
  Scoreboard,
  trialCount,
  trialSeed,
  trialWorkspaces,
  waitForProgress,
} from "./support/trials.js";

/** The second generation of a workspace: fewer namespaces, bindings and directions (prunes, a release). */
function shrink(ws: SecureWorkspace, rng: Rng): SecureWorkspace {
  const spec = ws.spec;
  const namespaces = spec.namespaces.length > 1 ? spec.namespaces.slice(0, -1) : spec.namespaces;
  const bindings = spec.rbac?.bindings ?? [];
  const deny = spec.networkPolicy?.defaultDeny ?? ["Ingress", "Egress"];
  return {
    ...ws,
    spec: {
      ...spec,
      namespaces,
      rbac: { bindings: bindings.slice(0, rng.int(0, bindings.length)) },
      networkPolicy: {
        ...spec.networkPolicy,
        defaultDeny: deny.length > 1 ? [deny[rng.int(0, 1)] ?? "Ingress"] : deny,
      },
    },
  };
}

describe("fault: operator SIGKILLed at random moments during convergence", function () {
  const board = new Scoreboard("2 operator kill -9 and restart");
  let admin: TestKubeClient;
  let kubeconfig = "";
  const processes: OperatorProcess[] = [];

  before(async () => {
    await installOperatorPrerequisites();
    await installIstioCrds();
    admin = adminClient();
    kubeconfig = await writeOperatorKubeconfig("operator-kill.kubeconfig");
  });

  after(async () => {
    console.log(board.summary());
    admin?.close();
    for (const p of processes) await p.stop();
    const forbidden = processes.flatMap(forbiddenLines);
    expect(forbidden, "the operator's ClusterRole lacks a permission").to.deep.equal([]);
  });

  async function startOperator(): Promise<OperatorProcess> {
    const p = await startFaultOperator({ kubeconfig, name: `operator-kill-${processes.length}` });
    processes.push(p);
    return p;
  }

  /** Kills the running operator at a random moment of the convergence of `workspaces`; restarts it. */
  async function killSomewhereIn(
    op: OperatorProcess,
    workspaces: readonly SecureWorkspace[],
    rng: Rng,
    byProgress: boolean,
  ): Promise<{ op: OperatorProcess; note: string }> {
    // During creation half the kills wait for a share of the objects to exist; the others (and all
    // kills during a spec change, where most objects exist already) wait a random time, which may
    // also land in the restarted operator's start-up.
    let note: string;
    if (byProgress && rng.next() < 0.5)
      note = `at ${await waitForProgress(admin, workspaces, rng.next() * 0.9)}`;
    else {
      const ms = rng.int(0, 1500);
      await sleep(ms);
      note = `after ${ms} ms`;
    }
    await op.kill();
    expect(op.exit?.signal).to.equal("SIGKILL");
    return { op: await startOperator(), note };
  }

  for (let trial = 1; trial <= trialCount(); trial++) {
    it(`trial ${trial}: converges exactly after kills during creation and during a spec change`, async () => {
      const seed = trialSeed(2, trial);
      const rng = new Rng(seed);
      const first = trialWorkspaces(`f2t${trial}`, seed, { count: 10, maxNamespaces: 4 });
      const names = first.map((w) => w.metadata.name);
      await board.trial(`trial ${trial} (seed ${seed})`, async () => {
        let op = await startOperator();
        const notes: string[] = [];
        try {
          await applyAll(admin, first);
          let killed = await killSomewhereIn(op, first, rng, true);
          op = killed.op;
          notes.push(`create: ${killed.note}`);
          const second = first.map((w) => shrink(w, rng));
          await applyAll(admin, second);
          for (let k = rng.int(1, 2); k > 0; k--) {
            killed = await killSomewhereIn(op, second, rng, false);
            op = killed.op;
            notes.push(`change: ${killed.note}`);
          }
          const report = await expectConvergedExactly(admin, names);
          expect(op.alive, `operator exited: ${JSON.stringify(op.exit)}\n${op.tail()}`).to.equal(true);
          return `killed ${notes.join(", ")}; ${report.objects} objects exact`;
        } finally {
          await cleanup(admin, names, namespacesOf(first), (l) => console.log(`      ${l}`));
          await op.stop();
        }
      });
    });
  }
});
