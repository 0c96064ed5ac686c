/**
 * Kubernetes Events (events.k8s.io/v1) about objects of one kind. For a cluster-scoped kind (the
 * SecureWorkspace), as client-go does, the Events live in the `default` namespace.
 */
import { randomBytes } from "node:crypto";
import { isAbortError, type KubeClient } from "../runtime/client.js";

/** Normal or Warning. */
export type EventType = "Normal" | "Warning";

/** What an Event is about. */
export interface EventSubject {
  readonly name: string;
  readonly uid?: string;
}

/** Who records and about which kind: the fixed parts of every Event of a recorder. */
export interface EventSource {
  /** `reportingController`, e.g. "secureworkspace.io/operator". */
  readonly controller: string;
  /** `reportingInstance`: this replica. */
  readonly instance: string;
  /** The kind every subject is of (`regarding.apiVersion` and `.kind`). */
  readonly regarding: { readonly apiVersion: string; readonly kind: string };
}

/**
 * Records Events; failures are reported to `onError`, never thrown into the reconcile, except a
 * cancellation (the reconcile is being stopped: it must not go on as if the Event were written).
 */
export class EventRecorder {
  constructor(
    private readonly kube: KubeClient,
    private readonly source: EventSource,
    /** Told of every Event that could not be recorded (an Event is never worth failing a reconcile). */
    private readonly onError: (err: unknown) => void,
    private readonly namespace = "default",
  ) {}

  /** The same recorder writing through `kube` (e.g. a client bound to a reconcile's signal). */
  through(kube: KubeClient): EventRecorder {
    return new EventRecorder(kube, this.source, this.onError, this.namespace);
  }

  /** Emits one Event (fire and forget, awaited so callers can order writes). */
  async emit(
    subject: EventSubject,
    type: EventType,
    reason: string,
    action: string,
    note: string,
  ): Promise<void> {
    const now = new Date().toISOString().replace("Z", "000Z");
    try {
      await this.kube.create({
        apiVersion: "events.k8s.io/v1",
        kind: "Event",
        metadata: { name: `${subject.name}.${randomBytes(8).toString("hex")}`, namespace: this.namespace },
        eventTime: now,
        type,
        reason,
        action,
        note: note.length > 1000 ? `${note.slice(0, 997)}...` : note,
        reportingController: this.source.controller,
        reportingInstance: this.source.instance,
        regarding: {
          apiVersion: this.source.regarding.apiVersion,
          kind: this.source.regarding.kind,
          name: subject.name,
          ...(subject.uid ? { uid: subject.uid } : {}),
        },
      });
    } catch (err) {
      if (isAbortError(err)) throw err;
      this.onError(err);
    }
  }
}
