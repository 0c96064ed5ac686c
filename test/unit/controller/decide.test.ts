/**
 * decide() (src/controller/decide.ts) with plain data: a snapshot is built from a list of objects
 * (what the caches would hold), and a decision's writes are played against that list the way the
 * API server would take them (play()). No reconciler, no cache, no client, no casts.
 *
 * Properties (fast-check):
 *  - a second pass over the cluster the first pass left behind sends nothing: no write, no prune,
 *    no release, no status write, no Event;
 *  - from a tampered cluster (owned objects deleted or edited, stale and forged objects added),
 *    one enforcing pass writes every desired object that differs: the pass after it has nothing
 *    left to write;
 *  - a prune or a finalizing delete only ever names an object labelled for this workspace whose
 *    controller ownerReference carries its uid; nothing is written into a namespace the spec
 *    does not list (releases of owned namespaces excepted).
 */
import { expect } from "chai";
import fc from "fast-check";
import {
  ADOPT_LABEL,
  CREATED_BY_ANNOTATION,
  FINALIZER,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  OWNER_UID_ANNOTATION,
  WORKSPACE_LABEL,
} from "../../../src/api/constants.js";
import { checkSchema } from "../../../src/api/schema.js";
import type { SecureWorkspace } from "../../../src/api/types.js";
import {
  decide,
  observedKey,
  readWorkspace,
  restatus,
  settleEnforce,
  type DecideConfig,
  type Decision,
  type EnforceDecision,
} from "../../../src/controller/decide.js";
import { inSync, withAppliedHash } from "../../../src/controller/diff.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import { validWorkspace } from "../../support/arbitraries.js";
import { NOW, play, snapshotOf, type Cluster } from "./support/cluster.js";

const RUNS = Number(process.env["SWS_DECIDE_RUNS"] ?? 300);
const CONFIG: DecideConfig = { operatorNamespace: "secure-workspace-system", protectedNamespaces: [] };
const UID = "11111111-2222-4333-8444-555555555555";

/** Everything a decision would send besides its status. */
function requests(d: Decision): string[] {
  switch (d.mode) {
    case "enforce":
      return [
        ...(d.finalizer ? ["finalizer"] : []),
        ...[...d.namespaces, ...d.apply].map(
          (a) => `apply ${a.planned.object.kind}/${a.planned.object.metadata.name}`,
        ),
        ...d.prune.map((p) => `prune ${p.kind}/${p.name}`),
        ...d.release.map((r) => `release ${r.namespace}`),
      ];
    case "audit":
    case "invalid":
      return d.finalizer ? ["finalizer"] : [];
    case "finalize":
      return [
        ...d.deletes.map((x) => `delete ${x.kind}/${x.name}`),
        ...d.namespaceDeletes.map((x) => `delete Namespace/${x.name}`),
        ...d.releases.map((r) => `release ${r.namespace}`),
        "remove finalizer",
      ];
    case "absent":
    case "finalized":
      return [];
  }
}

const statusOf = (d: Decision): unknown =>
  d.mode === "enforce" || d.mode === "audit" || d.mode === "invalid" ? d.status : undefined;
const eventsOf = (d: Decision): readonly unknown[] =>
  d.mode === "enforce" || d.mode === "audit" ? d.events : [];

/** A generated workspace the API server would accept, with a fixed uid. */
const workspace = validWorkspace
  .filter((ws) => checkSchema(ws).length === 0)
  .map((ws) => ({ ...ws, metadata: { ...ws.metadata, uid: UID } }));
/** Workspaces in Enforce mode (the tampering properties need a pass that writes). */
const enforcing = workspace.map((ws) => ({ ...ws, spec: { ...ws.spec, enforcement: "Enforce" as const } }));

function objectsLabelledFor(objects: readonly KubeObject[], name: string): KubeObject[] {
  return objects.filter((o) => o.kind !== "Namespace" && o.metadata.labels?.[WORKSPACE_LABEL] === name);
}

/** The uid in an object's controller ownerReference, if any. */
function controllerUid(o: KubeObject): unknown {
  const refs: unknown = o.metadata["ownerReferences"];
  if (!Array.isArray(refs)) return undefined;
  const controller: unknown = refs.find(
    (r: unknown) => typeof r === "object" && r !== null && "controller" in r && r.controller === true,
  );
  return typeof controller === "object" && controller !== null && "uid" in controller
    ? controller.uid
    : undefined;
}

/** The objects this workspace created (and its namespaces), by key, without server-set fields. */
function ownContent(cluster: Cluster): Record<string, unknown> {
  const name = cluster.workspace.metadata.name;
  const own = cluster.objects.filter((o) =>
    o.kind === "Namespace" ? o.metadata.labels?.[WORKSPACE_LABEL] === name : controllerUid(o) === UID,
  );
  return Object.fromEntries(
    own.map((o) => {
      const metadata = { ...o.metadata };
      delete metadata.uid;
      delete metadata.resourceVersion;
      return [observedKey(o.kind, o.metadata.namespace, o.metadata.name), { ...o, metadata }];
    }),
  );
}

/** An edit someone makes to one of the workspace's objects. */
type Tamper = "keep" | "delete" | "edit";

/** The cluster after someone tampered with the workspace's objects and added stale and forged ones. */
function tampered(cluster: Cluster, tampers: readonly Tamper[]): Cluster {
  const name = cluster.workspace.metadata.name;
  const ours = objectsLabelledFor(cluster.objects, name);
  const edits = new Map(ours.map((o, i) => [o, tampers[i % tampers.length] ?? "keep"]));
  const objects = cluster.objects.flatMap((o): KubeObject[] => {
    const t = edits.get(o);
    if (t === "delete") return [];
    if (t === "edit")
      return [{ ...o, metadata: { ...o.metadata, labels: { [WORKSPACE_LABEL]: name } }, tampered: true }];
    return [o];
  });
  const ns = cluster.workspace.spec.namespaces[0]?.name ?? "x";
  const labels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [WORKSPACE_LABEL]: name };
  const ownerRef = (uid: string): unknown[] => [
    { apiVersion: "secureworkspace.io/v1alpha1", kind: "SecureWorkspace", name, uid, controller: true },
  ];
  return {
    ...cluster,
    objects: [
      ...objects,
      // Made by this workspace once, no longer wanted: pruned.
      {
        apiVersion: "v1",
        kind: "ResourceQuota",
        metadata: {
          name: "sws-stale",
          namespace: ns,
          labels,
          uid: "uid-stale",
          ownerReferences: ownerRef(UID),
        },
      },
      // The workspace's labels, forged by someone else: never pruned.
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: {
          name: "forged",
          namespace: ns,
          labels,
          uid: "uid-forged",
          ownerReferences: ownerRef("other"),
        },
      },
      {
        apiVersion: "v1",
        kind: "LimitRange",
        metadata: { name: "forged-no-owner", namespace: ns, labels, uid: "uid-forged-2" },
      },
    ],
  };
}

describe("decide: snapshot + spec → decision (plain data)", function () {
  this.timeout(120_000);
  describe("properties", () => {
    it("a second pass over what the first left behind sends nothing, writes no status, emits no Event", () => {
      fc.assert(
        fc.property(workspace, fc.boolean(), (ws, mesh) => {
          const first = decide(snapshotOf({ workspace: ws, objects: [] }, mesh), CONFIG);
          fc.pre(first.mode === "enforce" || first.mode === "audit");
          const after = play({ workspace: ws, objects: [] }, first);
          const second = decide(snapshotOf(after, mesh), CONFIG);
          expect(second.mode).to.equal(first.mode);
          expect(requests(second)).to.deep.equal([]);
          expect(statusOf(second), "status write").to.equal(undefined);
          expect(eventsOf(second)).to.deep.equal([]);
        }),
        { numRuns: RUNS },
      );
    });

    it("one enforcing pass over a tampered cluster writes every desired object that differs", () => {
      fc.assert(
        fc.property(
          enforcing,
          fc.array(fc.constantFrom<Tamper>("keep", "delete", "edit"), { minLength: 1, maxLength: 20 }),
          fc.boolean(),
          (ws, tampers, mesh) => {
            const converged = play(
              { workspace: ws, objects: [] },
              decide(snapshotOf({ workspace: ws, objects: [] }, mesh), CONFIG),
            );
            const broken = tampered(converged, tampers);
            const repair = decide(snapshotOf(broken, mesh), CONFIG);
            expect(repair.mode).to.equal("enforce");
            const repaired = play(broken, repair);
            const again = decide(snapshotOf(repaired, mesh), CONFIG);
            expect(requests(again), "left to write after one pass").to.deep.equal([]);
            expect(statusOf(again)).to.equal(undefined);
            // Judged on the cluster itself, not by decide(): the workspace's own objects are
            // exactly those of the converged cluster again, with the same content.
            expect(ownContent(repaired)).to.deep.equal(ownContent(converged));
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("every desired object of a held namespace is either written or already equal", () => {
      fc.assert(
        fc.property(
          enforcing,
          fc.array(fc.constantFrom<Tamper>("keep", "delete", "edit"), { minLength: 1, maxLength: 20 }),
          fc.boolean(),
          (ws, tampers, mesh) => {
            const empty: Cluster = { workspace: ws, objects: [] };
            const broken = tampered(play(empty, decide(snapshotOf(empty, mesh), CONFIG)), tampers);
            const d = decide(snapshotOf(broken, mesh), CONFIG);
            if (d.mode !== "enforce") throw new Error(`expected enforce, got ${d.mode}`);
            const written = new Set(
              [...d.namespaces, ...d.apply].map((a) =>
                observedKey(
                  a.planned.object.kind,
                  a.planned.object.metadata.namespace,
                  a.planned.object.metadata.name,
                ),
              ),
            );
            const observed = new Map(
              broken.objects.map((o) => [observedKey(o.kind, o.metadata.namespace, o.metadata.name), o]),
            );
            const held = new Set(d.outcome.desired?.map((o) => o.metadata.namespace ?? o.metadata.name));
            const reading = readWorkspace(ws.metadata.name, broken.workspace);
            if (reading.state !== "valid") throw new Error(reading.state);
            for (const want of reading.desired) {
              if (want.kind === "Namespace" || !held.has(want.metadata.namespace ?? "")) continue;
              if (!mesh && want.apiVersion.startsWith("security.istio.io/")) continue;
              const key = observedKey(want.kind, want.metadata.namespace, want.metadata.name);
              const current = observed.get(key);
              expect(
                written.has(key) || (current !== undefined && inSync(withAppliedHash(want), current)),
                key,
              ).to.equal(true);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });

    it("never prunes nor deletes an object not labelled for this workspace and created by it", () => {
      fc.assert(
        fc.property(
          workspace,
          fc.array(fc.constantFrom<Tamper>("keep", "delete", "edit"), { minLength: 1, maxLength: 20 }),
          fc.boolean(),
          fc.boolean(),
          (ws, tampers, mesh, deleting) => {
            const converged = play(
              { workspace: ws, objects: [] },
              decide(snapshotOf({ workspace: ws, objects: [] }, mesh), CONFIG),
            );
            const broken = tampered(converged, tampers);
            const cluster: Cluster = deleting
              ? {
                  ...broken,
                  workspace: {
                    ...broken.workspace,
                    metadata: {
                      ...broken.workspace.metadata,
                      deletionTimestamp: NOW,
                      finalizers: [FINALIZER],
                    },
                  },
                }
              : broken;
            const d = decide(snapshotOf(cluster, mesh), CONFIG);
            const targets =
              d.mode === "enforce"
                ? d.prune.map((p) => observedKey(p.kind, p.namespace, p.name))
                : d.mode === "finalize"
                  ? d.deletes.map((x) => observedKey(x.kind, x.namespace, x.name))
                  : [];
            const byKey = new Map(
              cluster.objects.map((o) => [observedKey(o.kind, o.metadata.namespace, o.metadata.name), o]),
            );
            for (const key of targets) {
              const target = byKey.get(key);
              expect(target?.metadata.labels?.[WORKSPACE_LABEL], key).to.equal(ws.metadata.name);
              expect(target && controllerUid(target), key).to.equal(UID);
            }
            if (d.mode === "enforce") {
              const listed = new Set(ws.spec.namespaces.map((n) => n.name));
              const outside = [...d.namespaces, ...d.apply].filter(
                (a) => !listed.has(a.planned.object.metadata.namespace ?? a.planned.object.metadata.name),
              );
              expect(outside).to.deep.equal([]);
            }
          },
        ),
        { numRuns: RUNS },
      );
    });
  });

  describe("modes", () => {
    const base: SecureWorkspace = {
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: "team-a", uid: UID, generation: 2, finalizers: [FINALIZER] },
      spec: { namespaces: [{ name: "team-a-dev" }] },
    };
    const enforce = (d: Decision): EnforceDecision => {
      if (d.mode !== "enforce") throw new Error(`expected an enforce decision, got ${d.mode}`);
      return d;
    };
    const converged = (): Cluster => {
      const empty: Cluster = { workspace: base, objects: [] };
      return play(empty, decide(snapshotOf(empty), CONFIG));
    };

    it("absent: a workspace not in the cache decides nothing", () => {
      const d = decide(
        { ...snapshotOf({ workspace: base, objects: [] }), workspace: readWorkspace("gone", undefined) },
        CONFIG,
      );
      expect(d).to.deep.equal({ mode: "absent", workspace: { name: "gone" } });
    });

    it("finalized: a deleted workspace without our finalizer decides nothing", () => {
      const ws = { ...base, metadata: { ...base.metadata, deletionTimestamp: NOW, finalizers: ["other"] } };
      expect(decide(snapshotOf({ workspace: ws, objects: [] }), CONFIG).mode).to.equal("finalized");
    });

    it("finalize: deletes the workspace's own objects with uid preconditions, keeps a created namespace by default", () => {
      const cluster = converged();
      const ws = {
        ...cluster.workspace,
        metadata: { ...cluster.workspace.metadata, deletionTimestamp: NOW },
      };
      const d = decide(snapshotOf({ ...cluster, workspace: ws }), CONFIG);
      if (d.mode !== "finalize") throw new Error(d.mode);
      expect(d.deletes.length).to.equal(objectsLabelledFor(cluster.objects, "team-a").length);
      expect(d.deletes.every((x) => x.uid !== undefined)).to.equal(true);
      expect(d.namespaceDeletes).to.deep.equal([]);
      expect(d.releases.map((r) => r.namespace)).to.deep.equal(["team-a-dev"]);
      expect(d.removeFinalizer.metadata).to.deep.equal({ name: "team-a", uid: UID });
    });

    it("finalize with deletionPolicy Delete: deletes the namespace it created", () => {
      const cluster = converged();
      const ws = {
        ...cluster.workspace,
        metadata: { ...cluster.workspace.metadata, deletionTimestamp: NOW },
        spec: { ...cluster.workspace.spec, deletionPolicy: "Delete" as const },
      };
      const d = decide(snapshotOf({ ...cluster, workspace: ws }), CONFIG);
      if (d.mode !== "finalize") throw new Error(d.mode);
      expect(d.namespaceDeletes.map((x) => x.name)).to.deep.equal(["team-a-dev"]);
      expect(d.releases).to.deep.equal([]);
    });

    it("invalid: nothing but the status (Stalled, InvalidSpec) and a missing finalizer", () => {
      const ws = { ...base, metadata: { ...base.metadata, finalizers: [] }, spec: { namespaces: [] } };
      const d = decide(snapshotOf({ workspace: ws, objects: [] }), CONFIG);
      if (d.mode !== "invalid") throw new Error(d.mode);
      expect(d.finalizer?.metadata).to.deep.equal({ name: "team-a", finalizers: [FINALIZER] });
      expect(d.status?.conditions?.find((c) => c.type === "Stalled")?.reason).to.equal("InvalidSpec");
    });

    it("audit: reports what differs, writes nothing into namespaces", () => {
      const ws = { ...base, spec: { ...base.spec, enforcement: "Audit" as const } };
      const d = decide(snapshotOf({ workspace: ws, objects: [] }), CONFIG);
      if (d.mode !== "audit") throw new Error(d.mode);
      expect(d.pending.length).to.be.greaterThan(0);
      expect(d.status?.drift?.length).to.equal(d.pending.length);
      expect(d.events.map((e) => e.reason)).to.deep.equal(["DriftDetected"]);
    });

    it("enforce on an empty cluster: creates the namespace with only its ownership marks, then applies", () => {
      const d = enforce(decide(snapshotOf({ workspace: base, objects: [] }), CONFIG));
      expect(d.namespaces).to.have.length(1);
      expect(d.namespaces[0]?.create?.metadata).to.deep.equal({
        name: "team-a-dev",
        annotations: { [CREATED_BY_ANNOTATION]: "team-a", [OWNER_UID_ANNOTATION]: UID },
      });
      expect(d.apply.length).to.be.greaterThan(0);
      expect(d.corrected).to.deep.equal([]);
      expect(d.events.map((e) => e.reason)).to.deep.equal(["Created"]);
      expect(d.status?.conditions?.find((c) => c.type === "Ready")?.reason).to.equal("Enforced");
    });

    it("adoption: the write carries the observed resourceVersion as precondition, the plan does not", () => {
      const ns: KubeObject = {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "team-a-dev",
          uid: "uid-ns",
          resourceVersion: "42",
          labels: { [ADOPT_LABEL]: "team-a" },
        },
      };
      const d = enforce(decide(snapshotOf({ workspace: base, objects: [ns] }), CONFIG));
      const step = d.namespaces[0];
      expect(step?.create).to.equal(undefined);
      expect(step?.body.metadata.resourceVersion).to.equal("42");
      expect(step?.planned.object.metadata).to.not.have.property("resourceVersion");
    });

    it("a namespace that is not opted in is a conflict: nothing written into it", () => {
      const ns: KubeObject = {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "team-a-dev", uid: "uid-ns" },
      };
      const d = enforce(decide(snapshotOf({ workspace: base, objects: [ns] }), CONFIG));
      expect(requests(d)).to.deep.equal([]);
      expect(d.status?.conditions?.find((c) => c.type === "Ready")?.reason).to.equal("NamespaceConflict");
      expect(d.events.map((e) => e.reason)).to.deep.equal(["NamespaceConflict"]);
    });

    it("drift: a deleted object of a converged workspace is restored, counted and announced as drift", () => {
      const cluster = converged();
      const victim = objectsLabelledFor(cluster.objects, "team-a")[0];
      const d = enforce(
        decide(snapshotOf({ ...cluster, objects: cluster.objects.filter((o) => o !== victim) }), CONFIG),
      );
      expect(d.apply.map((a) => a.planned.object.metadata.name)).to.deep.equal([victim?.metadata.name]);
      expect(d.corrected).to.have.length(1);
      expect(d.events.map((e) => e.reason)).to.deep.equal(["DriftCorrected"]);
      expect(d.status?.driftCorrections).to.equal((cluster.workspace.status?.driftCorrections ?? 0) + 1);
      expect(d.status?.lastDriftCorrection?.object).to.equal(`${victim?.kind}/${victim?.metadata.name}`);
    });

    it("restatus: a status computed from an old cached one is put on top of the stored one instead", () => {
      const cluster = converged();
      const victim = objectsLabelledFor(cluster.objects, "team-a")[0];
      const d = enforce(
        decide(snapshotOf({ ...cluster, objects: cluster.objects.filter((o) => o !== victim) }), CONFIG),
      );
      const cached = cluster.workspace.status?.driftCorrections ?? 0;
      // The server holds a newer status: two corrections the cache has not seen yet.
      const stored = {
        ...cluster.workspace,
        status: { ...cluster.workspace.status, driftCorrections: cached + 2 },
      };
      const next = restatus(d.statusInput, stored);
      expect(next?.driftCorrections).to.equal(cached + 3);
      expect(next?.conditions).to.deep.equal(d.status?.conditions);
      // A pass that corrected nothing, recomputed on a stored status that is newer but already
      // true, has nothing to write.
      const inSync = enforce(decide(snapshotOf(cluster), CONFIG));
      expect(inSync.status).to.equal(undefined);
      expect(restatus(inSync.statusInput, stored)).to.equal(undefined);
    });

    it("restatus: a restore decided from a status not yet Ready counts as drift once the stored one says Ready", () => {
      const cluster = converged();
      const victim = objectsLabelledFor(cluster.objects, "team-a")[0];
      // The cache still holds the workspace as it was before its first status write.
      const { apiVersion, kind, metadata, spec } = cluster.workspace;
      const unread = { apiVersion, kind, metadata, spec };
      const d = enforce(
        decide(
          snapshotOf({ workspace: unread, objects: cluster.objects.filter((o) => o !== victim) }),
          CONFIG,
        ),
      );
      expect(d.corrected, "not drift as far as the snapshot knows").to.deep.equal([]);
      expect(d.statusInput.uncounted?.map((a) => a.object.metadata.name)).to.deep.equal([
        victim?.metadata.name,
      ]);
      const cached = cluster.workspace.status?.driftCorrections ?? 0;
      expect(restatus(d.statusInput, cluster.workspace)?.driftCorrections).to.equal(cached + 1);
      // A stored status of another generation says nothing about this one: not counted.
      const older = {
        metadata: { ...cluster.workspace.metadata, generation: 9 },
        status: { ...cluster.workspace.status, observedGeneration: 9 },
      };
      expect(restatus(d.statusInput, older)?.driftCorrections ?? cached).to.equal(cached);
    });

    it("settleEnforce: a refused write turns Ready False, emits WriteFailed, and is not counted as corrected", () => {
      const cluster = converged();
      const victim = objectsLabelledFor(cluster.objects, "team-a")[0];
      const d = enforce(
        decide(snapshotOf({ ...cluster, objects: cluster.objects.filter((o) => o !== victim) }), CONFIG),
      );
      const settled = settleEnforce(d, [
        {
          namespace: "team-a-dev",
          object: `${victim?.kind}/${victim?.metadata.name}`,
          control: "networkPolicy",
          reason: "Forbidden",
          message: "apply: forbidden",
        },
      ]);
      expect(settled.corrected).to.deep.equal([]);
      expect(settled.status?.conditions?.find((c) => c.type === "Ready")?.reason).to.equal("Forbidden");
      expect(settled.events.map((e) => e.reason)).to.deep.equal(["DriftCorrected", "WriteFailed"]);
      expect(settled.status?.driftCorrections).to.equal(cluster.workspace.status?.driftCorrections ?? 0);
    });

    it("a revert names the version it judged as precondition; a restore asks the server whether it created", () => {
      const cluster = converged();
      const [edited, deleted] = objectsLabelledFor(cluster.objects, "team-a");
      const objects = cluster.objects
        .filter((o) => o !== deleted)
        .map((o) =>
          o === edited
            ? { ...o, metadata: { ...o.metadata, labels: {}, resourceVersion: "77" }, tampered: true }
            : o,
        );
      const d = enforce(decide(snapshotOf({ ...cluster, objects }), CONFIG));
      const revert = d.apply.find((a) => a.planned.object.metadata.name === edited?.metadata.name);
      expect(revert?.verify).to.equal("version");
      expect(revert?.body.metadata.resourceVersion).to.equal("77");
      expect(revert?.planned.object.metadata).to.not.have.property("resourceVersion");
      const restore = d.apply.find((a) => a.planned.object.metadata.name === deleted?.metadata.name);
      expect(restore?.verify).to.equal("created");
      expect(restore?.body.metadata).to.not.have.property("resourceVersion");
    });

    it("settleEnforce: the same failures give the same status and Events, whatever order the writes finished in", () => {
      const cluster = converged();
      const victims = objectsLabelledFor(cluster.objects, "team-a").slice(0, 3);
      const d = enforce(
        decide(
          snapshotOf({ ...cluster, objects: cluster.objects.filter((o) => !victims.includes(o)) }),
          CONFIG,
        ),
      );
      const failures = victims.map((v, i) => ({
        namespace: v.metadata.namespace ?? "",
        object: `${v.kind}/${v.metadata.name}`,
        control: "networkPolicy" as const,
        reason: i === 0 ? "Forbidden" : "Invalid",
        message: `apply: refused ${i}`,
      }));
      const one = settleEnforce(d, failures);
      const other = settleEnforce(d, [...failures].reverse());
      expect(other.status).to.deep.equal(one.status);
      expect(other.events).to.deep.equal(one.events);
    });

    it("settleEnforce: a counted write the server says undid nothing is neither counted nor announced", () => {
      const cluster = converged();
      const victim = objectsLabelledFor(cluster.objects, "team-a")[0];
      const d = enforce(
        decide(snapshotOf({ ...cluster, objects: cluster.objects.filter((o) => o !== victim) }), CONFIG),
      );
      expect(d.apply[0]?.verify).to.equal("created");
      const settled = settleEnforce(
        d,
        [],
        [`${victim?.metadata.namespace ?? ""}/${victim?.kind}/${victim?.metadata.name}`],
      );
      expect(settled.corrected).to.deep.equal([]);
      expect(settled.events.map((e) => e.reason)).to.not.include("DriftCorrected");
      expect(settled.status?.driftCorrections ?? cluster.workspace.status?.driftCorrections).to.equal(
        cluster.workspace.status?.driftCorrections,
      );
    });

    it("a namespace the spec no longer lists is released, never deleted", () => {
      const cluster = converged();
      const ws = { ...cluster.workspace, spec: { namespaces: [{ name: "team-a-prod" }] } };
      const d = enforce(decide(snapshotOf({ ...cluster, workspace: ws }), CONFIG));
      expect(d.release.map((r) => r.namespace)).to.deep.equal(["team-a-dev"]);
      // A created namespace has no adoption record: name and uid only (the uid as precondition).
      expect(Object.keys(d.release[0]?.body.metadata ?? {})).to.deep.equal(["name", "uid"]);
      expect(d.prune.length).to.equal(objectsLabelledFor(cluster.objects, "team-a").length);
    });
  });
});
