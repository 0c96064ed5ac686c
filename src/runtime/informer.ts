/**
 * A resilient list+watch cache of one resource collection.
 *
 * Why not client-node 1.4's ListWatch / makeInformer: checked against its source (dist/cache.js,
 * dist/watch.js) and a local fake server, it
 *  - keeps delivering events after stop() when stop() lands while the watch request is connecting
 *    (the AbortController only becomes known to it once the response headers arrive);
 *  - turns a throwing event handler into an unhandled promise rejection (its watch handler is async
 *    and nobody awaits it), which crashes Node;
 *  - re-watches in a tight loop (dozens of requests per 100 ms) when the server sends a watch ERROR
 *    event other than 410, because it restarts immediately from the same resourceVersion;
 *  - stops for good on any other error, reports its own stop() as an AbortError, hides BOOKMARKs (so
 *    a watchdog cannot see them) and rejects (instead of calling `done`) when building the request
 *    fails, e.g. an exec credential plugin error, which is again unhandled on a reconnect.
 * So this class runs the loop itself and uses a watch stream (src/kube/watch.ts, same contract as
 * client-node's `Watch`, which it replaced because importing client-node costs 70 MiB RSS) only for the
 * request and the line-by-line JSON stream. Only types come from client-node (erased at build).
 */
import { sleep } from "./sleep.js";
import type { KubernetesListObject, KubernetesObject } from "@kubernetes/client-node";
import type { ClusterAccess } from "./kubeconfig.js";
import { WatchStream } from "./watch.js";
import { backoffDelayMs } from "./queue.js";

/** Options for {@link ResilientInformer}. */
export interface ResilientInformerOptions<T extends KubernetesObject> {
  /** The cluster (client-node's KubeConfig satisfies it too). */
  readonly kc: ClusterAccess;
  /** Collection path, e.g. `/api/v1/namespaces` or `/apis/networking.k8s.io/v1/networkpolicies`. */
  readonly path: string;
  /**
   * Lists the collection, one page per call: `continueToken` is the previous page's
   * `metadata.continue` (undefined for the first). It must apply the same `labelSelector`: only the
   * watch gets it from here. Pages keep the peak memory of a large initial list to one page.
   * `signal` aborts when the attempt ends (a stop, a restart): the request should carry it.
   */
  readonly list: (continueToken: string | undefined, signal: AbortSignal) => Promise<KubernetesListObject<T>>;
  /** Label selector for the watch, default none. */
  readonly labelSelector?: string;
  /**
   * Server-side watch timeout, default 300 s. Each watch asks for a random value in
   * [timeoutSeconds, 2 × timeoutSeconds) (as client-go does) so many informers do not reconnect in step.
   */
  readonly timeoutSeconds?: number;
  /** Name for errors and restart events (the app layer logs them), e.g. the kind. */
  readonly name: string;
  /** Restart back-off after failures: default base 200 ms, doubling up to 30 000 ms, plus jitter. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /**
   * Extra silence tolerated beyond the watch timeout before the watchdog restarts, default 30 000 ms.
   * Lower only in tests.
   */
  readonly watchdogSlackMs?: number;
  /**
   * Applied to every listed or watched object before it is cached, e.g. to drop
   * metadata.managedFields, which the operator never reads and which dominates an object's size.
   */
  readonly transform?: (obj: T) => T;
  /**
   * Secondary indexes, as client-go's Indexers: name → the values an object is filed under (none:
   * not in that index). Kept with the cache (before handlers run); read with {@link ResilientInformer.byIndex}.
   */
  readonly indexers?: Readonly<Record<string, (obj: T) => readonly string[]>>;
}

/** Why the informer restarted its list/watch. */
export type RestartReason = "error" | "watchdog" | "expired" | "closed-early";

/** Payload of the `restart` event. */
export interface RestartInfo {
  readonly reason: RestartReason;
  /** Consecutive failed attempts so far (resets after a healthy watch). */
  readonly attempt: number;
  /** How long the informer waits before the next attempt. */
  readonly delayMs: number;
  /** Whether the next attempt lists again (true) or resumes the watch from the last resourceVersion. */
  readonly relist: boolean;
  readonly error?: Error;
}

/** Which step failed; a bounded value, usable as a metric label. */
export type InformerErrorPhase = "list" | "watch" | "handler" | "watchdog";

/** An error of one informer; the original error is the `cause`. */
/** The server-side watch timeout when none is given (client-go's reflector uses 5-10 min). */
export const DEFAULT_WATCH_TIMEOUT_SECONDS = 300;

export class InformerError extends Error {
  /** `statusCode` is the HTTP status (or watch Status code) when the server sent one. */
  constructor(
    message: string,
    readonly informer: string,
    readonly phase: InformerErrorPhase,
    readonly statusCode: number | undefined,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = "InformerError";
  }
}

/** Called with an object of the cache; on `update` also with the version it replaced. */
export type ObjectHandler<T> = (obj: T, previous?: T) => void;

/** A watch event as the API server streams it (`object` is a Status for ERROR). */
interface WatchStatus {
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** How a watch stream ended without an error. */
interface WatchEnd {
  /** The server said our resourceVersion is too old (410 Gone): list again. */
  readonly expired: boolean;
  /** It delivered an object or bookmark, or stayed open a while (see {@link HEALTHY_WATCH_MS}). */
  readonly healthy: boolean;
}

/**
 * A watch that stays open this long (or half its requested timeout, if shorter) counts as healthy
 * even without events, and resets the back-off. Relative to the timeout so that short test timeouts
 * are not mistaken for a server that drops watches at once.
 */
const HEALTHY_WATCH_MS = 5_000;

/** Names of the events handlers can subscribe to. */
type InformerEventName = "add" | "update" | "delete" | "error" | "restart" | "relist";

/** Payload of the `relist` event: the cache now mirrors the collection at this resourceVersion. */
export interface RelistInfo {
  readonly resourceVersion: string;
}

/** Jitter for restarts: up to +50 %, so informers that failed together do not retry together. */
const RESTART_JITTER = 0.5;

/** The watch timeout to request: uniformly in [base, 2 × base), as client-go's reflector does. */
export function jitteredTimeoutSeconds(baseSeconds: number, random: number): number {
  return Math.max(1, Math.floor(baseSeconds * (1 + Math.min(Math.max(random, 0), 0.999))));
}

/**
 * Query parameters of one watch request. client-node's `Watch` adds `watch=true` and encodes these
 * with URLSearchParams; `allowWatchBookmarks` lets the server send periodic BOOKMARKs (they keep the
 * resourceVersion fresh and prove the connection is alive), `timeoutSeconds` makes the server end the
 * watch, because client-node 1.4 has no client-side watch timeout.
 */
export function watchQueryParams(params: {
  resourceVersion: string;
  labelSelector?: string;
  timeoutSeconds: number;
}): Record<string, string | number | boolean> {
  const query: Record<string, string | number | boolean> = {
    allowWatchBookmarks: true,
    timeoutSeconds: params.timeoutSeconds,
  };
  // An empty resourceVersion would mean "from the latest state, replayed as ADDED": only send a real one.
  if (params.resourceVersion !== "") query["resourceVersion"] = params.resourceVersion;
  if (params.labelSelector !== undefined && params.labelSelector !== "") {
    query["labelSelector"] = params.labelSelector;
  }
  return query;
}

/** The status code of an error from client-node: `statusCode` (watch), `code` (ApiException), or none. */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== "object" || err === null) return undefined;
  const record = err as { statusCode?: unknown; code?: unknown };
  if (typeof record.statusCode === "number") return record.statusCode;
  // ApiException has a numeric `code`; node-fetch's FetchError has a string one (e.g. "ECONNREFUSED").
  if (typeof record.code === "number") return record.code;
  return undefined;
}

function hasMetadataName(obj: unknown): obj is KubernetesObject & { metadata: { name: string } } {
  if (typeof obj !== "object" || obj === null) return false;
  const metadata = (obj as KubernetesObject).metadata;
  return typeof metadata === "object" && metadata !== null && typeof metadata.name === "string";
}

function resourceVersionOf(obj: unknown): string | undefined {
  if (typeof obj !== "object" || obj === null) return undefined;
  const rv = (obj as KubernetesObject).metadata?.resourceVersion;
  return typeof rv === "string" && rv !== "" ? rv : undefined;
}

/** ` (403)`, or nothing when the server sent no status code. */
function withCode(code: number | undefined): string {
  return code === undefined ? "" : ` (${String(code)})`;
}

/** `err` itself when it is an Error (abort reasons here always are), else an Error describing it. */
function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** Rejects with the signal's reason when it aborts first; the abandoned promise's outcome is ignored. */
function unlessAborted<V>(promise: Promise<V>, signal: AbortSignal): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    const onAbort = (): void => reject(toError(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(toError(err));
      },
    );
  });
}

/**
 * See the module comment. Usage: `on(...)` handlers, `start()`, `await waitForSync(signal)`, read with
 * `get`/`list`, `stop()`. Handlers run synchronously after the cache is updated; an exception in one is
 * reported as an `error` event (phase "handler") and affects nothing else.
 */
export class ResilientInformer<T extends KubernetesObject> {
  private readonly watcher: WatchStream;
  /** namespace ("" for cluster-scoped) → name → object. */
  private objects = new Map<string, Map<string, T>>();
  /** index name → value → "namespace/name" → object (see ResilientInformerOptions.indexers). */
  private readonly indexes = new Map<string, Map<string, Map<string, T>>>();
  /** Where the next watch resumes; undefined means "list first". */
  private resourceVersion: string | undefined;
  private readonly handlers: {
    add: Set<ObjectHandler<T>>;
    update: Set<ObjectHandler<T>>;
    delete: Set<ObjectHandler<T>>;
    error: Set<(err: Error) => void>;
    restart: Set<(info: RestartInfo) => void>;
    relist: Set<(info: RelistInfo) => void>;
  } = {
    add: new Set<ObjectHandler<T>>(),
    update: new Set<ObjectHandler<T>>(),
    delete: new Set<ObjectHandler<T>>(),
    error: new Set<(err: Error) => void>(),
    restart: new Set<(info: RestartInfo) => void>(),
    relist: new Set<(info: RelistInfo) => void>(),
  };
  private isSynced = false;
  private syncWaiters: Array<{ resolve: () => void; reject: (err: Error) => void }> = [];
  private started = false;
  private stopped = false;
  private failures = 0;
  /** Consecutive 410 Gone answers (each followed by a relist). */
  private expiredInARow = 0;
  private loop: Promise<void> | undefined;
  /** Aborts the running list/watch attempt (on stop, or by the watchdog). */
  private attempt: AbortController | undefined;
  /** Aborted by stop(): wakes a back-off sleep. */
  private readonly stopController = new AbortController();
  private watchdog: NodeJS.Timeout | undefined;
  private lastActivity = 0;
  private readonly baseTimeoutSeconds: number;
  private readonly backoffBaseMs: number;
  private readonly backoffMaxMs: number;
  private readonly watchdogSlackMs: number;

  /** Nothing happens until {@link start}. */
  constructor(private readonly options: ResilientInformerOptions<T>) {
    this.watcher = new WatchStream(options.kc);
    this.baseTimeoutSeconds = options.timeoutSeconds ?? DEFAULT_WATCH_TIMEOUT_SECONDS;
    this.backoffBaseMs = options.backoff?.baseMs ?? 200;
    this.backoffMaxMs = options.backoff?.maxMs ?? 30_000;
    this.watchdogSlackMs = options.watchdogSlackMs ?? 30_000;
  }

  /** True once the first list has filled the cache (it stays true through later restarts). */
  get synced(): boolean {
    return this.isSynced;
  }

  /** Registers a handler for cache changes (`add`, `update`, `delete`). */
  on(event: "add" | "update" | "delete", handler: ObjectHandler<T>): void;
  /** Registers a handler for errors (for logging; the informer restarts by itself). */
  on(event: "error", handler: (err: Error) => void): void;
  /** Registers a handler for restarts (for logging and metrics). */
  on(event: "restart", handler: (info: RestartInfo) => void): void;
  /** Registers a handler called after each list replaced the cache (after its add/update/delete events). */
  on(event: "relist", handler: (info: RelistInfo) => void): void;
  on(
    event: InformerEventName,
    handler:
      | ObjectHandler<T>
      | ((err: Error) => void)
      | ((info: RestartInfo) => void)
      | ((info: RelistInfo) => void),
  ): void {
    (this.handlers[event] as Set<typeof handler>).add(handler);
  }

  /** An object from the cache; omit `namespace` for cluster-scoped objects. */
  get(name: string, namespace?: string): T | undefined {
    return this.objects.get(namespace ?? "")?.get(name);
  }

  /** The cached objects filed under `value` in the index `indexName` (see `indexers`). */
  byIndex(indexName: string, value: string): T[] {
    return [...(this.indexes.get(indexName)?.get(value)?.values() ?? [])];
  }

  /** How many objects the index `indexName` files under any value. */
  indexedCount(indexName: string): number {
    let n = 0;
    for (const objects of this.indexes.get(indexName)?.values() ?? []) n += objects.size;
    return n;
  }

  /** Every cached object, or those of one namespace. */
  list(namespace?: string): ReadonlyArray<T> {
    if (namespace !== undefined) return [...(this.objects.get(namespace)?.values() ?? [])];
    const all: T[] = [];
    for (const byName of this.objects.values()) all.push(...byName.values());
    return all;
  }

  /** Resolves once synced; rejects when `signal` aborts or the informer is stopped first. */
  waitForSync(signal: AbortSignal): Promise<void> {
    if (this.isSynced) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`informer ${this.options.name} stopped before sync`));
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.syncWaiters = this.syncWaiters.filter((w) => w !== waiter);
        reject(toError(signal.reason));
      };
      const waiter = {
        resolve: (): void => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        },
        reject: (err: Error): void => {
          signal.removeEventListener("abort", onAbort);
          reject(err);
        },
      };
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      this.syncWaiters.push(waiter);
    });
  }

  /**
   * Starts listing and watching in the background and resolves at once: readiness is
   * {@link waitForSync}, failures are `error` events. Calling it again is a no-op; after stop() it throws.
   */
  start(): Promise<void> {
    if (this.stopped)
      return Promise.reject(new Error(`informer ${this.options.name} was stopped; create a new one`));
    if (this.started) return Promise.resolve();
    this.started = true;
    this.loop = this.run();
    return Promise.resolve();
  }

  /** Stops for good: aborts the current request, clears timers, emits nothing more. Idempotent. */
  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      this.stopController.abort(new Error(`informer ${this.options.name} stopped`));
      this.attempt?.abort(new Error(`informer ${this.options.name} stopped`));
      this.clearWatchdog();
      const error = new Error(`informer ${this.options.name} stopped before sync`);
      for (const waiter of this.syncWaiters.splice(0)) waiter.reject(error);
    }
    await this.loop;
  }

  /** The list/watch loop; never rejects, ends only on stop(). */
  private async run(): Promise<void> {
    while (!this.stopped) {
      const attempt = new AbortController();
      this.attempt = attempt;
      const timeoutSeconds = jitteredTimeoutSeconds(this.baseTimeoutSeconds, Math.random());
      this.armWatchdog(attempt, timeoutSeconds * 1000 + this.watchdogSlackMs);
      let restart: RestartInfo | undefined;
      try {
        if (this.resourceVersion === undefined) await this.relist(attempt.signal);
        const end = await this.watchOnce(attempt.signal, timeoutSeconds);
        restart = this.afterWatchEnd(end);
      } catch (err: unknown) {
        if (this.stopped) break; // our own abort: not an error, and never a reason to go on
        restart = this.afterFailure(err);
      } finally {
        this.clearWatchdog();
        attempt.abort(); // releases anything the attempt still holds (a connecting watch)
      }
      if (restart) {
        this.emit("restart", restart);
        if (restart.delayMs > 0) await this.sleep(restart.delayMs);
      }
    }
  }

  /** Decides what follows a watch the server ended cleanly; undefined means "re-watch now". */
  private afterWatchEnd(end: WatchEnd): RestartInfo | undefined {
    if (end.expired) {
      // 410 right after a fresh list would repeat forever, so only the first one in a row is free.
      this.resourceVersion = undefined;
      this.failures += 1;
      this.expiredInARow += 1;
      // Counted apart from other failures: after an outage (refused connections, then 410 from the
      // restarted server) the first relist must not wait out the outage's back-off.
      const delayMs = this.expiredInARow === 1 ? 0 : this.backoff();
      return { reason: "expired", attempt: this.failures, delayMs, relist: true };
    }
    if (!end.healthy) {
      // A proxy or server that closes watches at once would otherwise be hammered, since a clean end
      // is normally followed by an immediate re-watch.
      this.failures += 1;
      return { reason: "closed-early", attempt: this.failures, delayMs: this.backoff(), relist: false };
    }
    return undefined;
  }

  /** Reports a failed attempt and computes the back-off before the next one. */
  private afterFailure(err: unknown): RestartInfo {
    const error =
      err instanceof InformerError
        ? err
        : new InformerError(
            `informer ${this.options.name}: ${String(err)}`,
            this.options.name,
            "watch",
            undefined,
            {
              cause: err,
            },
          );
    this.emit("error", error);
    this.failures += 1;
    const reason: RestartReason = error.phase === "watchdog" ? "watchdog" : "error";
    const relist = this.resourceVersion === undefined;
    return { reason, attempt: this.failures, delayMs: this.backoff(), relist, error };
  }

  private backoff(): number {
    const jitter = Math.random() * RESTART_JITTER;
    return backoffDelayMs(this.failures - 1, this.backoffBaseMs, this.backoffMaxMs, jitter);
  }

  /** Lists, then replaces the cache, then emits the differences (so handlers see the new cache). */
  private async relist(signal: AbortSignal): Promise<void> {
    const items: T[] = [];
    let resourceVersion = "";
    let continueToken: string | undefined;
    do {
      let page: KubernetesListObject<T>;
      try {
        page = await unlessAborted(this.options.list(continueToken, signal), signal);
      } catch (err: unknown) {
        if (signal.aborted) throw err;
        const code = statusCodeOf(err);
        throw new InformerError(
          `informer ${this.options.name}: list failed${withCode(code)}`,
          this.options.name,
          "list",
          code,
          {
            cause: err,
          },
        );
      }
      // Transformed page by page, so only one page of raw objects is alive at a time.
      for (const raw of page.items ?? [])
        if (hasMetadataName(raw)) items.push(this.options.transform ? this.options.transform(raw) : raw);
      // Every page of one list is a snapshot at the first page's resourceVersion.
      resourceVersion ||= page.metadata?.resourceVersion ?? "";
      // client-node's typed lists name it `_continue`; raw JSON lists name it `continue`.
      const meta: { _continue?: string; continue?: string } | undefined = page.metadata;
      continueToken = meta?._continue || meta?.continue || undefined;
    } while (continueToken);
    const { fresh, added, updated, deleted } = this.compare(items);
    this.objects = fresh;
    this.rebuildIndexes();
    this.resourceVersion = resourceVersion;
    this.lastActivity = Date.now();
    for (const obj of deleted) this.emit("delete", obj);
    for (const obj of added) this.emit("add", obj);
    for (const [obj, previous] of updated) this.emit("update", obj, previous);
    this.emit("relist", { resourceVersion });
    if (!this.isSynced) {
      this.isSynced = true;
      for (const waiter of this.syncWaiters.splice(0)) waiter.resolve();
    }
  }

  /** The cache a (transformed) list result makes, and how it differs from the current one. */
  private compare(items: readonly T[]): {
    fresh: Map<string, Map<string, T>>;
    added: T[];
    updated: Array<[T, T]>;
    deleted: T[];
  } {
    const fresh = new Map<string, Map<string, T>>();
    const added: T[] = [];
    const updated: Array<[T, T]> = [];
    for (const item of items) {
      if (!hasMetadataName(item)) continue;
      const obj = item as T & { metadata: { name: string } };
      const namespace = obj.metadata.namespace ?? "";
      let byName = fresh.get(namespace);
      if (!byName) fresh.set(namespace, (byName = new Map<string, T>()));
      byName.set(obj.metadata.name, obj);
      const previous = this.get(obj.metadata.name, namespace);
      if (!previous) added.push(obj);
      else if (!sameVersion(previous, obj)) updated.push([obj, previous]);
    }
    const deleted: T[] = [];
    for (const [namespace, byName] of this.objects) {
      for (const [name, obj] of byName) if (!fresh.get(namespace)?.has(name)) deleted.push(obj);
    }
    return { fresh, added, updated, deleted };
  }

  /**
   * One watch request, settled when the stream ends (resolve), fails (reject with InformerError) or the
   * attempt is aborted (reject with the abort reason). Events that arrive after settling are dropped,
   * which is what makes stop() final even while the request is still connecting.
   */
  private watchOnce(signal: AbortSignal, timeoutSeconds: number): Promise<WatchEnd> {
    return new Promise<WatchEnd>((resolve, reject) => {
      let settled = false;
      let controller: AbortController | undefined;
      let connectedAt: number | undefined;
      let events = 0;
      let expired = false;
      let statusError: InformerError | undefined;
      const healthyAfterMs = Math.min(HEALTHY_WATCH_MS, (timeoutSeconds * 1000) / 2);
      const finish = (err?: unknown): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener("abort", onAbort);
        controller?.abort();
        // A watch that worked for a while was healthy even if it ends badly now: restart the back-off.
        const healthy =
          events > 0 || (connectedAt !== undefined && Date.now() - connectedAt >= healthyAfterMs);
        if (healthy) {
          this.failures = 0;
          this.expiredInARow = 0;
        }
        if (err !== undefined) reject(toError(err));
        else if (statusError) reject(statusError);
        else resolve({ expired, healthy });
      };
      const onAbort = (): void => finish(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });

      // Does not throw (failures go to finish): the stream would end the watch with the exception.
      const onEvent = (type: string, obj: unknown): void => {
        // After an ERROR event the stream is done for; the server closes it right after.
        if (settled || expired || statusError) return;
        this.lastActivity = Date.now();
        if (type === "ERROR") {
          const status = (obj ?? {}) as WatchStatus;
          if (status.code === 410) expired = true;
          else statusError = this.watchStatusError(status);
          // 410: our resourceVersion was compacted away. Any other ERROR event says the stream is
          // unusable from this resourceVersion, so list again rather than repeat it. (A connection
          // failure instead resumes from the last resourceVersion: cheap, and 410 tells us if too old.)
          this.resourceVersion = undefined;
          return;
        }
        events += 1;
        try {
          this.applyWatchEvent(type, obj);
        } catch (err: unknown) {
          finish(this.watchError(err)); // a bug of ours; restart cleanly rather than lose it
        }
      };
      const onDone = (err: unknown): void => {
        if (err === null || err === undefined) return finish();
        finish(this.watchError(err));
      };
      const query = watchQueryParams({
        resourceVersion: this.resourceVersion ?? "",
        labelSelector: this.options.labelSelector,
        timeoutSeconds,
      });
      // watch() resolves with its AbortController only after the response headers; a failure to build
      // the request (e.g. credentials) rejects instead of calling onDone.
      this.watcher.watch(this.options.path, query, onEvent, onDone).then(
        (c) => {
          controller = c;
          if (settled) c.abort();
          else {
            connectedAt = Date.now();
            this.lastActivity = connectedAt;
          }
        },
        (err: unknown) => finish(this.watchError(err)),
      );
    });
  }

  private watchError(err: unknown): InformerError {
    const code = statusCodeOf(err);
    const detail = err instanceof Error ? err.message : String(err);
    return new InformerError(
      `informer ${this.options.name}: watch failed: ${detail}`,
      this.options.name,
      "watch",
      code,
      {
        cause: err,
      },
    );
  }

  private watchStatusError(status: WatchStatus): InformerError {
    const detail = [status.code, status.reason, status.message].filter((p) => p !== undefined).join(" ");
    return new InformerError(
      `informer ${this.options.name}: watch ERROR event: ${detail}`,
      this.options.name,
      "watch",
      status.code,
    );
  }

  private applyWatchEvent(type: string, obj: unknown): void {
    const rv = resourceVersionOf(obj);
    if (type === "BOOKMARK") {
      if (rv !== undefined) this.resourceVersion = rv;
      return;
    }
    if (!hasMetadataName(obj) || (type !== "ADDED" && type !== "MODIFIED" && type !== "DELETED")) return;
    const raw = obj as T & { metadata: { name: string } };
    const typed = (this.options.transform ? this.options.transform(raw) : raw) as T & {
      metadata: { name: string };
    };
    const namespace = typed.metadata.namespace ?? "";
    const name = typed.metadata.name;
    // Update the resourceVersion and the cache before handlers run: a handler that throws (caught in
    // emit anyway) or reads the cache must see the state that includes this event.
    if (rv !== undefined) this.resourceVersion = rv;
    if (type === "DELETED") {
      const byName = this.objects.get(namespace);
      const stored = byName?.get(name);
      if (!byName || !stored) return;
      byName.delete(name);
      if (byName.size === 0) this.objects.delete(namespace);
      this.removeFromIndexes(stored);
      this.emit("delete", typed);
      return;
    }
    let byName = this.objects.get(namespace);
    if (!byName) this.objects.set(namespace, (byName = new Map<string, T>()));
    const previous = byName.get(name);
    byName.set(name, typed);
    if (previous) this.removeFromIndexes(previous);
    this.fileInIndexes(typed);
    if (!previous) this.emit("add", typed);
    else if (!sameVersion(previous, typed)) this.emit("update", typed, previous);
  }

  private rebuildIndexes(): void {
    this.indexes.clear();
    for (const byName of this.objects.values()) for (const obj of byName.values()) this.fileInIndexes(obj);
  }

  private fileInIndexes(obj: T): void {
    const indexers = this.options.indexers;
    if (!indexers) return;
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
    for (const [indexName, valuesOf] of Object.entries(indexers)) {
      for (const value of valuesOf(obj)) {
        let index = this.indexes.get(indexName);
        if (!index) this.indexes.set(indexName, (index = new Map<string, Map<string, T>>()));
        let objects = index.get(value);
        if (!objects) index.set(value, (objects = new Map<string, T>()));
        objects.set(key, obj);
      }
    }
  }

  private removeFromIndexes(obj: T): void {
    const indexers = this.options.indexers;
    if (!indexers) return;
    const key = `${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? ""}`;
    for (const [indexName, valuesOf] of Object.entries(indexers)) {
      const index = this.indexes.get(indexName);
      for (const value of valuesOf(obj)) {
        const objects = index?.get(value);
        if (objects?.delete(key) && objects.size === 0) index?.delete(value);
      }
    }
  }

  private emit(event: "add" | "update" | "delete", obj: T, previous?: T): void;
  private emit(event: "error", err: InformerError): void;
  private emit(event: "restart", info: RestartInfo): void;
  private emit(event: "relist", info: RelistInfo): void;
  private emit(
    event: InformerEventName,
    payload: T | InformerError | RestartInfo | RelistInfo,
    previous?: T,
  ): void {
    if (this.stopped) return;
    for (const handler of this.handlers[event] as Set<(p: typeof payload, previous?: T) => void>) {
      try {
        handler(payload, previous);
      } catch (err: unknown) {
        if (event === "error") continue; // an error handler that throws has nowhere left to report to
        const name = this.options.name;
        this.emit(
          "error",
          new InformerError(`informer ${name}: ${event} handler threw`, name, "handler", undefined, {
            cause: err,
          }),
        );
      }
    }
  }

  /**
   * Restarts the attempt when nothing (list result, connection, event, bookmark) was seen for
   * `limitMs`: a half-open TCP connection would otherwise hang the watch forever, since client-node
   * 1.4 has no client-side timeout and TCP keep-alive takes many minutes to notice.
   */
  private armWatchdog(attempt: AbortController, limitMs: number): void {
    this.clearWatchdog();
    this.lastActivity = Date.now();
    const check = (): void => {
      const idle = Date.now() - this.lastActivity;
      if (idle < limitMs) {
        this.watchdog = setTimeout(check, limitMs - idle);
        return;
      }
      const name = this.options.name;
      attempt.abort(
        new InformerError(
          `informer ${name}: no watch activity for ${Math.round(idle / 1000)} s`,
          name,
          "watchdog",
          undefined,
        ),
      );
    };
    this.watchdog = setTimeout(check, limitMs);
  }

  private clearWatchdog(): void {
    if (this.watchdog !== undefined) clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  /** Waits `ms`, or less when stop() is called. */
  private sleep(ms: number): Promise<void> {
    return sleep(ms, this.stopController.signal);
  }
}

/** Same object version: a relist or a replayed event with an unchanged resourceVersion is not an update. */
function sameVersion(a: KubernetesObject, b: KubernetesObject): boolean {
  const rv = a.metadata?.resourceVersion;
  return rv !== undefined && rv === b.metadata?.resourceVersion;
}
