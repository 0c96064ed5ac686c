/**
 * The reconcile loop against the real API server, with the operator running under its own
 * least-privilege ServiceAccount token: enforcement, drift correction, pruning, conflicts,
 * audit mode, deletion and status. Every wait polls with a generous deadline.
 */
import { expect } from "chai";
import { NAMES } from "../../src/api/constants.js";
import type { SecureWorkspace } from "../../src/api/types.js";
import { desiredState } from "../../src/baseline/index.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { ApiError, isNotFound } from "../../src/runtime/errors.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { waitFor } from "../support/wait.js";
import { installIstioCrds, uninstallIstioCrds } from "./support/istio.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import {
  condition,
  deleteWorkspace,
  examples,
  getObject,
  getWorkspace,
  waitForStatus,
  waitReady,
  workspace,
} from "./support/workspaces.js";

const NP = resourceOfKind("NetworkPolicy");
const NS = resourceOfKind("Namespace");

type Labels = Record<string, string>;
const labelsOf = (o: KubeObject | undefined): Labels => o?.metadata.labels ?? {};

/** A compliant pod spec for Pod Security "restricted". */
function pod(name: string, privileged: boolean): KubeObject {
  const securityContext = privileged
    ? { privileged: true }
    : {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        runAsUser: 1000,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      };
  // Requests and limits because the workspace's ResourceQuota demands them.
  const resources = { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "100m", memory: "64Mi" } };
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name },
    spec: { containers: [{ name: "c", image: "registry.example/app:1", securityContext, resources }] },
  };
}

async function createPod(
  admin: TestKubeClient,
  namespace: string,
  obj: KubeObject,
): Promise<ApiError | undefined> {
  try {
    await admin.create({ ...obj, metadata: { ...obj.metadata, namespace } });
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

/** Creates an object unless it exists (a reused `make cluster` may hold it from an earlier run). */
async function createIfAbsent(admin: TestKubeClient, obj: KubeObject): Promise<void> {
  try {
    await admin.create(obj);
  } catch (err) {
    if (!(err instanceof ApiError && err.statusCode === 409)) throw err;
  }
}

describe("reconcile loop (real API server, operator's own token)", function () {
  this.timeout(180_000);
  let admin: TestKubeClient;
  let operator: RunningOperator;

  before(async () => {
    await installOperatorPrerequisites();
    // Start without Istio (another suite may have installed its CRDs) to see it appear later.
    await uninstallIstioCrds();
    admin = adminClient();
    operator = await startOperator({ workers: 4 });
    await waitFor(() => operator.manager.synced, { message: "operator caches synced" });
  });

  after(async () => {
    admin?.close();
    if (!operator) return;
    const forbidden = await operator.answers(403);
    await operator.stop();
    expect(forbidden, "403 answers to the operator: its ClusterRole lacks a permission").to.equal(0);
  });

  describe("enforcement of examples/", () => {
    it("reports MeshNotInstalled for Istio while every other control is enforced", async () => {
      const istio = examples().find((e) => e.file === "istio-strict.yaml");
      if (!istio) throw new Error("examples/istio-strict.yaml missing");
      await admin.apply(istio.ws as unknown as KubeObject);
      const ws = await waitForStatus(
        admin,
        istio.ws.metadata.name,
        (w) => condition(w, "Ready")?.reason === "MeshNotInstalled",
        "MeshNotInstalled",
      );
      expect(condition(ws, "MeshMTLSEnforced")).to.include({ status: "False", reason: "MeshNotInstalled" });
      expect(condition(ws, "NetworkPolicyEnforced")?.status).to.equal("True");
      expect(condition(ws, "PodSecurityEnforced")?.status).to.equal("True");
      const nsName = istio.ws.spec.namespaces[0]?.name ?? "";
      expect(await getObject(admin, "NetworkPolicy", nsName, NAMES.defaultDeny)).to.not.equal(undefined);
      expect(labelsOf(await getObject(admin, "Namespace", undefined, nsName))).to.include({
        "istio-injection": "enabled",
      });
    });

    it("enforces every object each example asks for, and picks up Istio once its CRDs appear", async () => {
      await installIstioCrds();
      for (const { ws } of examples()) await admin.apply(ws as unknown as KubeObject);
      for (const { ws } of examples()) {
        const reason = ws.spec.enforcement === "Audit" ? "Audited" : "Enforced";
        const live = await waitReady(admin, ws.metadata.name, reason);
        if (ws.spec.enforcement === "Audit") continue;
        for (const want of desiredState({
          ...ws,
          metadata: { ...ws.metadata, uid: live.metadata.uid ?? "" },
        })) {
          const got = await getObject(admin, want.kind, want.metadata.namespace, want.metadata.name);
          expect(got, `${ws.metadata.name}: ${want.kind}/${want.metadata.name}`).to.not.equal(undefined);
          expect(labelsOf(got)).to.include(want.metadata.labels);
          if (want.kind !== "Namespace")
            expect(got?.metadata["ownerReferences"]).to.deep.equal(want.metadata.ownerReferences);
        }
      }
    });
  });

  describe("drift", () => {
    const name = "drift";
    const ns = "drift-a";
    let initial: SecureWorkspace;

    before(async () => {
      await installIstioCrds();
      await admin.apply(
        workspace(name, {
          namespaces: [{ name: ns }],
          rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team" }] }] },
          resourceQuota: { hard: { pods: "10", "requests.cpu": "2" } },
          serviceMesh: { provider: "istio", mtls: "STRICT" },
        }),
      );
      initial = await waitReady(admin, name);
    });

    async function restored(kind: string, objName: string, check: (o: KubeObject) => boolean): Promise<void> {
      await waitFor(
        async () => {
          const o = await getObject(admin, kind, kind === "Namespace" ? undefined : ns, objName);
          return o !== undefined && check(o);
        },
        { timeoutMs: 60_000, message: `${kind}/${objName} restored` },
      );
    }

    it("restores a deleted default-deny NetworkPolicy", async () => {
      const old = await getObject(admin, "NetworkPolicy", ns, NAMES.defaultDeny);
      await admin.delete(NP, NAMES.defaultDeny, ns);
      await restored("NetworkPolicy", NAMES.defaultDeny, (o) => o.metadata.uid !== old?.metadata.uid);
    });

    it("reverts an edited NetworkPolicy spec", async () => {
      await admin.apply({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: NAMES.defaultDeny, namespace: ns },
        spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{}] },
      });
      await restored("NetworkPolicy", NAMES.defaultDeny, (o) => {
        const spec = o["spec"] as { ingress?: unknown[] };
        return (spec.ingress ?? []).length === 0;
      });
    });

    it("restores a removed Pod Security label, and a weakened one, after which a privileged pod is refused again", async () => {
      await admin.mergePatch(NS, ns, {
        metadata: { labels: { "pod-security.kubernetes.io/enforce": null } },
      });
      await restored(
        "Namespace",
        ns,
        (o) => labelsOf(o)["pod-security.kubernetes.io/enforce"] === "restricted",
      );
      await admin.mergePatch(NS, ns, {
        metadata: { labels: { "pod-security.kubernetes.io/enforce": "privileged" } },
      });
      await restored(
        "Namespace",
        ns,
        (o) => labelsOf(o)["pod-security.kubernetes.io/enforce"] === "restricted",
      );
      const refused = await createPod(admin, ns, pod("privileged", true));
      expect(refused?.statusCode).to.equal(403);
      expect(refused?.serverMessage).to.contain('violates PodSecurity "restricted:latest"');
      const accepted = await createPod(admin, ns, pod("compliant", false));
      expect(accepted?.message, "a compliant pod is admitted").to.equal(undefined);
    });

    it("restores a deleted RoleBinding", async () => {
      await admin.delete(resourceOfKind("RoleBinding"), "sws-edit-0", ns);
      await restored("RoleBinding", "sws-edit-0", () => true);
    });

    it("reverts an edited ResourceQuota", async () => {
      await admin.mergePatch(
        resourceOfKind("ResourceQuota"),
        NAMES.quota,
        { spec: { hard: { pods: "1000" } } },
        ns,
      );
      await restored(
        "ResourceQuota",
        NAMES.quota,
        (o) => (o["spec"] as { hard: Labels }).hard["pods"] === "10",
      );
    });

    it("reverts a weakened PeerAuthentication mode", async () => {
      await admin.mergePatch(
        resourceOfKind("PeerAuthentication"),
        NAMES.mtls,
        { spec: { mtls: { mode: "PERMISSIVE" } } },
        ns,
      );
      await restored(
        "PeerAuthentication",
        NAMES.mtls,
        (o) => (o["spec"] as { mtls: { mode: string } }).mtls.mode === "STRICT",
      );
    });

    it("leaves a user's own namespace label and annotation alone", async () => {
      await admin.mergePatch(NS, ns, {
        metadata: {
          labels: { "team.example.com/owner": "alice" },
          annotations: { "example.com/note": "hi" },
        },
      });
      await waitReady(admin, name);
      const live = await getObject(admin, "Namespace", undefined, ns);
      expect(labelsOf(live)).to.include({
        "team.example.com/owner": "alice",
        "pod-security.kubernetes.io/enforce": "restricted",
      });
      expect(live?.metadata.annotations).to.include({ "example.com/note": "hi" });
    });

    it("counts the corrections in status", async () => {
      const ws = await waitForStatus(
        admin,
        name,
        (w) => (w.status?.driftCorrections ?? 0) >= 7,
        "driftCorrections >= 7",
      );
      expect(ws.status?.driftCorrections ?? 0).to.be.greaterThan(initial.status?.driftCorrections ?? 0);
      expect(ws.status?.lastDriftCorrection?.namespace).to.equal(ns);
    });

    it("makes no write when nothing changed", async () => {
      await waitReady(admin, name);
      const snapshot = async (): Promise<string[]> => {
        const ws = await getWorkspace(admin, name);
        const objs = await Promise.all(
          ["NetworkPolicy", "RoleBinding", "ResourceQuota", "PeerAuthentication", "AuthorizationPolicy"].map(
            (k) => admin.list(resourceOfKind(k), { namespace: ns }),
          ),
        );
        return [
          ws?.metadata.resourceVersion ?? "",
          ...objs.flatMap((l) =>
            l.items.map((o) => `${o.metadata.name}@${o.metadata.resourceVersion ?? ""}`),
          ),
        ];
      };
      const first = await snapshot();
      const marker = operator.log.lines.length;
      // Wake the loop with an event on an owned namespace that changes nothing it owns.
      await admin.mergePatch(NS, ns, {
        metadata: { labels: { "team.example.com/touch": String(Date.now()) } },
      });
      await waitFor(
        () =>
          operator.log.lines
            .slice(marker)
            .some((l) => l.message === "in sync" && l.fields?.["workspace"] === name),
        {
          message: "a reconcile of the untouched workspace",
        },
      );
      const writes = operator.log.lines
        .slice(marker)
        .filter((l) => l.message === "reconciled" && l.fields?.["workspace"] === name);
      expect(writes).to.deep.equal([]);
      expect(await snapshot()).to.deep.equal(first);
    });
  });

  describe("spec changes, conflicts and audit", () => {
    it("prunes what a spec no longer asks for and releases a namespace it no longer lists", async () => {
      await admin.apply(
        workspace("prune", { namespaces: [{ name: "prune-a" }, { name: "prune-b", labels: { team: "x" } }] }),
      );
      await waitReady(admin, "prune");
      expect(await getObject(admin, "NetworkPolicy", "prune-a", NAMES.allowDns)).to.not.equal(undefined);
      await admin.apply(
        workspace("prune", { namespaces: [{ name: "prune-a" }], networkPolicy: { allowDNS: false } }),
      );
      await waitReady(admin, "prune");
      await waitFor(
        async () => (await getObject(admin, "NetworkPolicy", "prune-a", NAMES.allowDns)) === undefined,
        { message: "sws-allow-dns pruned" },
      );
      await waitFor(
        async () => (await getObject(admin, "NetworkPolicy", "prune-b", NAMES.defaultDeny)) === undefined,
        { message: "prune-b policies pruned" },
      );
      const released = await waitFor(
        async () => {
          const o = await getObject(admin, "Namespace", undefined, "prune-b");
          return o && !labelsOf(o)["secureworkspace.io/workspace"] ? o : undefined;
        },
        { message: "prune-b released" },
      );
      expect(released.metadata.name).to.equal("prune-b");
      expect(labelsOf(released)).to.not.have.property("pod-security.kubernetes.io/enforce");
      expect(labelsOf(released)).to.not.have.property("team");
    });

    it("reports a namespace owned by another workspace as a conflict and does not take it", async () => {
      await admin.apply(workspace("owner", { namespaces: [{ name: "shared-ns" }] }));
      await waitReady(admin, "owner");
      await admin.apply(
        workspace("intruder", { namespaces: [{ name: "shared-ns" }, { name: "intruder-own" }] }),
      );
      const ws = await waitForStatus(
        admin,
        "intruder",
        (w) => condition(w, "Stalled")?.status === "True",
        "Stalled",
      );
      expect(condition(ws, "Ready")).to.include({ status: "False", reason: "NamespaceConflict" });
      expect(condition(ws, "Ready")?.message).to.contain("owned by SecureWorkspace owner");
      expect(ws.status?.namespaces?.find((n) => n.name === "shared-ns")?.ready).to.equal(false);
      expect(ws.status?.namespaceCount, "NAMESPACES counts only the one it holds").to.equal(1);
      expect(
        labelsOf(await getObject(admin, "Namespace", undefined, "shared-ns"))["secureworkspace.io/workspace"],
      ).to.equal("owner");
      // The broken workspace still enforces what it may hold, and does not hold up the others.
      expect(await getObject(admin, "NetworkPolicy", "intruder-own", NAMES.defaultDeny)).to.not.equal(
        undefined,
      );
      await admin.apply(workspace("bystander", { namespaces: [{ name: "bystander-a" }] }));
      await waitReady(admin, "bystander");
    });

    it("refuses the operator's own namespace at reconcile and system namespaces at admission", async () => {
      await admin.apply(workspace("grabby", { namespaces: [{ name: "secure-workspace-system" }] }));
      const ws = await waitForStatus(
        admin,
        "grabby",
        (w) => condition(w, "Stalled")?.status === "True",
        "Stalled",
      );
      expect(condition(ws, "Ready")?.message).to.contain("system namespace");
      const refused = await admin
        .apply(workspace("grabby-kube", { namespaces: [{ name: "kube-system" }] }))
        .catch((e: unknown) => e);
      expect(refused).to.be.instanceOf(ApiError);
      expect((refused as ApiError).statusCode).to.equal(422);
    });

    it("in Audit mode writes nothing to the namespace and lists the drift in status", async () => {
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "audited", labels: { app: "legacy" } },
      });
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "data", namespace: "audited" },
        data: { k: "v" },
      });
      const nsBefore = await getObject(admin, "Namespace", undefined, "audited");
      const cmBefore = await getObject(admin, "ConfigMap", "audited", "data");
      await admin.apply(workspace("auditor", { namespaces: [{ name: "audited" }], enforcement: "Audit" }));
      const ws = await waitReady(admin, "auditor", "Audited");
      expect(ws.status?.drift?.map((d) => d.object)).to.include.members([
        "Namespace/audited",
        `NetworkPolicy/${NAMES.defaultDeny}`,
      ]);
      expect(condition(ws, "NetworkPolicyEnforced")).to.include({ status: "False", reason: "DriftDetected" });
      expect(ws.status?.controls?.find((c) => c.id === "NIST-800-53:SC-7")?.state).to.equal("NonCompliant");
      expect((await getObject(admin, "Namespace", undefined, "audited"))?.metadata.resourceVersion).to.equal(
        nsBefore?.metadata.resourceVersion,
      );
      expect((await getObject(admin, "ConfigMap", "audited", "data"))?.metadata.resourceVersion).to.equal(
        cmBefore?.metadata.resourceVersion,
      );
      expect((await admin.list(NP, { namespace: "audited" })).items).to.have.length(0);
    });
  });

  describe("a deleted owned namespace", () => {
    it("is re-created with its baseline once the namespace controller has removed it", async () => {
      await admin.apply(workspace("phoenix", { namespaces: [{ name: "phoenix" }] }));
      await waitReady(admin, "phoenix");
      const old = await getObject(admin, "Namespace", undefined, "phoenix");
      await admin.delete(NS, "phoenix");
      const reborn = await waitFor(
        async () => {
          const ns = await getObject(admin, "Namespace", undefined, "phoenix");
          // Created bare (a create cannot take over a namespace made meanwhile), then labelled by
          // the apply that follows at once: wait for the labels too.
          return ns &&
            ns.metadata.uid !== old?.metadata.uid &&
            !ns.metadata["deletionTimestamp"] &&
            labelsOf(ns)["pod-security.kubernetes.io/enforce"] !== undefined
            ? ns
            : undefined;
        },
        { timeoutMs: 120_000, message: "namespace phoenix re-created" },
      );
      expect(labelsOf(reborn)).to.include({ "pod-security.kubernetes.io/enforce": "restricted" });
      await waitFor(
        async () => (await getObject(admin, "NetworkPolicy", "phoenix", NAMES.defaultDeny)) !== undefined,
        {
          message: "its default deny restored",
        },
      );
      await waitReady(admin, "phoenix");
    });
  });

  describe("deletion", () => {
    it("with Retain keeps the namespace and its data, removing only what it manages", async () => {
      await admin.apply(
        workspace("retainer", { namespaces: [{ name: "retained", labels: { keep: "me" } }] }),
      );
      await waitReady(admin, "retainer");
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "data", namespace: "retained" },
        data: { k: "v" },
      });
      await deleteWorkspace(admin, "retainer");
      const ns = await getObject(admin, "Namespace", undefined, "retained");
      expect(ns?.metadata["deletionTimestamp"]).to.equal(undefined);
      expect(labelsOf(ns)).to.not.have.property("secureworkspace.io/workspace");
      expect(labelsOf(ns)).to.not.have.property("pod-security.kubernetes.io/enforce");
      expect(await getObject(admin, "ConfigMap", "retained", "data")).to.not.equal(undefined);
      expect((await admin.list(NP, { namespace: "retained" })).items).to.have.length(0);
    });

    it("with Delete removes only the namespaces it created, never an adopted one", async () => {
      // An existing namespace is adopted only once a cluster admin opts it in.
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "adopted-ns", labels: { "secureworkspace.io/adopt": "deleter" } },
      });
      await admin.apply(
        workspace("deleter", {
          namespaces: [{ name: "adopted-ns" }, { name: "created-ns" }],
          deletionPolicy: "Delete",
        }),
      );
      await waitReady(admin, "deleter");
      await deleteWorkspace(admin, "deleter");
      const adopted = await getObject(admin, "Namespace", undefined, "adopted-ns");
      expect(adopted?.metadata["deletionTimestamp"]).to.equal(undefined);
      await waitFor(
        async () => {
          try {
            const created = await admin.get(NS, "created-ns");
            return created.metadata["deletionTimestamp"] !== undefined;
          } catch (err) {
            return isNotFound(err);
          }
        },
        { message: "created-ns deleted" },
      );
    });
  });
});
