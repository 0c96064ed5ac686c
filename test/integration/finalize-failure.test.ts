/**
 * A workspace whose deletion cannot finish says so where a user looks: a platform team's admission
 * policy forbids deleting one of its namespaces (deletionPolicy Delete), so the operator's delete is
 * refused. Status shows Ready=False, reason FinalizeFailed, with the server's refusal, and a Warning
 * Event names it; nothing is forced. Once the policy is gone the deletion completes by itself.
 */
import { expect } from "chai";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { waitFor } from "../support/wait.js";
import { createIfAbsent, refusal } from "./support/admission.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import { condition, getObject, getWorkspace, waitReady, workspace } from "./support/workspaces.js";

const WS = "ff-workspace";
const KEPT = "ff-kept-data";
const PROBE = "ff-kept-probe";
const POLICY = "sws-e2e-namespaces-kept";
const NAMESPACE = resourceOfKind("Namespace");

describe("a deletion the cluster refuses is reported, not hidden (real API server)", function () {
  this.timeout(300_000);
  let admin: TestKubeClient;
  let operator: RunningOperator;
  const probes: string[] = [];

  async function keepNamespaces(): Promise<void> {
    await admin.apply({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: POLICY },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: {
          resourceRules: [
            { apiGroups: [""], apiVersions: ["v1"], resources: ["namespaces"], operations: ["DELETE"] },
          ],
        },
        validations: [
          {
            expression: "!oldObject.metadata.name.startsWith('ff-kept')",
            reason: "Forbidden",
            message: "ff-kept* namespaces hold data the platform team keeps",
          },
        ],
      },
    });
    await admin.apply({
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: POLICY },
      spec: { policyName: POLICY, validationActions: ["Deny"] },
    });
    // In force once a dry-run delete of a probe namespace is refused. Each try uses a namespace never
    // deleted before: seen here, once a namespace's delete was admitted (even as a dry run) before
    // the policy was in force, later deletes of that namespace stayed admitted.
    await waitFor(
      async () => {
        const probe = `${PROBE}-${String(probes.length)}`;
        probes.push(probe);
        await createIfAbsent(admin, { apiVersion: "v1", kind: "Namespace", metadata: { name: probe } });
        const refused = await refusal(admin.delete(NAMESPACE, probe, undefined, { dryRun: true })).catch(
          () => undefined,
        );
        return refused?.statusCode === 403;
      },
      { timeoutMs: 60_000, intervalMs: 500, message: "the namespace-keeping policy is in force" },
    );
  }

  async function allowDeletes(): Promise<void> {
    for (const kind of ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"])
      await admin.delete(resourceOfKind(kind), POLICY);
  }

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await startOperator({ workers: 2 });
  });

  after(async () => {
    await allowDeletes();
    for (const probe of probes) await admin.delete(NAMESPACE, probe);
    await operator?.stop();
    admin?.close();
  });

  it("shows Ready=False FinalizeFailed with the refusal and a Warning Event, then finishes once allowed", async () => {
    await admin.apply(workspace(WS, { namespaces: [{ name: KEPT }], deletionPolicy: "Delete" }));
    const live = await waitReady(admin, WS);
    await keepNamespaces();

    await admin.delete(resourceOfKind("SecureWorkspace"), WS);

    const stuck = await waitFor(
      async () => {
        const ws = await getWorkspace(admin, WS);
        return condition(ws, "Ready")?.reason === "FinalizeFailed" ? ws : undefined;
      },
      { timeoutMs: 120_000, message: "Ready reason FinalizeFailed" },
    );
    const ready = condition(stuck, "Ready");
    expect(ready?.status).to.equal("False");
    expect(ready?.message).to.contain(KEPT).and.to.contain("platform team keeps");
    const events = await admin.list<
      KubeObject & { reason?: string; type?: string; regarding?: { uid?: string } }
    >(resourceOfKind("Event"), { namespace: "default" });
    const warning = events.items.find(
      (e) => e.reason === "FinalizeFailed" && e.regarding?.uid === live.metadata.uid,
    );
    expect(warning?.type).to.equal("Warning");
    // Nothing was forced: the namespace and the workspace are both still there.
    expect(await getObject(admin, "Namespace", undefined, KEPT)).to.not.equal(undefined);

    await allowDeletes();

    await waitFor(async () => (await getWorkspace(admin, WS)) === undefined, {
      timeoutMs: 240_000,
      message: "the workspace's deletion completes once the policy is gone",
    });
    const ns = await getObject(admin, "Namespace", undefined, KEPT);
    expect(ns === undefined || Boolean(ns.metadata["deletionTimestamp"])).to.equal(true);
  });
});
