/**
 * The middle of a reconcile, pure: a {@link Snapshot} (plain data the reconciler read from the
 * caches once) and the operator's configuration in, a {@link Decision} out: the writes, prunes and
 * releases to send, the status to leave behind and the Events to emit, with the kind of pass as an
 * explicit `mode`. No cache, no client, no clock: the same snapshot always gives the same
 * decision, which is what the unit tests check, with plain objects.
 *
 * The one thing a decision cannot know is how the API server answers its writes. An enforcing
 * pass therefore carries the status and Events for "every write took effect", and
 * {@link settleEnforce} (pure as well) recomputes them from the failures the writer met.
 *
 * Status is a function of the snapshot, with two pieces of history kept on purpose, both read
 * from the workspace's previous status (see README, Design decisions): the drift-correction count
 * and last correction, and whether the workspace was converged at this generation before (which
 * makes a missing object drift rather than a first creation). Neither changes what is written.
 */
import {
  ADOPTED_FROM_ANNOTATION,
  API_VERSION,
  CREATED_BY_ANNOTATION,
  FINALIZER,
  KIND,
  OWNER_UID_ANNOTATION,
} from "../api/constants.js";
import { checkWorkspace } from "../api/check.js";
import { applyDefaults, type ResolvedSpec } from "../api/defaults.js";
import type { Problem } from "../api/problems.js";
import { isProtectedNamespace } from "../api/protected.js";
import type { SecureWorkspace, SecureWorkspaceStatus } from "../api/types.js";
import { desiredStateOf } from "../baseline/index.js";
import { ISTIO_SECURITY_API } from "../baseline/mesh.js";
import { objectRef, type DesiredObject } from "../baseline/objects.js";
import { posture, type Finding, type NamespaceInfo } from "../baseline/posture.js";
import type { KubeObject } from "../runtime/client.js";
import { errorMessage } from "../runtime/errors.js";
import type { EventType } from "../observability/events.js";
import {
  objectKey,
  ownedBy,
  plan,
  withAppliedHash,
  type Plan,
  type PlannedApply,
  type PlannedPrune,
} from "./diff.js";
import { foreignNetworkPolicy, foreignPeerAuthentication, foreignRoleBinding } from "./foreign.js";
import {
  adoptionRecord,
  createdNamespace,
  encodeAdoptionRecord,
  holdingOf,
  ownsNamespace,
  releaseBody,
  type Holding,
} from "./holdings.js";
import {
  computeStatus,
  foreignMessage,
  statusChanged,
  type NamespaceConflict,
  type ReconcileOutcome,
  type WriteFailure,
} from "./status.js";

/** How long to wait before looking again at an owned namespace that is being deleted. */
export const TERMINATING_RECHECK_MS = 2_000;

/** How long to wait before looking for Istio again while it is missing. */
export const MESH_RECHECK_MS = 30_000;

/** Ready reasons that say a write failed (see WriteFailureReason), for the WriteFailed Event. */
const WRITE_FAILURE_REASONS = new Set([
  "Forbidden",
  "AdmissionRefused",
  "Invalid",
  "Conflict",
  "NotFound",
  "Unavailable",
  "WriteFailed",
  "WriteIneffective",
]);

/** The operator's configuration, as far as deciding needs it. */
export interface DecideConfig {
  /** The operator's own namespace: never held by a workspace. */
  readonly operatorNamespace: string;
  /** Patterns of namespaces never created nor adopted (see isProtectedNamespace). */
  readonly protectedNamespaces: readonly string[];
}

/**
 * The workspace as read from the cache, parsed once: gone, being deleted, too broken to enforce,
 * or valid with its resolved spec and every object the baseline wants for it (before deciding
 * which namespaces it may hold). The reader needs the desired objects' names to know what to read.
 */
export type WorkspaceReading =
  | { readonly state: "absent"; readonly name: string }
  | { readonly state: "deleting"; readonly object: SecureWorkspace }
  | { readonly state: "invalid"; readonly object: SecureWorkspace; readonly problems: readonly Problem[] }
  | {
      readonly state: "valid";
      readonly object: SecureWorkspace;
      readonly spec: ResolvedSpec;
      readonly desired: readonly DesiredObject[];
    };

/** Semantic validation; a spec too broken to read is a problem, not a crash. */
function validate(ws: SecureWorkspace): Problem[] {
  try {
    if (!ws.spec || typeof ws.spec !== "object") return [{ path: "spec", message: "is required" }];
    return checkWorkspace(ws);
  } catch (err) {
    return [{ path: "spec", message: `cannot be read: ${errorMessage(err)}` }];
  }
}

/** Parses the workspace named `name` as the cache holds it (undefined: not there). */
export function readWorkspace(name: string, ws: SecureWorkspace | undefined): WorkspaceReading {
  if (!ws) return { state: "absent", name };
  if (ws.metadata.deletionTimestamp) return { state: "deleting", object: ws };
  const problems = validate(ws);
  if (problems.length > 0) return { state: "invalid", object: ws, problems };
  const spec = applyDefaults(ws.spec);
  const desired = desiredStateOf({ name: ws.metadata.name, uid: ws.metadata.uid ?? "" }, spec);
  return { state: "valid", object: ws, spec, desired };
}

/**
 * The key of an observed object in {@link Snapshot.objects}: {@link objectKey}, with no namespace
 * for a Namespace (cluster-scoped, whatever a caller passes).
 */
export function observedKey(kind: string, namespace: string | undefined, name: string): string {
  return objectKey(kind, kind === "Namespace" ? undefined : namespace, name);
}

/**
 * Everything one pass reads, read once and then only looked at: what the caches held when the
 * pass began (the operator's own not-yet-echoed writes included). Fields a workspace's state does
 * not need are empty (a deleted workspace reads no posture).
 */
export interface Snapshot {
  /** The workspace, parsed (see readWorkspace). */
  readonly workspace: WorkspaceReading;
  /** The time of the pass, RFC 3339 in seconds (condition transition times). */
  readonly now: string;
  /** Whether Istio's security API is served; read only when the spec asks for Istio. */
  readonly meshInstalled?: boolean;
  /**
   * Observed objects by {@link observedKey}: whatever exists at the names of the desired objects
   * (the listed Namespaces among them). A name with nothing there is absent from the map.
   */
  readonly objects: ReadonlyMap<string, KubeObject>;
  /** Uids of the other workspaces that listed namespaces are labelled for (conflict check). */
  readonly workspaceUids: ReadonlyMap<string, string>;
  /** Namespaced objects labelled managed by this workspace, of watched kinds: prune candidates. */
  readonly managed: readonly KubeObject[];
  /** Namespaces labelled for this workspace: released when no longer listed. */
  readonly labelledNamespaces: readonly KubeObject[];
  /** NetworkPolicies, RoleBindings and PeerAuthentications in the listed namespaces, everyone's. */
  readonly neighbours: readonly KubeObject[];
  /** Every namespace's name and labels, read only when a foreign NetworkPolicy needs them. */
  readonly clusterNamespaces: readonly NamespaceInfo[];
}

/** An Event to emit on the workspace. */
export interface EventSpec {
  readonly type: EventType;
  readonly reason: string;
  readonly action: string;
  readonly message: string;
  /** The write a DriftCorrected Event is about (`namespace/Kind/name`): dropped if it undid nothing. */
  readonly write?: string;
}

/** The workspace a decision is about (the Events' subject). */
export interface WorkspaceRef {
  readonly name: string;
  readonly uid?: string;
  /**
   * The version the decision was made from: the status write's precondition. A cache that has not
   * yet seen the operator's own last status write must not overwrite it (see `restatus`).
   */
  readonly resourceVersion?: string;
}

/** One object write of an enforcing pass, as it goes on the wire. */
export interface ApplyStep {
  readonly planned: PlannedApply;
  /**
   * The server-side-apply body: the planned object and, on adoption, the namespace's observed
   * resourceVersion as precondition (a change between the opt-in check and the write, such as the
   * opt-in label removed, makes the write fail instead of adopting). Added here, after planning,
   * so it never enters the content hash nor the comparison.
   */
  readonly body: KubeObject;
  /**
   * A namespace that does not exist: created first (never applied, which would take over a
   * namespace someone made meanwhile) with only the ownership marks, so even a crash right after
   * leaves a namespace that says it is ours; the body is then applied with the new uid.
   */
  readonly create?: KubeObject;
  /**
   * How the writer learns from the server, not the cache, whether this write undid a change (and
   * so counts): `created`, the object was still gone and this write made it (201); `version`, the
   * body carries the observed resourceVersion as precondition, and a conflict (the cache was
   * behind) makes the writer read the object and write again only if it still differs (already
   * right: not counted; gone or someone else's meanwhile: the conflict is the write's failure).
   * Absent for writes that count as nothing (a spec change rolled out).
   */
  readonly verify?: "created" | "version";
}

/** A delete with a uid precondition (never someone's object re-created at the same name). */
export interface DeleteStep {
  readonly kind: string;
  readonly namespace?: string;
  readonly name: string;
  readonly uid?: string;
}

/** A namespace given back: the body that restores what adoption found (see releaseBody). */
export interface ReleaseStep {
  readonly namespace: string;
  readonly body: KubeObject;
}

/** The workspace is not in the cache: nothing to do. */
export interface AbsentDecision {
  readonly mode: "absent";
  readonly workspace: WorkspaceRef;
}

/** The workspace is being deleted and its finalizer is already gone: nothing left to do. */
export interface FinalizedDecision {
  readonly mode: "finalized";
  readonly workspace: WorkspaceRef;
}

/**
 * The workspace is being deleted: remove what it made, keep (or with deletionPolicy Delete,
 * remove created) namespaces, then drop the finalizer. A failure is shown in status
 * (finalizeFailedStatus of `object`, with the error the writer met).
 */
export interface FinalizeDecision {
  readonly mode: "finalize";
  readonly workspace: WorkspaceRef;
  /** The workspace as read, for the FinalizeFailed status. */
  readonly object: SecureWorkspace;
  readonly now: string;
  /** Objects it created (its uid in their controller ownerReference). */
  readonly deletes: readonly DeleteStep[];
  /** Namespaces it created, with deletionPolicy Delete. */
  readonly namespaceDeletes: readonly DeleteStep[];
  /** Every other namespace it owns. */
  readonly releases: readonly ReleaseStep[];
  /**
   * The apply that removes the finalizer: the operator's field manager owns only that entry, so
   * applying nothing drops it; the uid makes it a precondition, never a create.
   */
  readonly removeFinalizer: KubeObject;
}

/** The spec cannot be enforced: nothing is written but the finalizer and the status. */
export interface InvalidDecision {
  readonly mode: "invalid";
  readonly workspace: WorkspaceRef;
  /** The apply that adds the finalizer, when it is missing. */
  readonly finalizer?: KubeObject;
  /** The status to write; undefined when the stored one is already equal. */
  readonly status?: SecureWorkspaceStatus;
  /** What the status is computed from (for `restatus`). */
  readonly statusInput: ReconcileOutcome;
}

/** Audit mode: nothing written into namespaces; what differs is reported. */
export interface AuditDecision {
  readonly mode: "audit";
  readonly workspace: WorkspaceRef;
  readonly finalizer?: KubeObject;
  /** What differs from the baseline and is left alone (prunes shown as drift). */
  readonly pending: readonly PlannedApply[];
  readonly status?: SecureWorkspaceStatus;
  /** What the status is computed from (for `restatus`). */
  readonly statusInput: ReconcileOutcome;
  readonly events: readonly EventSpec[];
  readonly requeueAfterMs?: number;
}

/** Enforce mode: the writes that bring the held namespaces to the baseline. */
export interface EnforceDecision {
  readonly mode: "enforce";
  readonly workspace: WorkspaceRef;
  readonly finalizer?: KubeObject;
  /** Namespace writes, sent first: the other objects live in them. */
  readonly namespaces: readonly ApplyStep[];
  /** Every other write; those into a namespace whose own write failed are skipped. */
  readonly apply: readonly ApplyStep[];
  /** The workspace's own objects the baseline no longer wants. */
  readonly prune: readonly PlannedPrune[];
  /** Owned namespaces the spec no longer lists: given back, never deleted. */
  readonly release: readonly ReleaseStep[];
  /** What status is computed from, before the writes' results are known. */
  readonly outcome: ReconcileOutcome;
  /** Events that depend only on the plan (created, corrected, pruned, namespace conflicts). */
  readonly planEvents: readonly EventSpec[];
  /** The status when every write takes effect; undefined when the stored one is already equal. */
  readonly status?: SecureWorkspaceStatus;
  /** What that status is computed from (for `restatus`). */
  readonly statusInput: ReconcileOutcome;
  /** The Events when every write takes effect (planEvents and any problem Event). */
  readonly events: readonly EventSpec[];
  /** The drift corrected when every write takes effect, in plan order. */
  readonly corrected: readonly PlannedApply[];
  readonly requeueAfterMs?: number;
}

/** What one pass does, by the kind of pass. */
export type Decision =
  AbsentDecision | FinalizedDecision | FinalizeDecision | InvalidDecision | AuditDecision | EnforceDecision;

/** The decision for one snapshot. Pure. */
export function decide(snapshot: Snapshot, config: DecideConfig): Decision {
  const reading = snapshot.workspace;
  switch (reading.state) {
    case "absent":
      return { mode: "absent", workspace: { name: reading.name } };
    case "deleting":
      return finalize(reading.object, snapshot);
    case "invalid": {
      const statusInput = { ...outcomeBase(reading.object, snapshot.now), invalid: reading.problems };
      return {
        mode: "invalid",
        workspace: refOf(reading.object),
        ...finalizerStep(reading.object),
        ...statusStep(reading.object.status, computeStatus(statusInput)),
        statusInput,
      };
    }
    case "valid":
      return converge(reading.object, reading.spec, reading.desired, snapshot, config);
  }
}

function refOf(ws: SecureWorkspace): WorkspaceRef {
  const { name, uid, resourceVersion } = ws.metadata;
  return { name, ...(uid ? { uid } : {}), ...(resourceVersion ? { resourceVersion } : {}) };
}

/**
 * The status to write when the stored workspace turns out to be `stored` rather than what the
 * snapshot held (the status write's precondition failed: the cache had not yet seen the last
 * status write, or someone wrote status meanwhile). Recomputed from the same input with the
 * stored status as the previous one, so what status remembers (the driftCorrections total,
 * transition times) is added to, never overwritten. Objects restored as Missing count as drift
 * when the stored status says Ready at this generation, even if the one read did not. Undefined
 * when `stored` already says it all. Pure.
 */
export function restatus(
  input: ReconcileOutcome,
  stored: Pick<SecureWorkspace, "metadata" | "status">,
): SecureWorkspaceStatus | undefined {
  const recount =
    stored.metadata.generation === input.generation && convergedBefore(stored) ? (input.uncounted ?? []) : [];
  const corrected = [...(input.corrected ?? []), ...recount];
  return statusStep(stored.status, computeStatus({ ...input, corrected, previous: stored.status })).status;
}

function workspaceStub(ws: SecureWorkspace, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: API_VERSION, kind: KIND, metadata: { name: ws.metadata.name, ...extra } };
}

function finalizerStep(ws: SecureWorkspace): { finalizer?: KubeObject } {
  return (ws.metadata.finalizers ?? []).includes(FINALIZER)
    ? {}
    : { finalizer: workspaceStub(ws, { finalizers: [FINALIZER] }) };
}

function statusStep(
  previous: SecureWorkspaceStatus | undefined,
  next: SecureWorkspaceStatus,
): { status?: SecureWorkspaceStatus } {
  return statusChanged(previous, next) ? { status: next } : {};
}

function outcomeBase(
  ws: SecureWorkspace,
  now: string,
): Pick<ReconcileOutcome, "generation" | "now" | "previous"> {
  return { generation: ws.metadata.generation ?? 0, now, previous: ws.status };
}

/** A desired object as a request body. */
function body(obj: DesiredObject): KubeObject {
  return { ...obj, metadata: { ...obj.metadata } };
}

function finalize(ws: SecureWorkspace, s: Snapshot): FinalizeDecision | FinalizedDecision {
  const name = ws.metadata.name;
  const uid = ws.metadata.uid ?? "";
  if (!(ws.metadata.finalizers ?? []).includes(FINALIZER)) return { mode: "finalized", workspace: refOf(ws) };
  // Only what this workspace created (its uid in the ownerReference), never a forged label.
  const deletes = s.managed
    .filter((o) => ownedBy(o, uid))
    .map((o) => ({
      kind: o.kind,
      name: o.metadata.name,
      ...(o.metadata.namespace !== undefined ? { namespace: o.metadata.namespace } : {}),
      ...(o.metadata.uid ? { uid: o.metadata.uid } : {}),
    }));
  // The stored spec may no longer validate: read only the one field needed, defensively.
  const deleteCreated = (ws.spec as { deletionPolicy?: unknown } | undefined)?.deletionPolicy === "Delete";
  const owned = s.labelledNamespaces.filter((ns) => ownsNamespace(ns, uid));
  const removed = owned.filter((ns) => deleteCreated && createdNamespace(ns, name, uid));
  return {
    mode: "finalize",
    workspace: refOf(ws),
    object: ws,
    now: s.now,
    deletes,
    namespaceDeletes: removed.map((ns) => ({
      kind: "Namespace",
      name: ns.metadata.name,
      ...(ns.metadata.uid ? { uid: ns.metadata.uid } : {}),
    })),
    releases: owned
      .filter((ns) => !removed.includes(ns))
      .map((ns) => ({ namespace: ns.metadata.name, body: releaseBody(ns) })),
    removeFinalizer: workspaceStub(ws, ws.metadata.uid ? { uid: ws.metadata.uid } : {}),
  };
}

/**
 * Whether the previous status says every desired object was in place at this generation: Ready
 * True with reason Enforced. Then an object found missing was removed by someone (drift, counted
 * and announced as such); otherwise it is being created. Kept from status on purpose: a missing
 * object leaves nothing on the cluster that says whether it was ever there (see README, Design
 * decisions). It decides only how a write is labelled, never whether it is sent.
 */
export function convergedBefore(ws: Pick<SecureWorkspace, "metadata" | "status">): boolean {
  const previous = ws.status;
  return (
    previous?.observedGeneration === ws.metadata.generation &&
    Array.isArray(previous?.conditions) &&
    previous.conditions.some((c) => c?.type === "Ready" && c.status === "True" && c.reason === "Enforced")
  );
}

/**
 * The ownership marks on a desired Namespace: the owner uid always; the created-by mark on a
 * namespace this workspace creates (and keeps it); on adoption, the record of what it overwrites
 * (kept as first recorded while the namespace stays owned).
 */
function withOwnership(
  workspace: string,
  uid: string,
  obj: DesiredObject,
  holding: Holding | undefined,
): DesiredObject {
  const current = holding && "current" in holding ? holding.current : undefined;
  const own: Record<string, string> = { [OWNER_UID_ANNOTATION]: uid };
  const existing = current?.metadata.annotations ?? {};
  if (holding?.kind === "create" || existing[CREATED_BY_ANNOTATION] === workspace)
    own[CREATED_BY_ANNOTATION] = workspace;
  const recorded = existing[ADOPTED_FROM_ANNOTATION];
  if (holding?.kind === "owned" && recorded !== undefined) own[ADOPTED_FROM_ANNOTATION] = recorded;
  if (holding?.kind === "adopt" && current)
    own[ADOPTED_FROM_ANNOTATION] = encodeAdoptionRecord(adoptionRecord(current, obj.metadata));
  if (holding?.kind === "read") return obj;
  const annotations = { ...(obj.metadata.annotations ?? {}), ...own };
  return { ...obj, metadata: { ...obj.metadata, annotations } };
}

/** The body of a Namespace write: on adoption, with the observed resourceVersion (see ApplyStep.body). */
function withAdoptionPrecondition(obj: DesiredObject, holding: Holding | undefined): KubeObject {
  if (obj.kind !== "Namespace" || holding?.kind !== "adopt") return body(obj);
  const rv = holding.current.metadata.resourceVersion;
  return rv ? { ...body(obj), metadata: { ...obj.metadata, resourceVersion: rv } } : body(obj);
}

/** The create of a missing namespace: its name and ownership marks only (see ApplyStep.create). */
function createBody(obj: DesiredObject): KubeObject {
  const annotations = Object.fromEntries(
    Object.entries(obj.metadata.annotations ?? {}).filter(
      ([k]) => k === CREATED_BY_ANNOTATION || k === OWNER_UID_ANNOTATION,
    ),
  );
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: obj.metadata.name, annotations } };
}

/**
 * The effective posture: others' NetworkPolicies, RoleBindings and (with Istio) PeerAuthentications
 * in the held namespaces that widen what the spec declares.
 */
function postureOf(
  name: string,
  uid: string,
  spec: ResolvedSpec,
  held: ReadonlySet<string>,
  mesh: boolean,
  s: Snapshot,
): Finding[] {
  const others = (kind: string): KubeObject[] =>
    s.neighbours.filter((o) => o.kind === kind && held.has(o.metadata.namespace ?? "") && !ownedBy(o, uid));
  const networkPolicies = others("NetworkPolicy").flatMap((o) => foreignNetworkPolicy(o) ?? []);
  const roleBindings = others("RoleBinding").flatMap((o) => foreignRoleBinding(o) ?? []);
  const peerAuthentications = mesh
    ? others("PeerAuthentication").flatMap((o) => foreignPeerAuthentication(o) ?? [])
    : [];
  if (networkPolicies.length + roleBindings.length + peerAuthentications.length === 0) return [];
  return posture({
    workspace: name,
    namespaces: [...held],
    spec,
    clusterNamespaces: networkPolicies.length > 0 ? [...s.clusterNamespaces] : [],
    networkPolicies,
    roleBindings,
    peerAuthentications,
  });
}

/** A prune shown as drift in Audit mode (the object should not be there). */
function pruneAsDrift(p: PlannedPrune): PlannedApply {
  const object = withAppliedHash({
    apiVersion: p.apiVersion,
    kind: p.kind,
    metadata: { name: p.name, namespace: p.namespace, labels: {} },
  });
  return { object, reason: "Differs", drift: true };
}

function converge(
  ws: SecureWorkspace,
  spec: ResolvedSpec,
  allDesired: readonly DesiredObject[],
  s: Snapshot,
  config: DecideConfig,
): AuditDecision | EnforceDecision {
  const name = ws.metadata.name;
  const uid = ws.metadata.uid ?? "";
  const audit = spec.enforcement === "Audit";
  const holdings = spec.namespaces.map((n) =>
    holdingOf(n.name, s.objects.get(observedKey("Namespace", undefined, n.name)), {
      workspace: name,
      uid,
      audit,
      operatorNamespace: config.operatorNamespace,
      isProtected: (ns) => isProtectedNamespace(ns, config.protectedNamespaces, config.operatorNamespace),
      workspaceUid: (w) => s.workspaceUids.get(w),
    }),
  );
  const conflicts = holdings.flatMap((h) => (h.kind === "conflict" ? [h.conflict] : []));
  // A namespace being deleted accepts no new objects: wait until it is gone, then re-create it.
  const terminating = holdings.filter((h) => h.kind === "terminating").map((h) => h.name);
  const byName = new Map(holdings.map((h) => [h.name, h]));
  const held = new Set(
    holdings.filter((h) => h.kind !== "conflict" && h.kind !== "terminating").map((h) => h.name),
  );
  // Without an answer from discovery, Istio counts as missing: its objects are left out and the
  // pass looks again later, rather than planning against kinds nobody watches.
  const meshInstalled = spec.serviceMesh.provider === "istio" ? s.meshInstalled === true : undefined;

  const desired = allDesired
    .filter((o) => held.has(o.metadata.namespace ?? o.metadata.name))
    .filter((o) => meshInstalled !== false || o.apiVersion !== ISTIO_SECURITY_API)
    .map((o) => (o.kind === "Namespace" ? withOwnership(name, uid, o, byName.get(o.metadata.name)) : o));
  const thePlan = plan(
    desired,
    (k, ns, n) => s.objects.get(observedKey(k, ns, n)),
    s.managed,
    convergedBefore(ws),
    uid,
  );
  const outcome: ReconcileOutcome = {
    ...outcomeBase(ws, s.now),
    spec,
    conflicts,
    terminating,
    desired,
    foreign: thePlan.foreign,
    findings: postureOf(name, uid, spec, held, meshInstalled === true, s),
    ...(meshInstalled !== undefined ? { meshInstalled } : {}),
  };
  const requeueAfterMs =
    terminating.length > 0 ? TERMINATING_RECHECK_MS : meshInstalled === false ? MESH_RECHECK_MS : undefined;
  const common = {
    workspace: refOf(ws),
    ...finalizerStep(ws),
    ...(requeueAfterMs !== undefined ? { requeueAfterMs } : {}),
  };
  const planEvents = [...planEventsOf(ws, thePlan, audit), ...conflictEvent(ws, conflicts)];

  if (audit) {
    const pending = [...thePlan.apply, ...thePlan.prune.map(pruneAsDrift)];
    const statusInput: ReconcileOutcome = { ...outcome, pending };
    const status = computeStatus(statusInput);
    return {
      mode: "audit",
      ...common,
      pending,
      ...statusStep(ws.status, status),
      statusInput,
      events: [...planEvents, ...problemEvent(ws.status, thePlan.foreign.map(foreignMessage), status)],
    };
  }

  const released = s.labelledNamespaces.filter((ns) => ownsNamespace(ns, uid) && !held.has(ns.metadata.name));
  const step = (a: PlannedApply): ApplyStep => {
    const holding = a.object.kind === "Namespace" ? byName.get(a.object.metadata.name) : undefined;
    const create =
      a.object.kind === "Namespace" && holding?.kind === "create" && a.reason === "Missing"
        ? { create: createBody(a.object) }
        : {};
    const counts = a.drift || a.reason === "Missing";
    const version = s.objects.get(
      observedKey(a.object.kind, a.object.metadata.namespace, a.object.metadata.name),
    )?.metadata.resourceVersion;
    if (counts && a.reason === "Missing")
      return { planned: a, body: withAdoptionPrecondition(a.object, holding), ...create, verify: "created" };
    if (counts && version && !a.recreateUid && holding?.kind !== "adopt")
      return {
        planned: a,
        body: { ...body(a.object), metadata: { ...a.object.metadata, resourceVersion: version } },
        verify: "version",
      };
    return { planned: a, body: withAdoptionPrecondition(a.object, holding), ...create };
  };
  const decision: Omit<EnforceDecision, "status" | "statusInput" | "events" | "corrected"> = {
    mode: "enforce",
    ...common,
    namespaces: thePlan.apply.filter((a) => a.object.kind === "Namespace").map(step),
    apply: thePlan.apply.filter((a) => a.object.kind !== "Namespace").map(step),
    prune: thePlan.prune,
    release: released.map((ns) => ({ namespace: ns.metadata.name, body: releaseBody(ns) })),
    outcome,
    planEvents,
  };
  return { ...decision, ...settleEnforce(decision, []) };
}

/** What an enforcing pass leaves behind once its writes' results are known. */
export interface Settled {
  /** The status to write; undefined when the stored one is already equal. */
  readonly status?: SecureWorkspaceStatus;
  /** What that status is computed from (for `restatus`). */
  readonly statusInput: ReconcileOutcome;
  readonly events: readonly EventSpec[];
  /** The writes that undid someone's change, in plan order (drift corrected in this pass). */
  readonly corrected: readonly PlannedApply[];
}

/**
 * Status and Events of an enforcing pass given the writes that failed or had no effect. Every
 * planned write not among the failures took effect, except those skipped into a namespace whose
 * own write failed (which counts as that namespace's failure). Pure.
 */
export function settleEnforce(
  d: Pick<EnforceDecision, "namespaces" | "apply" | "outcome" | "planEvents">,
  unsorted: readonly WriteFailure[],
  /** `namespace/Kind/name` of writes the server says undid nothing (see ApplyStep.verify). */
  undidNothing: readonly string[] = [],
): Settled {
  // In a fixed order, not the order concurrent writes finished: the same failures give the same
  // status, so a failing workspace does not write a new status (and wake itself) on every retry.
  const failures = [...unsorted].sort((a, b) => writeKey(a).localeCompare(writeKey(b)));
  const failedNamespaces = new Set(
    failures.filter((f) => f.object === `Namespace/${f.namespace}`).map((f) => f.namespace),
  );
  const failed = new Set(failures.map(writeKey));
  const nothing = new Set(undidNothing);
  const effective = [...d.namespaces, ...d.apply]
    .map((a) => a.planned)
    .filter((a) => {
      const key = writeKeyOf(a.object);
      return (
        !failed.has(key) &&
        !nothing.has(key) &&
        (a.object.kind === "Namespace" || !failedNamespaces.has(a.object.metadata.namespace ?? ""))
      );
    });
  const corrected = effective.filter((a) => a.drift);
  const uncounted = effective.filter((a) => !a.drift && a.reason === "Missing");
  const statusInput: ReconcileOutcome = {
    ...d.outcome,
    corrected,
    ...(uncounted.length > 0 ? { uncounted } : {}),
    ...(failures.length > 0 ? { failures } : {}),
  };
  const status = computeStatus(statusInput);
  const foreign = (d.outcome.foreign ?? []).map(foreignMessage);
  return {
    ...statusStep(d.outcome.previous, status),
    statusInput,
    events: [
      ...d.planEvents.filter((e) => e.write === undefined || !nothing.has(e.write)),
      ...problemEvent(d.outcome.previous, foreign, status),
    ],
    corrected,
  };
}

/** `namespace/Kind/name` of a failed write. */
function writeKey(f: WriteFailure): string {
  return `${f.namespace}/${f.object}`;
}

/** `namespace/Kind/name` of a write of `o` (a Namespace is its own namespace), as failures name it. */
export function writeKeyOf(o: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${o.metadata.namespace ?? o.metadata.name}/${objectRef(o)}`;
}

/** Events for what the plan changes (Enforce) or finds (Audit); none when nothing does. */
function planEventsOf(ws: SecureWorkspace, p: Plan, audit: boolean): EventSpec[] {
  const out: EventSpec[] = [];
  if (audit) {
    const before = ws.status?.drift?.length ?? 0;
    const now = p.apply.length + p.prune.length;
    if (now > 0 && now !== before)
      out.push({
        type: "Warning",
        reason: "DriftDetected",
        action: "Audit",
        message: `${now} objects differ from the baseline (audit mode: not corrected)`,
      });
    return out;
  }
  const created = p.apply
    .filter((a) => !a.drift && a.reason === "Missing")
    .map((a) => `${a.object.metadata.namespace ?? ""}/${objectRef(a.object)}`);
  if (created.length > 0)
    out.push({
      type: "Normal",
      reason: "Created",
      action: "Apply",
      message: `created ${created.length}: ${created.slice(0, 20).join(", ")}`,
    });
  for (const d of p.apply.filter((a) => a.drift))
    out.push({
      type: "Warning",
      reason: "DriftCorrected",
      action: "Apply",
      message: `${d.reason === "Missing" ? "restored" : "reverted a change to"} ${objectRef(d.object)} in ${d.object.metadata.namespace ?? d.object.metadata.name}`,
      write: writeKeyOf(d.object),
    });
  if (p.prune.length > 0)
    out.push({
      type: "Normal",
      reason: "Pruned",
      action: "Delete",
      message: `deleted ${p.prune.length} no longer wanted: ${p.prune
        .slice(0, 20)
        .map((x) => `${x.namespace}/${x.kind}/${x.name}`)
        .join(", ")}`,
    });
  return out;
}

/** A NamespaceConflict Warning when the conflicts differ from what status last said. */
function conflictEvent(ws: SecureWorkspace, conflicts: readonly NamespaceConflict[]): EventSpec[] {
  const previous = ws.status?.conditions?.find(
    (c) => c.type === "Stalled" && c.reason === "NamespaceConflict",
  )?.message;
  const message = conflicts.map((c) => c.message).join("; ");
  return conflicts.length > 0 && message !== previous
    ? [{ type: "Warning", reason: "NamespaceConflict", action: "Adopt", message }]
    : [];
}

/**
 * A failed write or an object in the way: one Warning each time what status says changes (not
 * on every retry), carrying the same message as the Ready condition.
 */
function problemEvent(
  previous: SecureWorkspaceStatus | undefined,
  foreign: readonly string[],
  status: SecureWorkspaceStatus,
): EventSpec[] {
  const ready = status.conditions?.find((c) => c.type === "Ready");
  const before = Array.isArray(previous?.conditions)
    ? previous.conditions.find((c) => c?.type === "Ready")
    : undefined;
  if (ready?.status !== "False" || (ready.reason === before?.reason && ready.message === before?.message))
    return [];
  if (ready.reason === "ForeignPolicyWidensAccess")
    return [
      { type: "Warning", reason: "ForeignPolicyWidensAccess", action: "Evaluate", message: ready.message },
    ];
  if (ready.reason === "ForeignObjectConflict")
    return [
      { type: "Warning", reason: "ForeignObjectConflict", action: "Apply", message: foreign.join("; ") },
    ];
  if (!WRITE_FAILURE_REASONS.has(ready.reason)) return [];
  return [{ type: "Warning", reason: "WriteFailed", action: "Apply", message: ready.message }];
}
