/**
 * The operator's view of the cluster: one resilient informer per kind, plus an index of
 * managed objects by workspace (so a reconcile reads its own objects without scanning all).
 * Objects from list responses carry no apiVersion/kind; the cache stamps them.
 */
import {
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  RESERVED_NAME_PREFIX,
  WORKSPACE_LABEL,
} from "../api/constants.js";
import { asSecureWorkspace, type SecureWorkspace } from "../api/types.js";
import type { KubeClient, KubeObject } from "../runtime/client.js";
import { NAMESPACED_MANAGED_KINDS, resourceOfKind, type ManagedKind } from "../api/resources.js";
import { collectionPath } from "../runtime/resources.js";
import { controllerOf, type ObservedObject } from "./diff.js";
import { ResilientInformer, type RestartInfo } from "../runtime/informer.js";
import type { ClusterAccess } from "../runtime/kubeconfig.js";
import { StringPool } from "./intern.js";

/** What happened to a cached object. */
export type CacheEventType = "add" | "update" | "delete";
/**
 * A change of the cache, for routing to the work queue. `routine` is true when it cannot concern
 * what the operator set: a change of the object's status only (the quota controller filling in a
 * ResourceQuota's usage).
 */
export type CacheListener = (kind: string, type: CacheEventType, obj: KubeObject, routine: boolean) => void;

/**
 * Objects per list page: bounds the memory of the initial lists, where a restarted operator peaks
 * (a page's body, its string and its parse are alive at once). client-go uses 500; at 1000 x 2,
 * 100 lowered the restarted operator's peak RSS from 174 to 162 MiB (171 -> 158 MiB right after the
 * caches synced), for 5 x the list requests at start (one per 100 objects of each kind).
 */
const LIST_PAGE_SIZE = 100;
const MESH_KINDS: readonly ManagedKind[] = ["PeerAuthentication", "AuthorizationPolicy"];

/** Whether two versions of an object differ in status (and resourceVersion) only. */
export function onlyStatusChanged(previous: KubeObject, current: KubeObject): boolean {
  const rest = (o: KubeObject): string =>
    JSON.stringify({ ...o, status: undefined, metadata: { ...o.metadata, resourceVersion: undefined } });
  return rest(previous) === rest(current);
}

/**
 * Drops metadata.managedFields (often most of an object's bytes; the operator never reads it),
 * as controller-runtime's cache transforms commonly do, to keep memory flat at scale.
 */
export function withoutManagedFields(obj: KubeObject): KubeObject {
  if (obj.metadata.managedFields !== undefined) delete obj.metadata.managedFields;
  return obj;
}

/**
 * Kinds whose objects by others in an owned namespace can widen what a workspace allows
 * (NetworkPolicies, RoleBindings and Istio policies are additive): kept with their spec, indexed
 * by namespace, for the effective-posture evaluation (baseline/posture.ts).
 */
export const POSTURE_KINDS: readonly string[] = [
  "NetworkPolicy",
  "RoleBinding",
  "PeerAuthentication",
  "AuthorizationPolicy",
];

/**
 * What the cache keeps of an object of a managed kind. The operator's own objects (its label, or
 * at a name reserved to it, `sws-*`, with a SecureWorkspace as controller) are kept whole: their
 * fields are compared with the baseline. Someone else's object at a reserved name is never taken
 * over (see diff.ts ownedBy), only reported: its identity, labels and ownerReferences are enough.
 * Others' objects of the posture kinds keep what the posture evaluation reads (everything but
 * annotations, where kubectl's last-applied copy would double their size). Every other object is
 * reduced to its identity.
 */
export function keptOf(obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  const reserved = meta.name.startsWith(RESERVED_NAME_PREFIX);
  if (meta.labels?.[MANAGED_BY_LABEL] === MANAGED_BY_VALUE || (reserved && controllerOf(obj)?.kind === KIND))
    return obj;
  const identity = {
    name: meta.name,
    ...(meta.namespace !== undefined ? { namespace: meta.namespace } : {}),
    ...(meta.uid !== undefined ? { uid: meta.uid } : {}),
    ...(meta.resourceVersion !== undefined ? { resourceVersion: meta.resourceVersion } : {}),
  };
  const marks = {
    ...(meta.labels ? { labels: meta.labels } : {}),
    ...(meta["ownerReferences"] !== undefined ? { ownerReferences: meta["ownerReferences"] } : {}),
  };
  if (POSTURE_KINDS.includes(obj.kind)) return { ...obj, metadata: { ...identity, ...marks } };
  return {
    apiVersion: obj.apiVersion,
    kind: obj.kind,
    metadata: reserved ? { ...identity, ...marks } : identity,
  };
}

/** The informers' index of objects by their workspace label. */
const BY_WORKSPACE = "workspace";

function workspaceOf(obj: KubeObject): string[] {
  const ws = obj.metadata.labels?.[WORKSPACE_LABEL];
  return ws ? [ws] : [];
}

/** Informers for workspaces, namespaces and each managed kind (see ResilientInformer's indexers). */
export class ClusterCache {
  private readonly informers = new Map<string, ResilientInformer<KubeObject>>();
  private readonly listeners: CacheListener[] = [];
  /** Equal strings of cached objects are shared (see intern.ts: a third of the live heap otherwise). */
  private readonly strings = new StringPool();

  constructor(
    private readonly kc: ClusterAccess,
    private readonly kube: KubeClient,
    private readonly options: {
      watchTimeoutSeconds?: number;
      /** Told of every list/watch restart of an informer (a lost watch, a failed list, a 410). */
      onInformerRestart?: (kind: string, info: RestartInfo) => void;
      /** Told of every informer error: failed lists and watches (each followed by a restart) and handlers that threw. */
      onInformerError?: (kind: string, err: Error) => void;
    } = {},
  ) {}

  /** Registers a change listener (called for every add/update/delete of every kind). */
  onChange(listener: CacheListener): void {
    this.listeners.push(listener);
  }

  /**
   * Starts informers for workspaces, namespaces and the always-present managed kinds, one after
   * another: each informer's first list completes before the next starts, so only one list page
   * (raw body, its string and its parse) is in memory at a time, not one per kind. Returns early,
   * without error, when `signal` aborts (waitForSync then says so).
   */
  async start(signal: AbortSignal = new AbortController().signal): Promise<void> {
    const kinds = [
      "SecureWorkspace",
      "Namespace",
      // Not label-selected: an object someone else made at one of the operator's names must be seen,
      // or the first apply would silently take it over (see keptOf for what is kept of the rest).
      ...NAMESPACED_MANAGED_KINDS.filter((kind) => !MESH_KINDS.includes(kind)),
    ];
    for (const kind of kinds) {
      if (signal.aborted) return;
      await this.startKind(kind);
      await this.informers
        .get(kind)
        ?.waitForSync(signal)
        .catch(() => undefined); // aborted or stopped: the caller's waitForSync reports it
    }
  }

  /**
   * Starts the Istio informers once their CRDs are served (idempotent) and waits for their first
   * list: planning against an unsynced cache would see every existing object as missing.
   */
  async startMeshKinds(signal: AbortSignal = new AbortController().signal): Promise<void> {
    for (const kind of MESH_KINDS) if (!this.informers.has(kind)) await this.startKind(kind);
    for (const kind of MESH_KINDS) await this.informers.get(kind)?.waitForSync(signal);
  }

  /** Whether an informer for a kind runs. */
  watching(kind: string): boolean {
    return this.informers.has(kind);
  }

  /** True once every started informer has listed successfully. */
  get synced(): boolean {
    return [...this.informers.values()].every((i) => i.synced);
  }

  /** Resolves when every started informer has synced. */
  async waitForSync(signal: AbortSignal): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.waitForSync(signal)));
  }

  /** Stops every informer. */
  async stop(): Promise<void> {
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
    this.informers.clear();
  }

  /** One object from the cache (apiVersion and kind set). */
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const cached = this.informers
      .get(kind)
      ?.get(name, resourceOfKind(kind).namespaced ? namespace : undefined);
    return cached ? this.stamp(kind, cached) : undefined;
  }

  /** Every object of a posture kind (see POSTURE_KINDS) in a namespace, the operator's own included. */
  inNamespace(kind: string, namespace: string): KubeObject[] {
    return (this.informers.get(kind)?.list(namespace) ?? []).map((o) => this.stamp(kind, o));
  }

  /** Every cached object of a kind. */
  list(kind: string): KubeObject[] {
    return (this.informers.get(kind)?.list() ?? []).map((o) => this.stamp(kind, o));
  }

  /** A workspace from the cache. */
  workspace(name: string): SecureWorkspace | undefined {
    const obj = this.get("SecureWorkspace", undefined, name);
    return obj ? asSecureWorkspace(obj) : undefined;
  }

  /** How many managed objects (namespaces included) the caches hold, for the managed-objects gauge. */
  managedCount(): number {
    let n = 0;
    for (const kind of ["Namespace", ...NAMESPACED_MANAGED_KINDS])
      n += this.informers.get(kind)?.indexedCount(BY_WORKSPACE) ?? 0;
    return n;
  }

  /** Namespaces labelled as owned by this workspace. */
  ownedNamespaces(workspace: string): KubeObject[] {
    return this.informers.get("Namespace")?.byIndex(BY_WORKSPACE, workspace) ?? [];
  }

  /** Every managed namespaced object labelled with this workspace. */
  managedBy(workspace: string): ObservedObject[] {
    return NAMESPACED_MANAGED_KINDS.flatMap(
      (kind) => this.informers.get(kind)?.byIndex(BY_WORKSPACE, workspace) ?? [],
    );
  }

  private stamp(kind: string, obj: KubeObject): KubeObject {
    if (obj.kind && obj.apiVersion) return obj;
    const r = resourceOfKind(kind);
    return { ...obj, apiVersion: r.apiVersion, kind: r.kind };
  }

  private async startKind(kind: string, labelSelector?: string): Promise<void> {
    const r = resourceOfKind(kind);
    const informer = new ResilientInformer<KubeObject>({
      kc: this.kc,
      name: kind,
      path: collectionPath(r),
      ...(labelSelector ? { labelSelector } : {}),
      ...(this.options.watchTimeoutSeconds ? { timeoutSeconds: this.options.watchTimeoutSeconds } : {}),
      // Bound to the attempt's signal: a stopped or restarted informer leaves no list in flight.
      list: (continueToken, signal) =>
        this.kube.withSignal(signal).list<KubeObject>(r, {
          ...(labelSelector ? { labelSelector } : {}),
          limit: LIST_PAGE_SIZE,
          ...(continueToken ? { continue: continueToken } : {}),
        }),
      // List items carry no apiVersion/kind: set them once here, so reads need not copy objects.
      transform: (obj) => {
        // Before keptOf, which decides by kind what to keep: a listed object of a posture kind kept
        // only its identity (its kind unknown), so a restarted operator lost every foreign policy's
        // rules and reported Ready over them.
        obj.apiVersion ??= r.apiVersion;
        obj.kind ??= r.kind;
        const kept =
          kind === "Namespace" || kind === "SecureWorkspace"
            ? withoutManagedFields(obj)
            : keptOf(withoutManagedFields(obj));
        return this.strings.internDeep(kept);
      },
      // Namespaces are indexed too, so a workspace finds the namespaces it owns without a scan. The
      // label is only an index (ownership is a uid, see diff.ts ownedBy).
      ...(kind === "SecureWorkspace" ? {} : { indexers: { [BY_WORKSPACE]: workspaceOf } }),
    });
    for (const type of ["add", "update", "delete"] as const) {
      informer.on(type, (obj: KubeObject, previous?: KubeObject) => {
        const routine = previous !== undefined && onlyStatusChanged(previous, obj);
        for (const listener of this.listeners) listener(kind, type, obj, routine);
      });
    }
    const onError = this.options.onInformerError;
    if (onError) informer.on("error", (err: Error) => onError(kind, err));
    const onRestart = this.options.onInformerRestart;
    if (onRestart) informer.on("restart", (info: RestartInfo) => onRestart(kind, info));
    this.informers.set(kind, informer);
    await informer.start();
  }
}
