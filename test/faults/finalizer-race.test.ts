/**
 * Deleting workspaces must cost no failed reconcile. This suite found that it did: finalize()
 * removed the finalizer with a server-side apply of a bare workspace stub without recording the
 * write, so the next run (woken by the deletes it had just made) finalized again and applied the
 * stub to a workspace the server had already removed: a create, refused only because the CRD
 * requires `spec`. Now the stub carries the workspace's uid (a precondition: never a create),
 * and "already gone" (404, or 409 for a uid that no longer matches) counts as done.
 */
import { expect } from "chai";
import type { TestKubeClient } from "../support/test-client.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import { expectConvergedExactly } from "./support/final-state.js";
import {
  startFaultOperator,
  writeOperatorKubeconfig,
  type OperatorProcess,
} from "./support/operator-process.js";
import { applyAll, BASE_SEED, cleanup, namespacesOf, trialWorkspaces } from "./support/trials.js";

describe("deleting workspaces (finalizer removal)", function () {
  let admin: TestKubeClient;
  let operator: OperatorProcess;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await startFaultOperator({
      kubeconfig: await writeOperatorKubeconfig("finalizer-race.kubeconfig"),
      name: "finalizer-race",
    });
  });

  after(async () => {
    admin?.close();
    await operator?.stop();
  });

  it("costs no failed reconcile and never tries to re-create a deleted workspace", async () => {
    const failures: string[] = [];
    for (let round = 1; round <= 2; round++) {
      const workspaces = trialWorkspaces(`f6r${round}`, BASE_SEED + round, { count: 8, istio: false });
      const names = workspaces.map((w) => w.metadata.name);
      await applyAll(admin, workspaces);
      await expectConvergedExactly(admin, names);
      const errorsBefore = await operator.metric("controller_runtime_reconcile_errors_total");
      const linesBefore = operator.lines.length;
      await cleanup(admin, names, namespacesOf(workspaces));
      const errors = (await operator.metric("controller_runtime_reconcile_errors_total")) - errorsBefore;
      const logged = operator.lines
        .slice(linesBefore)
        .filter((l) => l.message === "reconcile failed; retrying with back-off")
        .map((l) => `${String(l["workspace"])}: ${String(l["error"])}`);
      if (errors > 0 || logged.length > 0)
        failures.push(
          `round ${round}: ${errors} reconcile errors deleting ${names.length} workspaces`,
          ...logged,
        );
    }
    expect(failures, failures.slice(0, 6).join("\n")).to.deep.equal([]);
  });
});
