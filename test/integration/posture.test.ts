/**
 * The effective posture in status, against the real API server with the operator under its own
 * token: others' objects in a workspace's namespaces that widen what the spec declares (they
 * predate adoption, or were made where no guardrail stopped them) make their control False and
 * the NIST controls NonCompliant with the object named; objects that stay inside the workspace
 * do not. No admission policy is installed here, so the tenant can create what the guardrails
 * would refuse: this is the detection behind them.
 */
import { expect } from "chai";
import { ADOPT_LABEL } from "../../src/api/constants.js";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { waitFor } from "../support/wait.js";
import { createIfAbsent, serviceAccountClient } from "./support/admission.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import {
  condition,
  deleteWorkspace,
  getWorkspace,
  waitForStatus,
  waitReady,
  workspace,
} from "./support/workspaces.js";

const TENANTS = "po-users";

const nistState = (ws: SecureWorkspace | undefined, id: string): { state?: string; evidence?: string } =>
  ws?.status?.controls?.find((c) => c.id === `NIST-800-53:${id}`) ?? {};

function allowAll(namespace: string, name: string): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}], egress: [{}] },
  };
}

describe("effective posture: others' objects that widen a workspace (real API server)", function () {
  this.timeout(300_000);
  let admin: TestKubeClient;
  let operator: RunningOperator;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: TENANTS } });
    await admin.apply({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "tenant", namespace: TENANTS },
    });
    operator = await startOperator({ workers: 4 });
    await waitFor(() => operator.manager.synced, { message: "operator caches synced" });
  });

  after(async () => {
    admin?.close();
    await operator?.stop();
  });

  it("reports an allow-all policy that predates adoption, names it, and clears once it is gone", async () => {
    await createIfAbsent(admin, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "po-legacy", labels: { [ADOPT_LABEL]: "po-legacy" } },
    });
    await createIfAbsent(admin, allowAll("po-legacy", "legacy-allow-all"));
    await admin.apply(workspace("po-legacy", { namespaces: [{ name: "po-legacy" }] }));
    const ws = await waitForStatus(
      admin,
      "po-legacy",
      (w) => condition(w, "NetworkPolicyEnforced")?.reason === "ForeignPolicyWidensAccess",
      "the allow-all reported",
    );
    expect(condition(ws, "Ready")).to.include({ status: "False", reason: "ForeignPolicyWidensAccess" });
    expect(condition(ws, "NetworkPolicyEnforced")?.message).to.contain(
      "po-legacy/NetworkPolicy/legacy-allow-all",
    );
    for (const id of ["SC-7", "AC-4"]) {
      expect(nistState(ws, id).state).to.equal("NonCompliant");
      expect(nistState(ws, id).evidence).to.contain("legacy-allow-all");
    }
    // The operator never deletes others' objects: it is still there.
    expect(
      (await admin.list(resourceOfKind("NetworkPolicy"), { namespace: "po-legacy" })).items.map(
        (o) => o.metadata.name,
      ),
    ).to.include("legacy-allow-all");
    await admin.delete(resourceOfKind("NetworkPolicy"), "legacy-allow-all", "po-legacy");
    const clean = await waitReady(admin, "po-legacy");
    expect(nistState(clean, "SC-7").state).to.equal("Compliant");
    await deleteWorkspace(admin, "po-legacy");
  });

  it("still reports it after a restart, and the restarted operator rewrites nothing", async () => {
    await createIfAbsent(admin, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "po-restart", labels: { [ADOPT_LABEL]: "po-restart" } },
    });
    await createIfAbsent(admin, allowAll("po-restart", "kept-allow-all"));
    await admin.apply(workspace("po-restart", { namespaces: [{ name: "po-restart" }] }));
    const reported = await waitForStatus(
      admin,
      "po-restart",
      (w) => condition(w, "NetworkPolicyEnforced")?.reason === "ForeignPolicyWidensAccess",
      "the allow-all reported",
    );

    // A new operator finds the policy by listing, not by a watch event: it must keep its rules.
    await operator.stop();
    operator = await startOperator({ workers: 4 });
    await waitFor(() => operator.log.lines.some((l) => l.fields?.["workspace"] === "po-restart"), {
      message: "the restarted operator's pass over po-restart",
    });

    const after = await getWorkspace(admin, "po-restart");
    expect(condition(after, "Ready")).to.include({ status: "False", reason: "ForeignPolicyWidensAccess" });
    expect(nistState(after, "SC-7").evidence).to.contain("kept-allow-all");
    expect(after?.metadata.resourceVersion, "no status write by the restarted operator").to.equal(
      reported.metadata.resourceVersion,
    );
    await admin.delete(resourceOfKind("NetworkPolicy"), "kept-allow-all", "po-restart");
    await waitReady(admin, "po-restart");
    await deleteWorkspace(admin, "po-restart");
  });

  it("reports a tenant's binding of admin to system:authenticated, and not its own inside-the-workspace objects", async () => {
    await admin.apply(
      workspace("po-team", {
        namespaces: [{ name: "po-team-a" }, { name: "po-team-b" }],
        rbac: {
          bindings: [
            { role: "admin", subjects: [{ kind: "ServiceAccount", name: "tenant", namespace: TENANTS }] },
          ],
        },
      }),
    );
    await waitReady(admin, "po-team");
    const tenant = (await serviceAccountClient(admin, TENANTS, "tenant")).client;
    try {
      // Legitimate: an allowance from the workspace's other namespace, and a view binding to a named user.
      await tenant.create({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "from-team-b", namespace: "po-team-a" },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [
            {
              from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "po-team-b" } } }],
            },
          ],
        },
      });
      await tenant.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "alice-view", namespace: "po-team-a" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "User", name: "alice", apiGroup: "rbac.authorization.k8s.io" }],
      });
      // Give the operator time to see both, then check nothing is reported.
      await new Promise((r) => setTimeout(r, 2000));
      const fine = await waitReady(admin, "po-team");
      expect(nistState(fine, "AC-3").state).to.equal("Compliant");
      expect(nistState(fine, "SC-7").state).to.equal("Compliant");

      // The attack: everyone gets admin in the namespace.
      await tenant.create({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "everyone-admin", namespace: "po-team-a" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "admin" },
        subjects: [{ kind: "Group", name: "system:authenticated", apiGroup: "rbac.authorization.k8s.io" }],
      });
      const ws = await waitForStatus(
        admin,
        "po-team",
        (w) => condition(w, "RBACEnforced")?.reason === "ForeignPolicyWidensAccess",
        "the broad binding reported",
      );
      expect(condition(ws, "RBACEnforced")?.message).to.contain("po-team-a/RoleBinding/everyone-admin");
      expect(condition(ws, "RBACEnforced")?.message).to.contain("system:authenticated");
      expect(condition(ws, "RBACEnforced")?.message).to.not.contain("alice-view");
      expect(nistState(ws, "AC-3").state).to.equal("NonCompliant");
      expect(nistState(ws, "AC-6").state).to.equal("NonCompliant");
      expect(condition(ws, "NetworkPolicyEnforced")?.status).to.equal("True");

      // And a policy that opens the namespace to the whole cluster.
      await tenant.create(allowAll("po-team-a", "open-sesame"));
      const both = await waitForStatus(
        admin,
        "po-team",
        (w) => condition(w, "NetworkPolicyEnforced")?.reason === "ForeignPolicyWidensAccess",
        "the allow-all reported",
      );
      expect(condition(both, "NetworkPolicyEnforced")?.message).to.contain("open-sesame");
      expect(condition(both, "NetworkPolicyEnforced")?.message).to.not.contain("from-team-b");
      const events = await admin.list<KubeObject>(resourceOfKind("Event"), { namespace: "default" });
      expect(
        events.items.some(
          (e) =>
            (e["regarding"] as { name?: string } | undefined)?.name === "po-team" &&
            e["reason"] === "ForeignPolicyWidensAccess",
        ),
      ).to.equal(true);

      await admin.delete(resourceOfKind("RoleBinding"), "everyone-admin", "po-team-a");
      await admin.delete(resourceOfKind("NetworkPolicy"), "open-sesame", "po-team-a");
      await waitReady(admin, "po-team");
      expect(condition(await getWorkspace(admin, "po-team"), "RBACEnforced")?.status).to.equal("True");
    } finally {
      tenant.close();
    }
    await deleteWorkspace(admin, "po-team");
  });
});
