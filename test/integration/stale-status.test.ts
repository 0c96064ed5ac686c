/**
 * Status stays true when the operator's cache lags behind its own status writes (real API server,
 * the operator's own token).
 *
 * The loop's next pass can start before the watch event of the last status write reaches the
 * cache. CI once saw `driftCorrections` one short this way: a pass computed the total from the old
 * status and overwrote the newer one. Now each status write carries, as precondition, the
 * resourceVersion it was computed from; the server refuses a stale one, and the pass re-reads the
 * workspace and adds its corrections to the stored total. Played here deterministically: the
 * reconciler reads a real, synced cache whose workspace is held at an old version.
 *
 * And a status someone else rewrote (a false Ready=False, or a hand-edited total) wakes the loop:
 * the running operator puts back what the cluster says, without waiting for a resync.
 */
import { expect } from "chai";
import {
  API_VERSION,
  DEFAULT_LEASE_NAME,
  FIELD_MANAGER,
  FINALIZER,
  KIND,
  NAMES,
} from "../../src/api/constants.js";
import type { SecureWorkspace } from "../../src/api/types.js";
import { RESOURCES, resourceOfKind } from "../../src/api/resources.js";
import { ClusterCache } from "../../src/controller/cache.js";
import { MeshDetector } from "../../src/controller/mesh-detector.js";
import { Reconciler, WritesFailedError, type ReconcileReport } from "../../src/controller/reconciler.js";
import { EventRecorder } from "../../src/observability/events.js";
import { KubeClient, type KubeObject } from "../../src/runtime/client.js";
import { errorMessage } from "../../src/runtime/errors.js";
import type { TestKubeClient } from "../support/test-client.js";
import { waitFor } from "../support/wait.js";
import {
  adminClient,
  installOperatorPrerequisites,
  OPERATOR_NAMESPACE,
  operatorKubeConfig,
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

const NP = resourceOfKind("NetworkPolicy");

/** A real cache whose view of one workspace, and of single objects, can be held at an old version. */
class LaggingCache extends ClusterCache {
  held: SecureWorkspace | undefined;
  readonly heldObjects = new Map<string, KubeObject>();

  override workspace(name: string): SecureWorkspace | undefined {
    return this.held?.metadata.name === name ? this.held : super.workspace(name);
  }

  override get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.heldObjects.get(`${kind}/${namespace ?? ""}/${name}`) ?? super.get(kind, namespace, name);
  }
}

describe("status when the cache lags behind the operator's own writes (real API server)", function () {
  this.timeout(180_000);
  let admin: TestKubeClient;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
  });

  after(() => admin?.close());

  describe("a pass that decides from an old status", () => {
    const WS = "stale-status";
    const NS = "stale-status-a";
    const stop = new AbortController();
    let cache: LaggingCache;
    let kube: KubeClient;
    let reconciler: Reconciler;
    /** The workspace as first cached: no finalizer, no status. */
    let fresh: SecureWorkspace;
    const reports: ReconcileReport[] = [];

    before(async () => {
      const kc = await operatorKubeConfig();
      kube = new KubeClient(kc, { fieldManager: FIELD_MANAGER, resources: RESOURCES });
      cache = new LaggingCache(kc, kube);
      await cache.start(stop.signal);
      await cache.waitForSync(stop.signal);
      reconciler = new Reconciler({
        kube,
        cache,
        mesh: new MeshDetector(kube),
        events: new EventRecorder(
          kube,
          {
            controller: "stale-status-test",
            instance: DEFAULT_LEASE_NAME,
            regarding: { apiVersion: API_VERSION, kind: KIND },
          },
          (err) => {
            throw err;
          },
        ),
        operatorNamespace: OPERATOR_NAMESPACE,
        onReport: (r) => reports.push(r),
      });
      await admin.apply(workspace(WS, { namespaces: [{ name: NS }] }));
      fresh = await waitFor(() => cache.workspace(WS), { message: "workspace in the cache" });
    });

    after(async () => {
      cache.held = undefined;
      stop.abort();
      await cache?.stop();
      kube?.close();
      // The operator's finalizer is on it: a running operator removes it and what it made.
      const operator = await startOperator();
      try {
        await deleteWorkspace(admin, WS);
      } finally {
        await operator.stop();
      }
    });

    afterEach(() => cache.heldObjects.clear());

    /** One pass of the reconciler; returns its report. */
    async function pass(): Promise<ReconcileReport> {
      const before = reports.length;
      await reconciler.reconcile(WS);
      const report = reports[before];
      if (!report) throw new Error("the pass reported nothing");
      return report;
    }

    /** Deletes the default-deny policy and waits until the cache has seen it gone. */
    async function deleteDefaultDeny(): Promise<void> {
      await waitFor(() => cache.get("NetworkPolicy", NS, NAMES.defaultDeny) !== undefined, {
        message: "default-deny in the cache",
      });
      await admin.delete(NP, NAMES.defaultDeny, NS);
      await waitFor(() => cache.get("NetworkPolicy", NS, NAMES.defaultDeny) === undefined, {
        message: "the cache has seen default-deny deleted",
      });
    }

    it("adds each pass's corrections to the stored total, never to the cached one", async () => {
      // Converge, then wait until the cache holds the status that pass wrote.
      await waitFor(
        async () => {
          await pass();
          const cached = cache.workspace(WS);
          const stored = await getWorkspace(admin, WS);
          return (
            condition(stored, "Ready")?.status === "True" &&
            cached?.metadata.resourceVersion === stored?.metadata.resourceVersion
          );
        },
        { message: "converged, and the cache has seen the status" },
      );
      const start = (await getWorkspace(admin, WS))?.status?.driftCorrections ?? 0;
      expect(start, "nothing counted while converging").to.equal(0);
      // From here on the reconciler sees the workspace as it is now, whatever is written after.
      cache.held = cache.workspace(WS);

      await deleteDefaultDeny();
      expect((await pass()).corrected.map((c) => c.object.metadata.name)).to.deep.equal([NAMES.defaultDeny]);
      expect((await getWorkspace(admin, WS))?.status?.driftCorrections, "first correction").to.equal(
        start + 1,
      );

      // The second pass reads the status of before the first correction. Its write names that
      // version; the server refuses it, and the pass adds to the stored total instead.
      await deleteDefaultDeny();
      expect((await pass()).corrected.map((c) => c.object.metadata.name)).to.deep.equal([NAMES.defaultDeny]);
      const stored = await getWorkspace(admin, WS);
      expect(stored?.status?.driftCorrections, "both corrections counted").to.equal(start + 2);
      expect(stored?.status?.lastDriftCorrection?.object).to.equal(`NetworkPolicy/${NAMES.defaultDeny}`);
      expect(condition(stored, "Ready")?.status).to.equal("True");
    });

    it("writes nothing when there is nothing to correct, old status or not", async () => {
      await waitFor(() => cache.get("NetworkPolicy", NS, NAMES.defaultDeny) !== undefined, {
        message: "the cache has seen default-deny restored",
      });
      const before = await getWorkspace(admin, WS);
      const report = await pass();
      expect(report.corrected).to.deep.equal([]);
      expect(report.writes).to.equal(0);
      expect((await getWorkspace(admin, WS))?.metadata.resourceVersion).to.equal(
        before?.metadata.resourceVersion,
      );
    });

    it("counts nothing twice when the cache lags behind both the status and the object it corrected", async () => {
      cache.held = undefined;
      const stored = await getWorkspace(admin, WS);
      cache.held = await waitFor(() => {
        const cached = cache.workspace(WS);
        return cached?.metadata.resourceVersion === stored?.metadata.resourceVersion ? cached : undefined;
      });
      const start = stored?.status?.driftCorrections ?? 0;
      // Someone widens default-deny; the reconciler's cache sees that version, and keeps seeing it.
      await admin.mergePatch(NP, NAMES.defaultDeny, { spec: { ingress: [{}] } }, NS);
      const drifted = await waitFor(() => {
        const o = cache.get("NetworkPolicy", NS, NAMES.defaultDeny);
        return (o?.["spec"] as { ingress?: unknown[] } | undefined)?.ingress?.length ? o : undefined;
      });
      cache.heldObjects.set(`NetworkPolicy/${NS}/${NAMES.defaultDeny}`, drifted);
      expect((await pass()).corrected.map((c) => c.object.metadata.name)).to.deep.equal([NAMES.defaultDeny]);
      expect((await getWorkspace(admin, WS))?.status?.driftCorrections, "the correction counted").to.equal(
        start + 1,
      );
      // The next pass still reads the widened policy and the status without that correction. Its
      // apply names the version it judged; the server refuses it (the policy moved on), the
      // policy as stored is already right, and nothing is counted twice.
      const again = await pass();
      expect(again.corrected, "not counted again").to.deep.equal([]);
      const after = await getWorkspace(admin, WS);
      expect(after?.status?.driftCorrections, "one correction, counted once").to.equal(start + 1);
      const live = await admin.get(NP, NAMES.defaultDeny, NS);
      expect((live["spec"] as { ingress?: unknown[] }).ingress ?? []).to.deep.equal([]);
    });

    for (const { how, held } of [
      { how: "the finalizer write's answer", held: (): SecureWorkspace => fresh },
      {
        // A version that existed between the first pass's finalizer write and its status write.
        how: "a refused status write",
        held: (): SecureWorkspace => ({ ...fresh, metadata: { ...fresh.metadata, finalizers: [FINALIZER] } }),
      },
    ])
      it(`counts a restore as drift when the stored status says Ready, though the one read did not (through ${how})`, async () => {
        cache.held = undefined;
        const start = (await getWorkspace(admin, WS))?.status?.driftCorrections ?? 0;
        // The reconciler reads the workspace as it was before its first status write: not yet
        // Ready, so a missing object looks like one never created. The stored status says Ready
        // at this generation: the restore is drift, and is counted.
        cache.held = held();
        await deleteDefaultDeny();
        const report = await pass();
        expect(report.applied).to.include(`${NS}/NetworkPolicy/${NAMES.defaultDeny} (Missing)`);
        const stored = await getWorkspace(admin, WS);
        expect(stored?.status?.driftCorrections, "the restore counted").to.equal(start + 1);
        expect(condition(stored, "Ready")?.status).to.equal("True");
        expect(stored?.metadata.finalizers ?? []).to.deep.equal([FINALIZER]);
      });

    it("tells by a Warning Event when the status itself cannot be written, and writes it once it can", async () => {
      cache.held = undefined;
      const POLICY = "sws-e2e-status-frozen";
      const frozen = "the platform team froze this workspace's status";
      const events = async (): Promise<KubeObject[]> =>
        (await admin.list(resourceOfKind("Event"), { namespace: "default" })).items.filter(
          (e) =>
            (e["regarding"] as { name?: string } | undefined)?.name === WS &&
            e["reason"] === "StatusNotWritten",
        );
      let frozenAt = 0;
      try {
        await admin.apply({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: { name: POLICY },
          spec: {
            failurePolicy: "Fail",
            matchConstraints: {
              resourceRules: [
                {
                  apiGroups: ["secureworkspace.io"],
                  apiVersions: ["*"],
                  resources: ["secureworkspaces/status"],
                  operations: ["UPDATE"],
                },
              ],
            },
            validations: [{ expression: `object.metadata.name != '${WS}'`, message: frozen }],
          },
        });
        await admin.apply({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicyBinding",
          metadata: { name: POLICY },
          spec: { policyName: POLICY, validationActions: ["Deny"] },
        });
        // Each round corrects a deletion, so each pass has a new status to write; the server loads
        // policies asynchronously, so the first rounds may still be written.
        const refused = await waitFor(
          async () => {
            await deleteDefaultDeny();
            return reconciler.reconcile(WS).then(
              () => undefined,
              (err: unknown) => (errorMessage(err).includes(frozen) ? err : undefined),
            );
          },
          { timeoutMs: 60_000, intervalMs: 200, message: "a status write refused by the policy" },
        );
        expect(errorMessage(refused)).to.contain(frozen);
        frozenAt = (await getWorkspace(admin, WS))?.status?.driftCorrections ?? 0;
        const told = await events();
        expect(told.map((e) => String(e["note"]))).to.satisfy((notes: string[]) =>
          notes.some((n) => n.startsWith("status not written: ") && n.includes(frozen)),
        );
      } finally {
        await admin.delete(resourceOfKind("ValidatingAdmissionPolicyBinding"), POLICY).catch(() => undefined);
        await admin.delete(resourceOfKind("ValidatingAdmissionPolicy"), POLICY).catch(() => undefined);
      }
      // The legitimate path next to it: with the policy gone, the next correction's status is written.
      // (The server unloads the policy asynchronously too: passes are refused until it has.)
      const written = await waitFor(
        async () => {
          await deleteDefaultDeny();
          const passed = await reconciler.reconcile(WS).then(
            () => true,
            () => false,
          );
          const stored = await getWorkspace(admin, WS);
          return passed && (stored?.status?.driftCorrections ?? 0) > frozenAt ? stored : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 200, message: "status written again" },
      );
      expect(condition(written, "Ready")?.status).to.equal("True");
    });

    it("never takes over someone else's object that replaced its own while the cache lagged", async () => {
      cache.held = undefined;
      await waitFor(() => cache.get("NetworkPolicy", NS, NAMES.defaultDeny) !== undefined, {
        message: "default-deny in the cache",
      });
      const before = (await getWorkspace(admin, WS))?.status?.driftCorrections ?? 0;
      // The reconciler's cache sees the workspace's own default-deny, widened: drift to revert.
      await admin.mergePatch(NP, NAMES.defaultDeny, { spec: { ingress: [{}] } }, NS);
      const drifted = await waitFor(() => {
        const o = cache.get("NetworkPolicy", NS, NAMES.defaultDeny);
        return (o?.["spec"] as { ingress?: unknown[] } | undefined)?.ingress?.length ? o : undefined;
      });
      cache.heldObjects.set(`NetworkPolicy/${NS}/${NAMES.defaultDeny}`, drifted);
      // Meanwhile someone deletes it and puts an allow-all policy of their own at the same name, with
      // no owner: a blind apply would adopt it and leave its allow-all rule in place as ours.
      await admin.delete(NP, NAMES.defaultDeny, NS);
      await waitFor(
        async () => (await getObject(admin, "NetworkPolicy", NS, NAMES.defaultDeny)) === undefined,
      );
      const theirs = await admin.create({
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: NAMES.defaultDeny, namespace: NS },
        spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
      });
      // The revert names the version it judged; the server refuses it; the object read back is
      // not the workspace's: the write fails and says so, and their object is left as it is.
      const refused = await reconciler.reconcile(WS).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).to.be.instanceOf(WritesFailedError);
      const live = await admin.get(NP, NAMES.defaultDeny, NS);
      expect(live.metadata.resourceVersion, "their policy untouched").to.equal(
        theirs.metadata.resourceVersion,
      );
      expect(live.metadata["managedFields"]).to.deep.equal(theirs.metadata["managedFields"]);
      const stored = await getWorkspace(admin, WS);
      expect(condition(stored, "Ready")).to.include({ status: "False", reason: "Conflict" });
      expect(stored?.status?.driftCorrections, "nothing counted").to.equal(before);

      // Next to it, the legitimate path: once the cache shows their object, the pass reports it as
      // not the workspace's and leaves it; once it is deleted, the workspace's own policy is back.
      cache.heldObjects.clear();
      await waitFor(
        () => cache.get("NetworkPolicy", NS, NAMES.defaultDeny)?.metadata.uid === theirs.metadata.uid,
      );
      await pass();
      const reported = await getWorkspace(admin, WS);
      expect(condition(reported, "NetworkPolicyEnforced")?.message).to.contain(
        `${NS}/NetworkPolicy/${NAMES.defaultDeny} was not created by this workspace`,
      );
      expect((await admin.get(NP, NAMES.defaultDeny, NS)).metadata.resourceVersion).to.equal(
        theirs.metadata.resourceVersion,
      );
      await admin.delete(NP, NAMES.defaultDeny, NS);
      await waitFor(() => cache.get("NetworkPolicy", NS, NAMES.defaultDeny) === undefined);
      await pass();
      const restored = await admin.get(NP, NAMES.defaultDeny, NS);
      const owners = (restored.metadata["ownerReferences"] ?? []) as Array<{
        uid?: string;
        controller?: boolean;
      }>;
      expect(
        owners.some((r) => r.uid === stored?.metadata.uid && r.controller === true),
        "the workspace's own again",
      ).to.be.true;
    });
  });

  describe("a status someone else rewrote", () => {
    const WS = "rewritten-status";
    let operator: RunningOperator;

    before(async () => {
      operator = await startOperator();
      await waitFor(() => operator.manager.synced, { message: "operator caches synced" });
      await admin.apply(workspace(WS, { namespaces: [{ name: "rewritten-status-a" }] }));
      await waitReady(admin, WS);
    });

    after(async () => {
      try {
        await deleteWorkspace(admin, WS);
      } finally {
        await operator?.stop();
      }
    });

    it("is put back from the cluster's state at once, not at the next resync (there is none here)", async () => {
      const ready = condition(await getWorkspace(admin, WS), "Ready");
      // An admin (its own field manager) claims the workspace is broken.
      await admin.mergePatch(
        resourceOfKind(KIND),
        WS,
        {
          status: {
            conditions: [
              {
                type: "Ready",
                status: "False",
                reason: "Tampered",
                message: "written by hand",
                lastTransitionTime: "2026-01-01T00:00:00Z",
                observedGeneration: 1,
              },
            ],
          },
        },
        undefined,
        "status",
      );
      const restored = await waitForStatus(
        admin,
        WS,
        (ws) => condition(ws, "Ready")?.reason === "Enforced",
        "Ready put back",
        60_000,
      );
      expect(condition(restored, "Ready")).to.include({ status: "True", message: ready?.message });
      // The legitimate reader sees every control again, not the single hand-written condition.
      expect(condition(restored, "NetworkPolicyEnforced")?.status).to.equal("True");
    });
  });
});
