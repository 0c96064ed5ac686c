/**
 * The trust boundary, tried as an attacker would, against the real API server with the operator
 * running under its own ServiceAccount token. Each attack runs under a realistic identity (a
 * workspace author who may only write SecureWorkspaces, a namespace creator, a tenant bound admin
 * by a workspace) and shows the attempt refused or truthfully reported, with the legitimate
 * action next to it still working.
 *
 * Admission policies are NOT installed here (see security-admission.test.ts for them), so these
 * tests show what the operator itself decides: a forged label or a pre-created object gets no
 * further than a report. The last block installs both policies and runs the operator's real
 * flows (create, adopt, release) under them.
 */
import { expect } from "chai";
import {
  ADOPT_LABEL,
  ADOPTED_FROM_ANNOTATION,
  NAMES,
  OWNER_UID_ANNOTATION,
} from "../../src/api/constants.js";
import type { SecureWorkspace } from "../../src/api/types.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { ApiError } from "../../src/runtime/errors.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { waitFor } from "../support/wait.js";
import {
  createIfAbsent,
  installAdmissionPolicies,
  refusal,
  removeAdmissionPolicies,
  serviceAccountClient,
} from "./support/admission.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import {
  condition,
  deleteWorkspace,
  getObject,
  getWorkspace,
  waitForStatus,
  waitReady,
  workspace,
} from "./support/workspaces.js";

const USERS = "tb-users";
const AUTHOR = "workspace-author";
const CREATOR = "namespace-creator";
const ATTACKER = "attacker";
const PSA_ENFORCE = "pod-security.kubernetes.io/enforce";

type Labels = Record<string, string>;
const labelsOf = (o: KubeObject | undefined): Labels => o?.metadata.labels ?? {};
const annotationsOf = (o: KubeObject | undefined): Labels => o?.metadata.annotations ?? {};

/** A ClusterRole + binding for one ServiceAccount of the users namespace. */
async function grant(admin: TestKubeClient, sa: string, rules: unknown[]): Promise<void> {
  const name = `tb-${sa}`;
  await admin.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    metadata: { name },
    rules,
  });
  await admin.apply({
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    metadata: { name },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
    subjects: [{ kind: "ServiceAccount", name: sa, namespace: USERS }],
  });
}

/** The Events recorded about a workspace (they live in "default"). */
async function eventsOf(
  admin: TestKubeClient,
  ws: string,
): Promise<Array<{ reason?: string; note?: string }>> {
  const list = await admin.list<KubeObject>(resourceOfKind("Event"), { namespace: "default" });
  return list.items
    .filter((e) => (e["regarding"] as { name?: string } | undefined)?.name === ws)
    .map((e) => ({ reason: e["reason"] as string | undefined, note: e["note"] as string | undefined }));
}

describe("trust boundary: attacks on the operator (real API server, operator's own token)", function () {
  this.timeout(300_000);
  let admin: TestKubeClient;
  let operator: RunningOperator;
  let author: TestKubeClient;
  let creator: TestKubeClient;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: USERS } });
    for (const sa of [AUTHOR, CREATOR, ATTACKER])
      await admin.apply({
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: sa, namespace: USERS },
      });
    // The workspace author may write SecureWorkspaces and nothing else.
    await grant(admin, AUTHOR, [
      {
        apiGroups: ["secureworkspace.io"],
        resources: ["secureworkspaces"],
        verbs: ["get", "list", "create", "update", "patch", "delete"],
      },
    ]);
    // The namespace creator may create (and read) namespaces and nothing else.
    await grant(admin, CREATOR, [{ apiGroups: [""], resources: ["namespaces"], verbs: ["get", "create"] }]);
    author = (await serviceAccountClient(admin, USERS, AUTHOR)).client;
    creator = (await serviceAccountClient(admin, USERS, CREATOR)).client;
    operator = await startOperator({ workers: 4 });
    await waitFor(() => operator.manager.synced, { message: "operator caches synced" });
  });

  after(async () => {
    author?.close();
    creator?.close();
    admin?.close();
    await operator?.stop();
  });

  describe("a workspace author listing an existing namespace", () => {
    it("cannot take it over: nothing is written there until a cluster admin opts it in", async () => {
      // A namespace like argocd: restricted, with a ServiceAccount that holds cluster-wide power.
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "tb-argocd", labels: { [PSA_ENFORCE]: "restricted" } },
      });
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: "application-controller", namespace: "tb-argocd" },
      });
      const before = await getObject(admin, "Namespace", undefined, "tb-argocd");
      await author.apply(
        workspace("tb-grab", {
          namespaces: [{ name: "tb-argocd" }, { name: "tb-grab-new" }],
          podSecurity: { enforce: "privileged" },
          rbac: {
            bindings: [
              { role: "admin", subjects: [{ kind: "ServiceAccount", name: ATTACKER, namespace: USERS }] },
            ],
          },
        }),
      );
      const ws = await waitForStatus(
        admin,
        "tb-grab",
        (w) => condition(w, "Ready")?.reason === "NamespaceConflict",
        "Ready=False NamespaceConflict",
      );
      expect(condition(ws, "Ready")?.status).to.equal("False");
      expect(condition(ws, "Ready")?.message).to.contain(
        `kubectl label namespace tb-argocd ${ADOPT_LABEL}=tb-grab`,
      );
      const entry = ws.status?.namespaces?.find((n) => n.name === "tb-argocd");
      expect(entry?.ready).to.equal(false);
      expect(entry?.message).to.contain("was not created by this workspace");
      // The legitimate part still happens: the namespace it may create holds the baseline.
      expect(ws.status?.namespaces?.find((n) => n.name === "tb-grab-new")?.ready).to.equal(true);
      expect(await getObject(admin, "NetworkPolicy", "tb-grab-new", NAMES.defaultDeny)).to.not.equal(
        undefined,
      );
      // Nothing was written into the existing namespace: same version, no binding for the attacker.
      const after = await getObject(admin, "Namespace", undefined, "tb-argocd");
      expect(after?.metadata.resourceVersion).to.equal(before?.metadata.resourceVersion);
      expect(labelsOf(after)[PSA_ENFORCE]).to.equal("restricted");
      expect(await getObject(admin, "RoleBinding", "tb-argocd", "sws-admin-0")).to.equal(undefined);
      const attacker = (await serviceAccountClient(admin, USERS, ATTACKER)).client;
      try {
        const refused = await refusal(attacker.requestToken("tb-argocd", "application-controller", 600));
        expect(refused.statusCode).to.equal(403);
      } finally {
        attacker.close();
      }
      expect(await eventsOf(admin, "tb-grab")).to.satisfy((events: Array<{ reason?: string }>) =>
        events.some((e) => e.reason === "NamespaceConflict"),
      );
    });

    it("adopts it once a cluster admin opts it in, and gives back what adoption overwrote", async () => {
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "tb-legacy",
          labels: { [PSA_ENFORCE]: "restricted", app: "legacy" },
          annotations: { "team.example/owner": "legacy-team" },
        },
      });
      await author.apply(
        workspace("tb-adopter", {
          namespaces: [{ name: "tb-legacy" }],
          podSecurity: { enforce: "baseline" },
        }),
      );
      await waitForStatus(
        admin,
        "tb-adopter",
        (w) => condition(w, "Ready")?.reason === "NamespaceConflict",
        "not opted in",
      );
      // The cluster admin's opt-in (a plain label change, as kubectl label does).
      await admin.mergePatch(resourceOfKind("Namespace"), "tb-legacy", {
        metadata: { labels: { [ADOPT_LABEL]: "tb-adopter" } },
      });
      const ws = await waitReady(admin, "tb-adopter");
      const adopted = await getObject(admin, "Namespace", undefined, "tb-legacy");
      expect(labelsOf(adopted)).to.include({
        [PSA_ENFORCE]: "baseline",
        "secureworkspace.io/workspace": "tb-adopter",
      });
      expect(annotationsOf(adopted)[OWNER_UID_ANNOTATION]).to.equal(ws.metadata.uid);
      expect(JSON.parse(annotationsOf(adopted)[ADOPTED_FROM_ANNOTATION] ?? "{}")).to.deep.equal({
        labels: { [PSA_ENFORCE]: "restricted" },
        annotations: {},
      });
      expect(await getObject(admin, "NetworkPolicy", "tb-legacy", NAMES.defaultDeny)).to.not.equal(undefined);

      await deleteWorkspace(admin, "tb-adopter");
      const released = await getObject(admin, "Namespace", undefined, "tb-legacy");
      expect(released?.metadata["deletionTimestamp"]).to.equal(undefined);
      expect(labelsOf(released)).to.include({
        [PSA_ENFORCE]: "restricted",
        app: "legacy",
        [ADOPT_LABEL]: "tb-adopter",
      });
      expect(labelsOf(released)).to.not.have.property("secureworkspace.io/workspace");
      expect(annotationsOf(released)).to.include({ "team.example/owner": "legacy-team" });
      expect(annotationsOf(released)).to.not.have.property(OWNER_UID_ANNOTATION);
      expect(annotationsOf(released)).to.not.have.property(ADOPTED_FROM_ANNOTATION);
      expect(await getObject(admin, "NetworkPolicy", "tb-legacy", NAMES.defaultDeny)).to.equal(undefined);
    });

    it("never creates nor adopts a protected namespace, even opted in", async () => {
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "tb-monitoring-system", labels: { [ADOPT_LABEL]: "tb-protected" } },
      });
      await author.apply(
        workspace("tb-protected", {
          namespaces: [{ name: "tb-monitoring-system" }, { name: "tb-new-system" }],
        }),
      );
      const ws = await waitForStatus(
        admin,
        "tb-protected",
        (w) => condition(w, "Stalled")?.status === "True",
        "Stalled",
      );
      expect(condition(ws, "Ready")?.message).to.contain("protected namespaces");
      expect(
        labelsOf(await getObject(admin, "Namespace", undefined, "tb-monitoring-system")),
      ).to.not.have.property("secureworkspace.io/workspace");
      expect(await getObject(admin, "Namespace", undefined, "tb-new-system")).to.equal(undefined);
      await deleteWorkspace(admin, "tb-protected");
    });
  });

  describe("a namespace creator forging the operator's labels (no admission policy installed)", () => {
    it("does not make a namespace owned: the real workspace reports it instead of holding it", async () => {
      await author.apply(workspace("tb-real", { namespaces: [{ name: "tb-real-a" }] }));
      await waitReady(admin, "tb-real");
      // The forgery: a namespace that claims to belong to tb-real.
      await createIfAbsent(creator, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "tb-ghost",
          labels: {
            "app.kubernetes.io/managed-by": "secure-workspace-operator",
            "secureworkspace.io/workspace": "tb-real",
          },
          annotations: { "secureworkspace.io/created-by": "tb-real" },
        },
      });
      await author.apply(workspace("tb-real", { namespaces: [{ name: "tb-real-a" }, { name: "tb-ghost" }] }));
      const ws = await waitForStatus(
        admin,
        "tb-real",
        (w) => condition(w, "Ready")?.reason === "NamespaceConflict",
        "the ghost reported",
      );
      expect(ws.status?.namespaces?.find((n) => n.name === "tb-ghost")?.message).to.contain(
        "was not created by this workspace",
      );
      expect(await getObject(admin, "NetworkPolicy", "tb-ghost", NAMES.defaultDeny)).to.equal(undefined);
      expect(ws.status?.namespaces?.find((n) => n.name === "tb-real-a")?.ready).to.equal(true);
      await deleteWorkspace(admin, "tb-real");
    });
  });

  describe("objects someone else made at the operator's names", () => {
    const NS = "tb-decoy";

    it("are reported as conflicts, never taken over, merged into or counted as drift", async () => {
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: NS, labels: { [ADOPT_LABEL]: "tb-decoy" } },
      });
      // A decoy default deny that selects nothing, and a view binding that really grants edit.
      await createIfAbsent(admin, {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: NAMES.defaultDeny, namespace: NS },
        spec: {
          podSelector: { matchLabels: { decoy: "selects-nothing" } },
          policyTypes: ["Ingress", "Egress"],
        },
      });
      await createIfAbsent(admin, {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "sws-view-0", namespace: NS },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
        subjects: [{ kind: "Group", name: "auditors", apiGroup: "rbac.authorization.k8s.io" }],
      });
      const decoy = await getObject(admin, "NetworkPolicy", NS, NAMES.defaultDeny);
      const binding = await getObject(admin, "RoleBinding", NS, "sws-view-0");
      await author.apply(
        workspace("tb-decoy", {
          namespaces: [{ name: NS }],
          rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "auditors" }] }] },
        }),
      );
      const ws = await waitForStatus(
        admin,
        "tb-decoy",
        (w) =>
          condition(w, "NetworkPolicyEnforced")?.reason === "ForeignObjectConflict" &&
          condition(w, "RBACEnforced")?.reason === "ForeignObjectConflict",
        "both foreign objects reported",
      );
      expect(condition(ws, "Ready")).to.include({ status: "False", reason: "ForeignObjectConflict" });
      expect(condition(ws, "Stalled")?.status).to.equal("True");
      expect(condition(ws, "NetworkPolicyEnforced")?.message).to.contain(
        `${NS}/NetworkPolicy/${NAMES.defaultDeny}`,
      );
      expect(ws.status?.controls?.find((c) => c.id === "NIST-800-53:SC-7")?.state).to.equal("NonCompliant");
      expect(ws.status?.controls?.find((c) => c.id === "NIST-800-53:AC-3")?.state).to.equal("NonCompliant");
      // Left exactly as they were: no label added, no field merged, no drift correction counted.
      await new Promise((r) => setTimeout(r, 2000));
      const decoyAfter = await getObject(admin, "NetworkPolicy", NS, NAMES.defaultDeny);
      expect(decoyAfter?.metadata.resourceVersion).to.equal(decoy?.metadata.resourceVersion);
      expect((await getObject(admin, "RoleBinding", NS, "sws-view-0"))?.metadata.resourceVersion).to.equal(
        binding?.metadata.resourceVersion,
      );
      const later = await getWorkspace(admin, "tb-decoy");
      expect(later?.status?.driftCorrections ?? 0).to.equal(0);
      expect(condition(later, "Ready")?.reason).to.not.equal("InvalidSpec");
      const events = await eventsOf(admin, "tb-decoy");
      expect(events.filter((e) => e.reason === "DriftCorrected")).to.deep.equal([]);
      expect(events.some((e) => e.reason === "ForeignObjectConflict")).to.equal(true);

      // The legitimate way out: a cluster admin removes them, the operator creates its own.
      await admin.delete(resourceOfKind("NetworkPolicy"), NAMES.defaultDeny, NS);
      await admin.delete(resourceOfKind("RoleBinding"), "sws-view-0", NS);
      const fixed = await waitReady(admin, "tb-decoy");
      const own = await getObject(admin, "RoleBinding", NS, "sws-view-0");
      expect(own?.["roleRef"]).to.deep.include({ name: "view" });
      expect(own?.metadata["ownerReferences"]).to.deep.equal([
        {
          apiVersion: "secureworkspace.io/v1alpha1",
          kind: "SecureWorkspace",
          name: "tb-decoy",
          uid: fixed.metadata.uid,
          controller: true,
          blockOwnerDeletion: true,
        },
      ]);
      await deleteWorkspace(admin, "tb-decoy");
    });

    it("keeps its hands off a quota and limits at its names that another controller or another workspace claims", async () => {
      // What the cache keeps of such objects is only their identity and marks (keptOf): the report
      // must still name them and their owner, and they must stay untouched.
      const ns = "tb-decoy-quota";
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: ns, labels: { [ADOPT_LABEL]: "tb-decoy-quota" } },
      });
      // A generous quota controlled by a ConfigMap, and limits claiming another, real workspace as
      // controller (a forgery: ownership is the uid, not the kind). Real owners, so the garbage
      // collector leaves both in place.
      const cm = await admin.apply({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "someone", namespace: ns },
      });
      await author.apply(workspace("tb-decoy-other", { namespaces: [{ name: "tb-decoy-other" }] }));
      const other = await waitReady(admin, "tb-decoy-other");
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: {
          name: NAMES.quota,
          namespace: ns,
          ownerReferences: [
            {
              apiVersion: "v1",
              kind: "ConfigMap",
              name: "someone",
              uid: cm.metadata.uid ?? "",
              controller: true,
            },
          ],
        },
        spec: { hard: { pods: "100000" } },
      });
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: {
          name: NAMES.limits,
          namespace: ns,
          ownerReferences: [
            {
              apiVersion: "secureworkspace.io/v1alpha1",
              kind: "SecureWorkspace",
              name: "tb-decoy-other",
              uid: other.metadata.uid ?? "",
              controller: true,
            },
          ],
        },
        spec: { limits: [{ type: "Container", default: { cpu: "64" } }] },
      });
      const quota = await getObject(admin, "ResourceQuota", ns, NAMES.quota);
      const limits = await getObject(admin, "LimitRange", ns, NAMES.limits);
      await author.apply(
        workspace("tb-decoy-quota", {
          namespaces: [{ name: ns }],
          resourceQuota: { hard: { pods: "10" } },
          limitRange: { default: { cpu: "500m" } },
        }),
      );
      const ws = await waitForStatus(
        admin,
        "tb-decoy-quota",
        (w) =>
          (condition(w, "QuotaEnforced")?.message ?? "").includes("ResourceQuota") &&
          (condition(w, "QuotaEnforced")?.message ?? "").includes("LimitRange"),
        "the quota and limits reported",
      );
      const message = condition(ws, "QuotaEnforced")?.message ?? "";
      expect(message).to.contain(`${ns}/ResourceQuota/${NAMES.quota}`).and.contain("ConfigMap/someone");
      expect(message)
        .to.contain(`${ns}/LimitRange/${NAMES.limits}`)
        .and.contain(`SecureWorkspace/tb-decoy-other (uid ${other.metadata.uid ?? ""})`);
      expect(condition(ws, "Ready")).to.include({ status: "False", reason: "ForeignObjectConflict" });
      await new Promise((r) => setTimeout(r, 2000));
      expect((await getObject(admin, "ResourceQuota", ns, NAMES.quota))?.metadata.resourceVersion).to.equal(
        quota?.metadata.resourceVersion,
      );
      expect((await getObject(admin, "LimitRange", ns, NAMES.limits))?.metadata.resourceVersion).to.equal(
        limits?.metadata.resourceVersion,
      );

      // The legitimate way out still works: once they are gone the operator writes its own.
      await admin.delete(resourceOfKind("ResourceQuota"), NAMES.quota, ns);
      await admin.delete(resourceOfKind("LimitRange"), NAMES.limits, ns);
      await waitReady(admin, "tb-decoy-quota");
      const own = await getObject(admin, "ResourceQuota", ns, NAMES.quota);
      expect(own?.["spec"]).to.deep.include({ hard: { pods: "10" } });
      await deleteWorkspace(admin, "tb-decoy-quota");
      await deleteWorkspace(admin, "tb-decoy-other");
    });

    it("leaves an object that only carries a forged workspace label alone (not pruned), and reports what it opens", async () => {
      await author.apply(workspace("tb-forged", { namespaces: [{ name: "tb-forged" }] }));
      await waitReady(admin, "tb-forged");
      const forged: KubeObject = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: {
          name: "tenant-allow-all",
          namespace: "tb-forged",
          labels: {
            "app.kubernetes.io/managed-by": "secure-workspace-operator",
            "secureworkspace.io/workspace": "tb-forged",
          },
        },
        spec: { podSelector: {}, ingress: [{}] },
      };
      await createIfAbsent(admin, forged);
      // A spec change makes the operator plan (and prune) again.
      await author.apply(
        workspace("tb-forged", { namespaces: [{ name: "tb-forged" }], networkPolicy: { allowDNS: false } }),
      );
      await waitFor(
        async () => (await getObject(admin, "NetworkPolicy", "tb-forged", NAMES.allowDns)) === undefined,
        { message: "its own sws-allow-dns pruned" },
      );
      // Not the workspace's (no ownerReference to it): never deleted, but what it opens is reported.
      const ws = await waitForStatus(
        admin,
        "tb-forged",
        (w) => condition(w, "NetworkPolicyEnforced")?.reason === "ForeignPolicyWidensAccess",
        "the forged allow-all reported",
      );
      expect(condition(ws, "NetworkPolicyEnforced")?.message).to.contain(
        "tb-forged/NetworkPolicy/tenant-allow-all",
      );
      expect(await getObject(admin, "NetworkPolicy", "tb-forged", "tenant-allow-all")).to.not.equal(
        undefined,
      );
      await admin.delete(resourceOfKind("NetworkPolicy"), "tenant-allow-all", "tb-forged");
      await waitReady(admin, "tb-forged");
      await deleteWorkspace(admin, "tb-forged");
    });
  });

  describe("failures are status", () => {
    const POLICY = "tb-refuse-limitranges";

    async function refuseLimitRanges(): Promise<void> {
      await admin.apply({
        apiVersion: "admissionregistration.k8s.io/v1",
        kind: "ValidatingAdmissionPolicy",
        metadata: { name: POLICY },
        spec: {
          failurePolicy: "Fail",
          matchConstraints: {
            resourceRules: [
              {
                apiGroups: [""],
                apiVersions: ["v1"],
                resources: ["limitranges"],
                operations: ["CREATE", "UPDATE"],
              },
            ],
          },
          validations: [
            {
              expression: "!object.metadata.namespace.startsWith('tb-refused')",
              reason: "Forbidden",
              message: "limit ranges are frozen in tb-refused* by the platform team",
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
    }

    async function allowLimitRanges(): Promise<void> {
      for (const kind of ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"])
        await admin.delete(resourceOfKind(kind), POLICY).catch((err: unknown) => {
          if (!(err instanceof ApiError && err.statusCode === 404)) throw err;
        });
    }

    after(allowLimitRanges);

    it("a write refused by an admission policy sets Ready=False with its message, and recovers by itself", async () => {
      await refuseLimitRanges();
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "tb-refused-probe" },
      });
      // The server loads policies asynchronously: wait until it refuses.
      await waitFor(
        async () => {
          try {
            await admin.apply(
              {
                apiVersion: "v1",
                kind: "LimitRange",
                metadata: { name: "probe", namespace: "tb-refused-probe" },
                spec: { limits: [{ type: "Container", default: { cpu: "100m" } }] },
              },
              { dryRun: true },
            );
            return false;
          } catch (err) {
            return err instanceof ApiError && err.serverMessage.includes("frozen");
          }
        },
        { message: "policy in force" },
      );
      await author.apply(
        workspace("tb-refused", {
          namespaces: [{ name: "tb-refused" }],
          limitRange: { default: { cpu: "500m" } },
        }),
      );
      const ws = await waitForStatus(
        admin,
        "tb-refused",
        (w) => condition(w, "Ready")?.reason === "AdmissionRefused",
        "Ready=False AdmissionRefused",
      );
      expect(condition(ws, "Ready")?.status).to.equal("False");
      expect(condition(ws, "Ready")?.message).to.contain("limit ranges are frozen");
      expect(condition(ws, "Ready")?.message).to.contain(`tb-refused/LimitRange/${NAMES.limits}`);
      expect(condition(ws, "Stalled")?.status).to.equal("True");
      expect(condition(ws, "QuotaEnforced")).to.include({ status: "False", reason: "AdmissionRefused" });
      expect(ws.status?.controls?.find((c) => c.id === "NIST-800-53:SC-6")?.state).to.equal("NonCompliant");
      const warning = (await eventsOf(admin, "tb-refused")).find((e) => e.reason === "WriteFailed");
      expect(warning?.note).to.contain("limit ranges are frozen");
      // The rest of the baseline is in place meanwhile.
      expect(await getObject(admin, "NetworkPolicy", "tb-refused", NAMES.defaultDeny)).to.not.equal(
        undefined,
      );

      await allowLimitRanges();
      await waitReady(admin, "tb-refused");
      expect(await getObject(admin, "LimitRange", "tb-refused", NAMES.limits)).to.not.equal(undefined);
      await deleteWorkspace(admin, "tb-refused");
    });

    it("a write refused by RBAC sets Ready=False Forbidden, and recovers once the permission is back", async () => {
      const role = await admin.get<KubeObject>(resourceOfKind("ClusterRole"), "secure-workspace-operator");
      const rules = role["rules"] as Array<{ resources?: string[]; verbs?: string[] }>;
      const without = rules.map((r) =>
        r.resources?.includes("resourcequotas") ? { ...r, verbs: ["get", "list", "watch"] } : r,
      );
      const restore = async (): Promise<void> => {
        await admin.apply({ ...role, metadata: { name: role.metadata.name }, rules });
      };
      try {
        await admin.apply({ ...role, metadata: { name: role.metadata.name }, rules: without });
        await author.apply(
          workspace("tb-forbidden", {
            namespaces: [{ name: "tb-forbidden" }],
            resourceQuota: { hard: { pods: "10" } },
          }),
        );
        const ws = await waitForStatus(
          admin,
          "tb-forbidden",
          (w) => condition(w, "Ready")?.reason === "Forbidden",
          "Ready=False Forbidden",
        );
        expect(condition(ws, "Ready")?.message).to.contain("forbidden");
        expect(condition(ws, "QuotaEnforced")).to.include({ status: "False", reason: "Forbidden" });
      } finally {
        await restore();
      }
      await waitReady(admin, "tb-forbidden");
      await deleteWorkspace(admin, "tb-forbidden");
    });
  });

  describe("under the admission policies of config/", () => {
    before(installAdmissionPolicies);
    after(removeAdmissionPolicies);

    it("creates, adopts and releases namespaces through both policies without a single refusal", async () => {
      const refusedBefore = await operator.answers(403);
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "tb-guarded-old",
          labels: { [PSA_ENFORCE]: "baseline", [ADOPT_LABEL]: "tb-guarded" },
        },
      });
      await author.apply(
        workspace("tb-guarded", {
          namespaces: [{ name: "tb-guarded-new" }, { name: "tb-guarded-old" }],
          rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team-guarded" }] }] },
        }),
      );
      const ws: SecureWorkspace = await waitReady(admin, "tb-guarded");
      expect(
        labelsOf(await getObject(admin, "Namespace", undefined, "tb-guarded-old"))[PSA_ENFORCE],
      ).to.equal("restricted");
      expect(ws.status?.namespaces?.every((n) => n.ready)).to.equal(true);
      // Drop the adopted namespace from the spec: released, with its label put back.
      await author.apply(
        workspace("tb-guarded", {
          namespaces: [{ name: "tb-guarded-new" }],
          rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team-guarded" }] }] },
        }),
      );
      await waitFor(
        async () =>
          labelsOf(await getObject(admin, "Namespace", undefined, "tb-guarded-old"))[PSA_ENFORCE] ===
          "baseline",
        { message: "tb-guarded-old released with its Pod Security label restored" },
      );
      await waitReady(admin, "tb-guarded");
      expect(await operator.answers(403)).to.equal(refusedBefore);
    });
  });
});
