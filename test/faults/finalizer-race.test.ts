/**
 * Found by this suite (operator logs of every scenario's cleanup): deleting a workspace often
 * costs a failed reconcile. finalize() removes the finalizer with a server-side apply of a bare
 * workspace stub, but does not record that write in the read-your-writes cache. The deletes it
 * just made wake the same key again, and that run still sees the cached workspace with its
 * finalizer, so it finalizes a second time and applies the stub to an object the server has
 * already removed. A server-side apply of a missing object is a create: the API server refuses it
 * only because the CRD requires `spec` ("spec: Required value", 422), and the key is retried with
 * back-off. Were `spec` ever optional, the operator would re-create the workspace it just deleted.
 */
import { expect } from "chai";
import type { KubeClient } from "../../src/kube/client.js";
import { adminClient, installOperatorPrerequisites } from "../integration/support/operator.js";
import { expectConvergedExactly } from "./support/final-state.js";
import { OperatorProcess, writeOperatorKubeconfig } from "./support/operator-process.js";
import { applyAll, BASE_SEED, cleanup, namespacesOf, trialWorkspaces } from "./support/trials.js";

describe("deleting workspaces (finalizer removal)", function () {
  let admin: KubeClient;
  let operator: OperatorProcess;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await OperatorProcess.start({
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
