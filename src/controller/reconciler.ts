/**
 * One workspace, one pass, in three steps: read a snapshot from the caches (snapshot.ts), decide
 * (decide.ts, pure: the writes, prunes, releases, status and Events, by mode), then act: send the
 * decision's requests, bound to the pass's AbortSignal, and report. Level-triggered: it never
 * looks at the event that woke it, only at the latest state. A workspace in sync costs no write
 * at all: the decision holds no request and the status is unchanged.
 */
import { API_VERSION, DEFAULT_PROTECTED_NAMESPACES, KIND } from "../api/constants.js";
import { asSecureWorkspace, type SecureWorkspace, type SecureWorkspaceStatus } from "../api/types.js";
import { controlOf } from "../baseline/index.js";
import { objectRef } from "../baseline/objects.js";
import { isAbortError, type KubeClient, type KubeObject } from "../runtime/client.js";
import {
  errorMessage,
  isConflict,
  isNotFound,
  retryOnConflict,
  writeFailureReason,
} from "../runtime/errors.js";
import { resourceOfKind } from "../api/resources.js";
import type { EventRecorder } from "../observability/events.js";
import type { ClusterCache } from "./cache.js";
import {
  decide,
  settleEnforce,
  type ApplyStep,
  type AuditDecision,
  type DecideConfig,
  type EnforceDecision,
  type EventSpec,
  type FinalizeDecision,
  type InvalidDecision,
  type WorkspaceRef,
  restatus,
  writeKeyOf,
} from "./decide.js";
import { inSync, ownedBy, type PlannedApply } from "./diff.js";
import { ownsNamespace } from "./holdings.js";
import type { MeshDetector } from "./mesh-detector.js";
import type { ReconcileResult } from "../runtime/queue.js";
import { readSnapshot } from "./snapshot.js";
import { finalizeFailedStatus, type WriteFailure } from "./status.js";

/**
 * A pass whose writes were refused or had no effect. Status already says so; throwing asks the
 * queue for a retry with back-off, so the workspace recovers by itself once the cause is gone.
 */
export class WritesFailedError extends Error {
  constructor(
    readonly workspace: string,
    readonly failures: readonly WriteFailure[],
    options?: { cause?: unknown },
  ) {
    super(
      `reconcile ${workspace}: ${failures.length} writes failed: ${[...failures]
        .sort((a, b) => `${a.namespace}/${a.object}`.localeCompare(`${b.namespace}/${b.object}`))
        .slice(0, 5)
        .map((f) => `${f.namespace}/${f.object}: ${f.reason}: ${f.message}`)
        .join("; ")}`,
      options,
    );
    this.name = "WritesFailedError";
  }
}

/** What a pass did, for logs and metrics (the app layer reports it). */
export interface ReconcileReport {
  readonly workspace: string;
  readonly writes: number;
  readonly corrected: readonly PlannedApply[];
  readonly pruned: number;
  /** What was applied (`namespace/Kind/name (reason)`), for the log. */
  readonly applied?: readonly string[];
  readonly outcome: "deleted" | "invalid" | "enforced" | "audited" | "absent";
}

/** Collaborators of the reconciler. */
export interface ReconcilerDeps {
  readonly kube: KubeClient;
  readonly cache: ClusterCache;
  readonly mesh: MeshDetector;
  readonly events: EventRecorder;
  /** The operator's own namespace: never owned by a workspace. */
  readonly operatorNamespace: string;
  /**
   * Patterns of namespaces never created nor adopted (`*` matches any run), besides the system
   * namespaces and the operator's own. Default: DEFAULT_PROTECTED_NAMESPACES.
   */
  readonly protectedNamespaces?: readonly string[];
  /** Parallel writes within one reconcile (default 8). */
  readonly writeConcurrency?: number;
  readonly now?: () => Date;
  readonly onReport?: (report: ReconcileReport) => void;
}

/** Results of an enforcing pass's writes. */
interface WriteResults {
  readonly failures: WriteFailure[];
  /** The errors behind the failures (a write without effect has none). */
  readonly errors: unknown[];
  /** `namespace/Kind/name` of counted writes the server says undid nothing (ApplyStep.verify). */
  readonly undidNothing: string[];
}

/** Writes of a correction, each after reading the object anew, before a conflict is its failure. */
const VERIFIED_ATTEMPTS = 3;

/** Status writes per pass before a conflict is left to the queue's retry. */
const STATUS_ATTEMPTS = 3;

/** Whether an error is the cancellation of a request (never a failure to report). */
const isAbort = isAbortError;

/** Runs `fn` over items with at most `limit` in flight. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (err) {
        errors.push(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  // Cancelled: say so (not "N writes failed"), so the caller stops rather than reports failures.
  const cancel = errors.find(isAbort);
  if (cancel instanceof Error) throw cancel;
  if (errors.length === 1) throw errors[0];
  if (errors.length > 1)
    throw new AggregateError(
      errors,
      `${errors.length} writes failed: ${errors.map(errorMessage).sort().join("; ")}`,
    );
}

/** The SecureWorkspace reconciler. */
export class Reconciler {
  private readonly now: () => Date;
  private readonly config: DecideConfig;

  constructor(private readonly deps: ReconcilerDeps) {
    this.now = deps.now ?? ((): Date => new Date());
    this.config = {
      operatorNamespace: deps.operatorNamespace,
      protectedNamespaces: deps.protectedNamespaces ?? DEFAULT_PROTECTED_NAMESPACES,
    };
  }

  /**
   * Reconciles one workspace by name. Throws to ask for a retry with back-off. Once `signal` aborts
   * (leadership lost, shutdown grace over) no further request is sent, requests in flight are
   * destroyed, and the returned promise rejects with an AbortError.
   */
  async reconcile(name: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const now = this.now()
      .toISOString()
      .replace(/\.\d+Z$/, "Z");
    const snapshot = await readSnapshot(this.deps.cache, this.deps.mesh, name, now, signal);
    const decision = decide(snapshot, this.config);
    const kube = signal === undefined ? this.deps.kube : this.deps.kube.withSignal(signal);
    const events = signal === undefined ? this.deps.events : this.deps.events.through(kube);
    const act = new Act(kube, events, this.deps.writeConcurrency ?? 8, decision.workspace);
    switch (decision.mode) {
      case "absent":
        this.report({ workspace: name, writes: 0, corrected: [], pruned: 0, outcome: "absent" });
        return {};
      case "finalized":
        return {};
      case "finalize":
        this.report(await act.finalize(decision));
        return {};
      case "invalid":
        this.report(await act.invalid(decision));
        return {};
      case "audit":
        this.report(await act.audit(decision));
        return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
      case "enforce": {
        const { report, failures, errors } = await act.enforce(decision);
        this.report(report);
        // The server's own errors go along as the cause: the queue's back-off reads them (a 503 or
        // a Retry-After is retried within 30 s of recovery, a 403 waits out the long back-off).
        if (failures.length > 0)
          throw new WritesFailedError(name, failures, {
            cause: new AggregateError(errors, `${errors.length} write errors`),
          });
        return decision.requeueAfterMs !== undefined ? { requeueAfterMs: decision.requeueAfterMs } : {};
      }
    }
  }

  private report(r: ReconcileReport): void {
    this.deps.onReport?.(r);
  }
}

/**
 * The act step of one pass: sends a decision's requests through a client bound to the pass's
 * signal. It reads nothing: what it needs at write time (preconditions) is in the decision. The
 * next pass sees the answers once their watch events reach the caches (see README, "No
 * read-your-writes overlay").
 */
class Act {
  private writes = 0;
  /** The workspace as the finalizer write answered it: the stored one, status included. */
  private answered: SecureWorkspace | undefined;

  constructor(
    private readonly kube: KubeClient,
    private readonly events: EventRecorder,
    private readonly concurrency: number,
    private readonly workspace: WorkspaceRef,
  ) {}

  async invalid(d: InvalidDecision): Promise<ReconcileReport> {
    await this.addFinalizer(d.finalizer);
    await this.writeStatus(d.status, (stored) => restatus(d.statusInput, stored));
    return { workspace: d.workspace.name, writes: this.writes, corrected: [], pruned: 0, outcome: "invalid" };
  }

  async audit(d: AuditDecision): Promise<ReconcileReport> {
    await this.addFinalizer(d.finalizer);
    await this.emit(d.events);
    await this.writeStatus(d.status, (stored) => restatus(d.statusInput, stored));
    return {
      workspace: d.workspace.name,
      writes: this.writes,
      corrected: [],
      pruned: 0,
      applied: [],
      outcome: "audited",
    };
  }

  async enforce(
    d: EnforceDecision,
  ): Promise<{ report: ReconcileReport; failures: WriteFailure[]; errors: unknown[] }> {
    await this.addFinalizer(d.finalizer);
    const { failures, errors, undidNothing } = await this.write(d);
    // Every write took effect as decided: the decision already holds the outcome. Otherwise
    // recompute it.
    const settled =
      failures.length === 0 && undidNothing.length === 0 ? d : settleEnforce(d, failures, undidNothing);
    await this.emit(settled.events);
    await this.writeStatus(settled.status, (stored) => restatus(settled.statusInput, stored));
    return {
      report: {
        workspace: d.workspace.name,
        writes: this.writes,
        corrected: [...settled.corrected],
        pruned: d.prune.length,
        applied: [...d.namespaces, ...d.apply].map(
          (a) =>
            `${a.planned.object.metadata.namespace ?? ""}/${objectRef(a.planned.object)} (${a.planned.reason})`,
        ),
        outcome: "enforced",
      },
      failures,
      errors,
    };
  }

  /**
   * Deletion: remove what the workspace made, keep (or, with Delete, remove created) namespaces, drop
   * the finalizer. A failure is retried with back-off and shown where a user looks for it: Ready
   * turns False with reason FinalizeFailed and the error, and a Warning Event (once per distinct error).
   */
  async finalize(d: FinalizeDecision): Promise<ReconcileReport> {
    try {
      await forEachLimited(d.deletes, this.concurrency, async (x) => {
        if (await this.kube.delete(resourceOfKind(x.kind), x.name, x.namespace, x.uid ? { uid: x.uid } : {}))
          this.writes++;
      });
      const namespaceWrites: Array<() => Promise<unknown>> = [
        ...d.namespaceDeletes.map(
          (x) => async (): Promise<unknown> =>
            this.kube.delete(resourceOfKind("Namespace"), x.name, undefined, x.uid ? { uid: x.uid } : {}),
        ),
        ...d.releases.map((r) => async (): Promise<unknown> => this.release(r.body)),
      ];
      await forEachLimited(namespaceWrites, this.concurrency, async (write) => {
        await write();
        this.writes++;
      });
      await this.removeFinalizer(d.removeFinalizer);
    } catch (err) {
      if (isAbortError(err)) throw err;
      const message = `deleting: ${errorMessage(err)}`;
      const status = finalizeFailedStatus(d.object, message, d.now);
      if (status !== undefined) {
        const ready = status.conditions?.find((c) => c.type === "Ready");
        await this.emit([
          { type: "Warning", reason: "FinalizeFailed", action: "Delete", message: ready?.message ?? "" },
        ]);
        await this.writeStatus(status, (stored) => finalizeFailedStatus(stored, message, d.now)).catch(
          (statusErr: unknown) => {
            if (isAbortError(statusErr)) throw statusErr;
            // The workspace may be gone meanwhile; the error that matters is the one rethrown below.
          },
        );
      }
      throw err;
    }
    return {
      workspace: d.workspace.name,
      writes: this.writes + 1,
      corrected: [],
      pruned: d.deletes.length,
      outcome: "deleted",
    };
  }

  private async addFinalizer(body: KubeObject | undefined): Promise<void> {
    if (!body) return;
    const written = await this.kube.apply(body);
    this.writes++;
    this.answered = asSecureWorkspace(written);
  }

  /** The writes of an enforcing pass; returns those refused or without effect, and the server's errors. */
  private async write(d: EnforceDecision): Promise<WriteResults> {
    const failures: WriteFailure[] = [];
    const undidNothing: string[] = [];
    /** The errors behind the failures (a write without effect has none). */
    const errors: unknown[] = [];
    const failedNamespaces = new Set<string>();
    const fail = (namespace: string, object: string, kind: string, verb: string, err: unknown): void => {
      if (isAbortError(err)) throw err;
      errors.push(err);
      failures.push({
        namespace,
        object,
        control: controlOf({ apiVersion: "", kind }),
        reason: writeFailureReason(err),
        message: `${verb}: ${errorMessage(err)}`,
      });
    };
    const applyOne = async (step: ApplyStep): Promise<void> => {
      const o = step.planned.object;
      const ns = o.metadata.namespace ?? o.metadata.name;
      const ref = objectRef(o);
      try {
        let body = step.body;
        let created = false;
        if (step.create) {
          const made = await this.kube.create(step.create);
          this.writes++;
          created = true;
          // The rest is applied with the new namespace's uid as precondition.
          const uid = made.metadata.uid;
          if (uid) body = { ...body, metadata: { ...body.metadata, uid } };
        }
        if (step.planned.recreateUid) {
          // roleRef cannot change in place: delete this very object, then create it anew.
          await this.kube.delete(resourceOfKind(o.kind), o.metadata.name, ns, {
            uid: step.planned.recreateUid,
          });
          this.writes++;
        }
        const { result, undidNothing: nothing } = await this.applyVerified(step, body, created);
        if (nothing) undidNothing.push(writeKeyOf(o));
        if (!inSync(o, result))
          failures.push({
            namespace: ns,
            object: ref,
            control: controlOf(o),
            reason: "WriteIneffective",
            message:
              "applied, but the object still differs from the baseline: another field manager keeps fields the operator does not set",
          });
      } catch (err) {
        if (o.kind === "Namespace") failedNamespaces.add(o.metadata.name);
        fail(ns, ref, o.kind, step.planned.recreateUid ? "re-create" : "apply", err);
      }
    };
    // Namespaces first: the other objects live in them (and nothing goes into one not held).
    await forEachLimited(d.namespaces, this.concurrency, applyOne);
    await forEachLimited(
      d.apply.filter((a) => !failedNamespaces.has(a.planned.object.metadata.namespace ?? "")),
      this.concurrency,
      applyOne,
    );
    await forEachLimited(d.prune, this.concurrency, async (x) => {
      try {
        if (await this.kube.delete(resourceOfKind(x.kind), x.name, x.namespace, x.uid ? { uid: x.uid } : {}))
          this.writes++;
      } catch (err) {
        fail(x.namespace, `${x.kind}/${x.name}`, x.kind, "delete", err);
      }
    });
    await forEachLimited(d.release, this.concurrency, async (r) => {
      try {
        await this.release(r.body);
        this.writes++;
      } catch (err) {
        fail(r.namespace, `Namespace/${r.namespace}`, "Namespace", "release", err);
      }
    });
    return { failures, errors, undidNothing };
  }

  /**
   * One apply, and whether the server says it undid nothing (see ApplyStep.verify). With the
   * observed version as precondition, a conflict means the cache was behind: the object is read,
   * and written again with that version if it is still this workspace's and still differs (a few
   * times at most). Gone or someone else's meanwhile: the conflict is the write's failure, and the
   * pass is retried from the cache as it is then.
   */
  private async applyVerified(
    step: ApplyStep,
    body: KubeObject,
    created: boolean,
  ): Promise<{ result: KubeObject; undidNothing: boolean }> {
    const o = step.planned.object;
    if (step.verify === "created") {
      const { object, created: made } = await this.kube.applyTold(body);
      this.writes++;
      return { result: object, undidNothing: !created && !made };
    }
    if (step.verify === undefined) {
      const result = await this.kube.apply(body);
      this.writes++;
      return { result, undidNothing: false };
    }
    let version = body.metadata.resourceVersion;
    return retryOnConflict(VERIFIED_ATTEMPTS, async (attempt, conflict) => {
      if (attempt > 1) {
        const live = await this.read(o.kind, o.metadata.name, o.metadata.namespace);
        const uid = this.workspace.uid ?? "";
        const ours = live && (o.kind === "Namespace" ? ownsNamespace(live, uid) : ownedBy(live, uid));
        if (!live || !ours) throw conflict;
        if (inSync(o, live)) return { result: live, undidNothing: true };
        version = live.metadata.resourceVersion;
      }
      const result = await this.kube.apply({
        ...body,
        metadata: { ...body.metadata, ...(version ? { resourceVersion: version } : {}) },
      });
      this.writes++;
      return { result, undidNothing: false };
    });
  }

  /** An object as stored now; undefined when it is gone. */
  private async read(kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    try {
      return await this.kube.get(resourceOfKind(kind), name, namespace);
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  /** Gives a namespace back (see releaseBody). */
  private async release(body: KubeObject): Promise<void> {
    await this.kube.apply(body);
  }

  /** Emits Events, in parallel; each counts as a write. */
  private async emit(events: readonly EventSpec[]): Promise<void> {
    await Promise.all(
      events.map(async (e) => this.events.emit(this.workspace, e.type, e.reason, e.action, e.message)),
    );
    this.writes += events.length;
  }

  /**
   * Applies the status with the version it was computed from as precondition. The cache may not
   * have seen this operator's previous status write yet (the next pass can start before its watch
   * event arrives): overwriting it would lose what it added (driftCorrections). On a conflict the
   * workspace is read and `recompute` puts the status on top of the stored one (undefined: already
   * equal), a few times at most; a workspace gone or re-created meanwhile has nothing to write to.
   */
  private async writeStatus(
    status: SecureWorkspaceStatus | undefined,
    recompute: (stored: SecureWorkspace) => SecureWorkspaceStatus | undefined,
  ): Promise<void> {
    const { name, uid } = this.workspace;
    // The finalizer write answered with the stored workspace: its version, and a status perhaps
    // newer than the snapshot's. The status goes on top of that one (the same, if it was not).
    // The finalizer stub names no uid: a workspace re-created meanwhile is not the one decided on.
    const answered = this.answered;
    if (answered && uid && answered.metadata.uid !== uid) return;
    let version = answered ? answered.metadata.resourceVersion : this.workspace.resourceVersion;
    let next = answered ? recompute(answered) : status;
    const write = retryOnConflict(STATUS_ATTEMPTS, async (attempt) => {
      if (attempt > 1) {
        const read = await this.read(KIND, name);
        const stored = read && asSecureWorkspace(read);
        if (stored === undefined || (uid && stored.metadata.uid !== uid)) return;
        version = stored.metadata.resourceVersion;
        next = recompute(stored);
      }
      if (next === undefined) return;
      await this.kube.applyStatus({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name, ...(version ? { resourceVersion: version } : {}) },
        status: next,
      });
      this.writes++;
    });
    // A status that cannot be written cannot say so itself: a Warning Event does (a workspace
    // already gone has nobody to tell). The pass then fails and is retried with back-off.
    await write.catch(async (err: unknown) => {
      if (!isAbortError(err) && !isNotFound(err))
        await this.emit([
          {
            type: "Warning",
            reason: "StatusNotWritten",
            action: "Status",
            message: `status not written: ${errorMessage(err)}`,
          },
        ]);
      throw err;
    });
  }

  /**
   * Our manager owns only the finalizer entry on the workspace: applying nothing removes it. The
   * uid makes the apply a precondition, never a create: if the workspace is already gone (a
   * second finalize from a stale cache) or was re-created, the server refuses and there is
   * nothing left to do (a pass that runs before the delete's watch event arrives finalizes again:
   * its deletes find nothing, and this apply is refused).
   */
  private async removeFinalizer(body: KubeObject): Promise<void> {
    try {
      await this.kube.apply(body);
    } catch (err) {
      if (isNotFound(err) || isConflict(err)) return;
      throw err;
    }
  }
}
