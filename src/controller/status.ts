/**
 * Status as users and auditors read it: kstatus conditions (Ready, Reconciling, Stalled), one
 * condition per control, per-namespace readiness, drift counters and the compliance controls.
 * Pure: decide.ts hands in what the snapshot holds and what the pass did; the clock comes in as
 * `now`. Of the previous status a valid pass keeps only condition transition times and the drift
 * history; an invalid spec keeps the rest of it too (nothing was changed, so it still holds).
 */
import isEqual from "lodash/isEqual.js";
import type { ResolvedSpec } from "../api/defaults.js";
import type { Problem } from "../api/problems.js";
import type {
  Condition,
  ControlStatus,
  DriftEntry,
  NamespaceStatus,
  SecureWorkspaceStatus,
} from "../api/types.js";
import { controlOf } from "../baseline/index.js";
import {
  BASELINE_CONTROLS,
  CHANGE_CONTROL,
  CONDITION_OF_CONTROL,
  CONTROL_CATALOGUE,
  CONTROLS,
  MONITORING_CONTROL,
  type BaselineControl,
} from "../baseline/controls.js";
import { objectRef, type Control, type DesiredObject } from "../baseline/objects.js";
import type { Finding } from "../baseline/posture.js";
import type { ForeignObject, PlannedApply } from "./diff.js";

/** A namespace the workspace may not take. */
export interface NamespaceConflict {
  readonly namespace: string;
  readonly reason: "OwnedByAnotherWorkspace" | "SystemNamespace" | "ProtectedNamespace" | "NotOptedIn";
  readonly message: string;
}

/** A write the API server refused or that did not take effect. */
export interface WriteFailure {
  /** The namespace the object lives in (a Namespace: its own name). */
  readonly namespace: string;
  /** The object, `Kind/name`. */
  readonly object: string;
  /** The control the object evidences (its status condition). */
  readonly control: Control;
  /** A condition reason: Forbidden, AdmissionRefused, Invalid, Conflict, NotFound, Unavailable, WriteIneffective, ... */
  readonly reason: string;
  /** The verb and the server's message. */
  readonly message: string;
}

/** Failure reasons a retry may fix by itself (no change by a person needed): not Stalled. */
const TRANSIENT_FAILURES = new Set(["Conflict", "Unavailable", "NotFound"]);

/** Everything one reconcile pass learned, as input to {@link computeStatus}. */
export interface ReconcileOutcome {
  readonly generation: number;
  readonly now: string;
  readonly previous: SecureWorkspaceStatus | undefined;
  /** Problems that make the spec unusable (Stalled); nothing else is then filled in. */
  readonly invalid?: readonly Problem[];
  readonly spec?: ResolvedSpec;
  readonly conflicts?: readonly NamespaceConflict[];
  /** Owned namespaces being deleted: re-created once gone. */
  readonly terminating?: readonly string[];
  /** Desired objects for the namespaces the workspace holds (conflicts excluded). */
  readonly desired?: readonly DesiredObject[];
  /** Audit mode: what differs and was left alone. */
  readonly pending?: readonly PlannedApply[];
  /** Drift corrected in this pass. */
  readonly corrected?: readonly PlannedApply[];
  /**
   * Objects restored as Missing without counting as drift: the status read did not say Ready at
   * this generation. Not shown; `restatus` counts them when the stored status says it was.
   */
  readonly uncounted?: readonly PlannedApply[];
  /** Whether Istio's security API is served (undefined when no Istio is asked for). */
  readonly meshInstalled?: boolean;
  /** Writes refused or without effect in this pass (the pass is retried with back-off). */
  readonly failures?: readonly WriteFailure[];
  /** Objects at the workspace's names that it did not create: left alone, reported. */
  readonly foreign?: readonly ForeignObject[];
  /** Others' objects that widen what the workspace allows (the effective posture). */
  readonly findings?: readonly Finding[];
}

/** `namespace/Kind/name opens …` for findings, at most five named. */
function findingSummary(findings: readonly Finding[]): string {
  const named = findings.slice(0, 5).map((f) => `${f.namespace}/${f.kind}/${f.name} opens ${f.opens}`);
  const more = findings.length > 5 ? `; and ${findings.length - 5} more` : "";
  return `${named.join("; ")}${more} (not declared in the SecureWorkspace; the operator never deletes others' objects)`;
}

/** `namespace/Kind/name: message` for a list of failures, at most five named. */
function failureSummary(failures: readonly WriteFailure[]): string {
  const named = failures.slice(0, 5).map((f) => `${f.namespace}/${f.object}: ${f.message}`);
  const more = failures.length > 5 ? `; and ${failures.length - 5} more` : "";
  return `${named.join("; ")}${more}`;
}

/** What a foreign object is and what to do about it. */
export function foreignMessage(f: ForeignObject): string {
  const where = `${f.object.metadata.namespace ?? ""}/${objectRef(f.object)}`;
  const owner = f.owner ? `its controller is ${f.owner}` : "it has no controller ownerReference";
  return `${where} was not created by this workspace (${owner}): it is left alone and the baseline's object is missing; delete it and the operator creates its own`;
}

function foreignSummary(foreign: readonly ForeignObject[]): string {
  const named = foreign.slice(0, 5).map(foreignMessage);
  return `${named.join("; ")}${foreign.length > 5 ? `; and ${foreign.length - 5} more` : ""}`;
}

type ConditionInput = Omit<Condition, "lastTransitionTime" | "observedGeneration">;

/**
 * Merges a condition into a list: lastTransitionTime moves only when status changes, so an
 * unchanged condition produces an identical list (no status write, no GitOps diff noise).
 */
export function setCondition(
  list: readonly Condition[],
  next: ConditionInput,
  generation: number,
  now: string,
): Condition[] {
  const old = list.find((c) => c.type === next.type);
  const lastTransitionTime = old && old.status === next.status ? old.lastTransitionTime : now;
  const merged: Condition = { ...next, lastTransitionTime, observedGeneration: generation };
  return old ? list.map((c) => (c.type === next.type ? merged : c)) : [...list, merged];
}

function refsOf(objs: readonly { object: DesiredObject }[]): string {
  const refs = objs.map(
    (p) => `${p.object.metadata.namespace ?? p.object.metadata.name}/${objectRef(p.object)}`,
  );
  return refs.length > 5 ? `${refs.slice(0, 5).join(", ")} and ${refs.length - 5} more` : refs.join(", ");
}

/** Mesh conditions that do not depend on objects: not requested, not installed, not supported. */
function meshCondition(
  control: "meshMTLS" | "meshAuthorization",
  o: ReconcileOutcome,
  spec: ResolvedSpec,
): ConditionInput | undefined {
  const type = CONDITION_OF_CONTROL[control];
  const mesh = spec.serviceMesh;
  if (mesh.provider === "none")
    return { type, status: "True", reason: "NotRequested", message: "no service mesh requested" };
  if (mesh.provider === "istio" && o.meshInstalled === false)
    return {
      type,
      status: "False",
      reason: "MeshNotInstalled",
      message: "the security.istio.io/v1 API is not served: Istio is not installed",
    };
  if (control === "meshAuthorization" && mesh.authorization.mode === "Off")
    return { type, status: "True", reason: "NotRequested", message: "mesh authorization is Off" };
  if (control === "meshAuthorization" && mesh.provider === "linkerd")
    return {
      type,
      status: "False",
      reason: "NotSupportedByProvider",
      message:
        "Linkerd: all-authenticated admits any meshed workload; WorkspaceOnly needs Linkerd policy objects, not managed yet",
    };
  return undefined;
}

/** A control's condition when a write failed or a foreign object is in the way, else undefined. */
function blockedCondition(
  type: string,
  control: BaselineControl,
  o: ReconcileOutcome,
  linkerdMtls: boolean,
): ConditionInput | undefined {
  const failed = (o.failures ?? []).filter(
    (f) => f.control === control || (linkerdMtls && f.object.startsWith("Namespace/")),
  );
  if (failed.length > 0)
    return {
      type,
      status: "False",
      reason: failed[0]?.reason ?? "WriteFailed",
      message: failureSummary(failed),
    };
  const foreign = (o.foreign ?? []).filter((f) => controlOf(f.object) === control);
  if (foreign.length > 0)
    return { type, status: "False", reason: "ForeignObjectConflict", message: foreignSummary(foreign) };
  const widening = (o.findings ?? []).filter((f) => f.control === control);
  if (widening.length > 0)
    return { type, status: "False", reason: "ForeignPolicyWidensAccess", message: findingSummary(widening) };
  return undefined;
}

function controlCondition(control: BaselineControl, o: ReconcileOutcome, spec: ResolvedSpec): ConditionInput {
  const type = CONDITION_OF_CONTROL[control];
  const mesh = spec.serviceMesh;
  if (control === "meshMTLS" || control === "meshAuthorization") {
    const special = meshCondition(control, o, spec);
    if (special) return special;
  }
  const desired = (o.desired ?? []).filter((d) => controlOf(d) === control);
  const linkerdMtls = control === "meshMTLS" && mesh.provider === "linkerd";
  // Before "not requested": a tenant's binding to system:authenticated matters even when the
  // spec binds nobody.
  const blocked = blockedCondition(type, control, o, linkerdMtls);
  if (blocked) return blocked;
  if (desired.length === 0 && !linkerdMtls)
    return {
      type,
      status: "True",
      reason: "NotRequested",
      message: `no ${CONTROLS[control].objects} requested`,
    };
  const pending = (o.pending ?? []).filter(
    (p) => controlOf(p.object) === control || (linkerdMtls && p.object.kind === "Namespace"),
  );
  if (pending.length > 0)
    return {
      type,
      status: "False",
      reason: "DriftDetected",
      message: `audit mode, differs from the baseline: ${refsOf(pending)}`,
    };
  const conflicts = o.conflicts?.length ?? 0;
  const held = spec.namespaces.length - conflicts;
  return {
    type,
    status: conflicts > 0 ? "False" : "True",
    reason: conflicts > 0 ? "NamespaceConflict" : o.pending ? "Compliant" : "Enforced",
    message: `${CONTROLS[control].objects} in place in ${held}/${spec.namespaces.length} namespaces`,
  };
}

function namespaceStatuses(o: ReconcileOutcome, spec: ResolvedSpec): NamespaceStatus[] {
  return spec.namespaces.map(({ name }) => {
    const conflict = o.conflicts?.find((c) => c.namespace === name);
    if (conflict) return { name, ready: false, managedObjects: 0, message: conflict.message };
    if (o.terminating?.includes(name))
      return { name, ready: false, managedObjects: 0, message: "being deleted; it is re-created once gone" };
    const failed = (o.failures ?? []).filter((f) => f.namespace === name);
    const foreign = (o.foreign ?? []).filter((f) => f.object.metadata.namespace === name);
    const managedObjects = (o.desired ?? []).filter(
      (d) => d.kind !== "Namespace" && d.metadata.namespace === name,
    ).length;
    const differs = (o.pending ?? []).filter(
      (p) => (p.object.metadata.namespace ?? p.object.metadata.name) === name,
    );
    if (failed.length > 0)
      return {
        name,
        ready: false,
        managedObjects,
        message: `${failed.length} writes failed: ${failureSummary(failed)}`,
      };
    if (foreign.length > 0) return { name, ready: false, managedObjects, message: foreignSummary(foreign) };
    return differs.length > 0
      ? { name, ready: false, managedObjects, message: `${differs.length} objects differ from the baseline` }
      : { name, ready: true, managedObjects };
  });
}

/**
 * How many listed namespaces the workspace holds (status.namespaceCount, the NAMESPACES column):
 * not refused, not being deleted, existing (Audit never creates one), and no failed write of its
 * Namespace object in this pass (a namespace that could not be created is not there to hold; one
 * whose labels could not be written lacks the workspace's marks and Pod Security labels). Derived
 * from this pass's findings only, never a counter: the same cluster gives the same count.
 */
function namespaceCount(o: ReconcileOutcome, spec: ResolvedSpec): number {
  const notHeld = new Set([
    ...(o.conflicts ?? []).map((c) => c.namespace),
    ...(o.terminating ?? []),
    ...(o.pending ?? [])
      .filter((p) => p.object.kind === "Namespace" && p.reason === "Missing")
      .map((p) => p.object.metadata.name),
    ...(o.failures ?? []).filter((f) => f.object === `Namespace/${f.namespace}`).map((f) => f.namespace),
  ]);
  return spec.namespaces.filter(({ name }) => !notHeld.has(name)).length;
}

/**
 * The compliance view, compact: evidence only where a control is NonCompliant (what fails, from
 * the conditions' messages). A Compliant or NotApplicable control's evidence is derivable from the
 * conditions and the spec, so status does not repeat it on every write (`sws audit` derives it,
 * baseline/controls.ts derivedEvidence); nothing here changes unless a control's state does.
 */
function controls(conditions: readonly Condition[], enforce: boolean): ControlStatus[] {
  const out: ControlStatus[] = CONTROL_CATALOGUE.map((c) => {
    const applicable = c.evidencedBy
      .map((ctl) => conditions.find((x) => x.type === CONDITION_OF_CONTROL[ctl as BaselineControl]))
      .filter((x) => x && x.reason !== "NotRequested");
    const base = { id: c.id, title: c.title };
    if (applicable.length === 0) return { ...base, state: "NotApplicable" as const };
    const failing = applicable.filter((x) => x?.status !== "True");
    if (failing.length > 0)
      return { ...base, state: "NonCompliant" as const, evidence: failing.map((x) => x?.message).join("; ") };
    return { ...base, state: "Compliant" as const };
  });
  out.push({ ...MONITORING_CONTROL, state: "Compliant" });
  out.push({ ...CHANGE_CONTROL, state: enforce ? "Compliant" : "NotApplicable" });
  return out;
}

function driftEntries(pending: readonly PlannedApply[]): DriftEntry[] {
  return pending.map((p) => ({
    namespace: p.object.metadata.namespace ?? p.object.metadata.name,
    object: objectRef(p.object),
    reason: p.reason === "Missing" ? "Missing" : "Differs",
  }));
}

/** Ready=False, Stalled=True, Reconciling=False: nothing converges until a person acts. */
function waitingForPeople(
  reason: string,
  message: string,
  waiting: string,
): { ready: ConditionInput; reconciling: ConditionInput; stalled: ConditionInput } {
  return {
    ready: { type: "Ready", status: "False", reason, message },
    reconciling: { type: "Reconciling", status: "False", reason, message: waiting },
    stalled: { type: "Stalled", status: "True", reason, message },
  };
}

function readiness(
  o: ReconcileOutcome,
  spec: ResolvedSpec,
): { ready: ConditionInput; reconciling: ConditionInput; stalled: ConditionInput } {
  const total = spec.namespaces.length;
  const failures = o.failures ?? [];
  if (failures.length > 0) {
    const reason = failures[0]?.reason ?? "WriteFailed";
    const message = `${failures.length} writes failed, retrying with back-off: ${failureSummary(failures)}`;
    const stuck = failures.some((f) => !TRANSIENT_FAILURES.has(f.reason));
    return {
      ready: { type: "Ready", status: "False", reason, message },
      reconciling: stuck
        ? {
            type: "Reconciling",
            status: "False",
            reason,
            message: "retrying with back-off until the cause is gone",
          }
        : { type: "Reconciling", status: "True", reason, message: "retrying" },
      stalled: stuck
        ? { type: "Stalled", status: "True", reason, message }
        : { type: "Stalled", status: "False", reason: "Progressing", message: "" },
    };
  }
  const foreign = o.foreign ?? [];
  if (foreign.length > 0)
    return waitingForPeople(
      "ForeignObjectConflict",
      foreignSummary(foreign),
      "waiting for the foreign objects to be removed",
    );
  const findings = o.findings ?? [];
  if (findings.length > 0)
    return waitingForPeople(
      "ForeignPolicyWidensAccess",
      findingSummary(findings),
      "waiting for the widening objects to be removed or declared in the spec",
    );
  const conflicts = o.conflicts ?? [];
  if (conflicts.length > 0) {
    const message = conflicts.map((c) => c.message).join("; ");
    return {
      ready: {
        type: "Ready",
        status: "False",
        reason: "NamespaceConflict",
        message: `${total - conflicts.length}/${total} namespaces hold the baseline; ${message}`,
      },
      reconciling: {
        type: "Reconciling",
        status: "False",
        reason: "NamespaceConflict",
        message: "waiting for a spec change",
      },
      stalled: { type: "Stalled", status: "True", reason: "NamespaceConflict", message },
    };
  }
  const notStalled: ConditionInput = { type: "Stalled", status: "False", reason: "Progressing", message: "" };
  const terminating = o.terminating ?? [];
  if (terminating.length > 0) {
    const message = `namespaces being deleted, re-created once gone: ${terminating.join(", ")}`;
    return {
      ready: { type: "Ready", status: "False", reason: "NamespaceTerminating", message },
      reconciling: { type: "Reconciling", status: "True", reason: "NamespaceTerminating", message },
      stalled: notStalled,
    };
  }
  if (spec.serviceMesh.provider === "istio" && o.meshInstalled === false) {
    return {
      ready: {
        type: "Ready",
        status: "False",
        reason: "MeshNotInstalled",
        message: "Istio's security API is not served; every other control is enforced",
      },
      reconciling: {
        type: "Reconciling",
        status: "True",
        reason: "WaitingForMesh",
        message: "waiting for the security.istio.io/v1 API to appear",
      },
      stalled: notStalled,
    };
  }
  const done: ConditionInput = {
    type: "Reconciling",
    status: "False",
    reason: "ReconcileSucceeded",
    message: "",
  };
  if (o.pending) {
    const differs = o.pending.length;
    return {
      ready: {
        type: "Ready",
        status: "True",
        reason: "Audited",
        message: `audit mode: ${differs === 0 ? "all" : `${differs}`} objects ${differs === 0 ? "match" : "differ from"} the baseline in ${total} namespaces`,
      },
      reconciling: done,
      stalled: notStalled,
    };
  }
  return {
    ready: {
      type: "Ready",
      status: "True",
      reason: "Enforced",
      message: `${total}/${total} namespaces hold the baseline`,
    },
    reconciling: done,
    stalled: notStalled,
  };
}

/**
 * `TenantGuardrails`: what tenants may add at admission. A guardrail switched Off is a declared
 * choice, not a failure (Ready stays as it is), but an auditor must see it: False, reason
 * Relaxed, naming each one.
 */
export function guardrailsCondition(spec: ResolvedSpec): ConditionInput {
  const g = spec.guardrails;
  const off = (Object.keys(g) as Array<keyof typeof g>).filter((k) => g[k] === "Off");
  const modes = `networkPolicy: ${g.networkPolicy}, rbac: ${g.rbac}, mesh: ${g.mesh}`;
  return off.length > 0
    ? {
        type: "TenantGuardrails",
        status: "False",
        reason: "Relaxed",
        message: `guardrails off for ${off.join(", ")}: tenants may add objects there that widen the baseline (${modes}); the effective posture still reports them`,
      }
    : {
        type: "TenantGuardrails",
        status: "True",
        reason: "Enforced",
        message: `tenants may only add objects that stay inside the workspace (${modes})`,
      };
}

/** The status a reconcile pass should leave behind. */
export function computeStatus(o: ReconcileOutcome): SecureWorkspaceStatus {
  const prev = o.previous ?? {};
  // A stored status is not validated like a spec (a null, a hand-written list): keep only what
  // reads as conditions, so a malformed status never wedges the loop.
  let conditions: Condition[] = (Array.isArray(prev.conditions) ? prev.conditions : []).filter(
    (c): c is Condition => c !== null && typeof c === "object" && typeof c.type === "string",
  );
  const set = (c: ConditionInput): void => {
    conditions = setCondition(conditions, c, o.generation, o.now);
  };
  if (o.invalid && o.invalid.length > 0) {
    const message = o.invalid.map((p) => `${p.path}: ${p.message}`).join("; ");
    set({
      type: "Ready",
      status: "False",
      reason: "InvalidSpec",
      message: `nothing was changed: ${message}`,
    });
    set({
      type: "Reconciling",
      status: "False",
      reason: "InvalidSpec",
      message: "waiting for a spec change",
    });
    set({ type: "Stalled", status: "True", reason: "InvalidSpec", message });
    return { ...prev, observedGeneration: o.generation, conditions };
  }
  const spec = o.spec;
  if (!spec) throw new Error("computeStatus: a valid outcome needs its resolved spec");
  const { ready, reconciling, stalled } = readiness(o, spec);
  set(ready);
  set(reconciling);
  set(stalled);
  for (const control of BASELINE_CONTROLS) set(controlCondition(control, o, spec));
  set(guardrailsCondition(spec));
  // The one counter status remembers, on purpose: the contract's "total corrections since
  // creation" is history no cluster state holds (Events expire, the metric restarts with the
  // process). It only ever adds this pass's corrections and feeds nothing else (README, Design
  // decisions).
  const corrected = o.corrected ?? [];
  const last = corrected[corrected.length - 1];
  const driftCorrections =
    (typeof prev.driftCorrections === "number" ? prev.driftCorrections : 0) + corrected.length;
  const status: SecureWorkspaceStatus = {
    observedGeneration: o.generation,
    conditions,
    namespaces: namespaceStatuses(o, spec),
    namespaceCount: namespaceCount(o, spec),
    driftCorrections,
    controls: controls(conditions, spec.enforcement === "Enforce"),
  };
  const lastDrift = last
    ? {
        time: o.now,
        namespace: last.object.metadata.namespace ?? last.object.metadata.name,
        object: objectRef(last.object),
      }
    : prev.lastDriftCorrection;
  if (lastDrift) status.lastDriftCorrection = lastDrift;
  if (o.pending && o.pending.length > 0) status.drift = driftEntries(o.pending);
  return status;
}

/**
 * The status of a workspace whose deletion failed: its last status with Ready False, reason
 * FinalizeFailed and `message`; undefined when Ready already says exactly that (nothing to write).
 */
export function finalizeFailedStatus(
  ws: { readonly metadata: { readonly generation?: number }; readonly status?: SecureWorkspaceStatus },
  message: string,
  now: string,
): SecureWorkspaceStatus | undefined {
  const previous = ws.status?.conditions?.find((c) => c.type === "Ready");
  if (previous?.reason === "FinalizeFailed" && previous.message === message) return undefined;
  const ready: Condition = {
    type: "Ready",
    status: "False",
    reason: "FinalizeFailed",
    message,
    lastTransitionTime: previous?.status === "False" ? previous.lastTransitionTime : now,
    observedGeneration: ws.metadata.generation ?? 0,
  };
  const others = (ws.status?.conditions ?? []).filter((c) => c.type !== "Ready");
  return { ...ws.status, conditions: [ready, ...others] };
}

/** Whether a status write would change anything. */
export function statusChanged(
  current: SecureWorkspaceStatus | undefined,
  next: SecureWorkspaceStatus,
): boolean {
  return !isEqual(current ?? {}, next);
}
