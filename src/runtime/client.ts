/**
 * The one place that speaks HTTP to the API server for writes and reads (informers use
 * watch.ts). Auth and TLS come from a ClusterAccess (kubeconfig.ts); requests share one
 * keep-alive agent so a busy reconcile loop does not pay a TLS handshake per call.
 */
import { Agent, request as httpsRequest, type RequestOptions } from "node:https";
import { setMaxListeners } from "node:events";
import { request as httpRequest } from "node:http";
import type { ClusterAccess } from "./kubeconfig.js";
import { ApiError, RequestError, TimeoutError } from "./errors.js";
import {
  collectionPath,
  groupVersionPath,
  KUBERNETES,
  objectPath,
  type ResourceTable,
  type ResourceType,
} from "./resources.js";

/** How long TLS material and auth headers from the kubeconfig are reused before being read again. */
const CONNECTION_OPTIONS_TTL_MS = 10_000;

/** A Kubernetes object as the client sees it. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    generation?: number;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [field: string]: unknown;
  };
  [field: string]: unknown;
}

/** A list answer. */
export interface KubeList<T> {
  metadata: { resourceVersion?: string; continue?: string };
  items: T[];
}

/** Called after every request, for metrics (verb: get, list, create, apply, delete, ...). */
export type RequestObserver = (verb: string, statusCode: number) => void;

/** Options for {@link KubeClient}. */
export interface KubeClientOptions {
  /** Max parallel connections to the API server (default 32). */
  readonly maxSockets?: number;
  /** Per-request timeout in ms (default 30 s). */
  readonly timeoutMs?: number;
  /** Metrics hook. */
  readonly onRequest?: RequestObserver;
  /** Server-side-apply field manager: who owns the fields this client applies. */
  readonly fieldManager: string;
  /** Where the kinds this client writes by object live (default: Kubernetes' built-in kinds). */
  readonly resources?: ResourceTable;
}

/** Whether an error is a cancelled request (our own or Node's AbortError). */
export function isAbortError(err: unknown): boolean {
  return err instanceof Error && err.name === "AbortError";
}

/** The error of a request not sent because its signal had aborted (name AbortError, reason as cause). */
function cancelled(spec: RequestSpec, signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  const why = reason instanceof Error ? reason.message : String(reason);
  const err = new Error(`${spec.verb} ${spec.path}: cancelled before sending (${why})`, { cause: reason });
  err.name = "AbortError";
  return err;
}

/** What clients made by {@link KubeClient.withSignal} share with the client they came from. */
interface Transport {
  agent: Agent | undefined;
  connection: { at: number; opts: RequestOptions } | undefined;
}

/** One request, as {@link KubeClient} sends it (subclasses may add verbs of their own). */
export interface RequestSpec {
  readonly verb: string;
  readonly method: "GET" | "POST" | "PATCH" | "DELETE" | "PUT";
  readonly path: string;
  readonly query?: Record<string, string | undefined>;
  readonly body?: unknown;
  readonly contentType?: string;
}

/** A thin typed client: server-side apply with one field manager, get, list, delete, discovery. */
export class KubeClient {
  /** Sockets and credentials, shared by every client made with {@link withSignal}. */
  private transport: Transport;
  /** Aborts every request of this client (see {@link withSignal}); none for the root client. */
  private signal: AbortSignal | undefined;
  private readonly server: URL;
  private readonly fieldManager: string;
  private readonly resources: ResourceTable;

  constructor(
    private readonly kc: ClusterAccess,
    private readonly options: KubeClientOptions,
  ) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("kubeconfig has no current cluster");
    this.server = new URL(cluster.server);
    this.fieldManager = options.fieldManager;
    this.resources = options.resources ?? KUBERNETES;
    this.transport = { agent: undefined, connection: undefined };
  }

  /**
   * The same client (same sockets, credentials and hooks) with every request bound to `signal`: once
   * it aborts, no request starts and those in flight are destroyed, rejecting with an AbortError.
   * How a reconcile stops writing the moment its leadership (or the process) ends.
   */
  withSignal(signal: AbortSignal): KubeClient {
    const scoped = new KubeClient(this.kc, this.options);
    scoped.transport = this.transport;
    scoped.signal = this.signal ? AbortSignal.any([this.signal, signal]) : signal;
    // Each request in flight listens on it (and stops when done): up to maxSockets at once, not a leak.
    setMaxListeners(0, scoped.signal);
    return scoped;
  }

  /** Server-side apply (force: this client owns these fields) with its field manager. */
  async apply<T extends KubeObject>(obj: KubeObject, options: { dryRun?: boolean } = {}): Promise<T> {
    return (await this.applyTold<T>(obj, options)).object;
  }

  /**
   * {@link apply}, telling whether it made the object (201 Created) or changed or kept an
   * existing one (200): a restore is a restore only if the object was still gone.
   */
  async applyTold<T extends KubeObject>(
    obj: KubeObject,
    options: { dryRun?: boolean } = {},
  ): Promise<{ object: T; created: boolean }> {
    const r = this.resources.of(obj.apiVersion, obj.kind);
    const { status, object } = await this.exchange<T>({
      verb: "apply",
      method: "PATCH",
      path: objectPath(r, obj.metadata.name, obj.metadata.namespace),
      query: { fieldManager: this.fieldManager, force: "true", dryRun: options.dryRun ? "All" : undefined },
      body: obj,
      contentType: "application/apply-patch+yaml",
    });
    return { object, created: status === 201 };
  }

  /** Server-side apply to a cluster-scoped object's status subresource. */
  async applyStatus<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const r = this.resources.of(obj.apiVersion, obj.kind);
    return this.send<T>({
      verb: "apply-status",
      method: "PATCH",
      path: `${objectPath(r, obj.metadata.name, obj.metadata.namespace)}/status`,
      query: { fieldManager: this.fieldManager, force: "true" },
      body: obj,
      contentType: "application/apply-patch+yaml",
    });
  }

  /** Creates an object. */
  async create<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const r = this.resources.of(obj.apiVersion, obj.kind);
    return this.send<T>({
      verb: "create",
      method: "POST",
      path: collectionPath(r, obj.metadata.namespace),
      body: obj,
    });
  }

  /**
   * Replaces an object (PUT). With `metadata.resourceVersion` set, a write by anyone else since that
   * version makes it a 409 Conflict: optimistic concurrency, as leader election needs.
   */
  async replace<T extends KubeObject>(obj: KubeObject): Promise<T> {
    const r = this.resources.of(obj.apiVersion, obj.kind);
    return this.send<T>({
      verb: "update",
      method: "PUT",
      path: objectPath(r, obj.metadata.name, obj.metadata.namespace),
      body: obj,
    });
  }

  /** Reads an object; a missing object is an ApiError with statusCode 404. */
  async get<T extends KubeObject>(r: ResourceType, name: string, namespace?: string): Promise<T> {
    return this.send<T>({ verb: "get", method: "GET", path: objectPath(r, name, namespace) });
  }

  /** Lists objects (all namespaces when namespace is undefined). */
  async list<T extends KubeObject>(
    r: ResourceType,
    options: { namespace?: string; labelSelector?: string; limit?: number; continue?: string } = {},
  ): Promise<KubeList<T>> {
    return this.send<KubeList<T>>({
      verb: "list",
      method: "GET",
      path: collectionPath(r, options.namespace),
      query: {
        labelSelector: options.labelSelector,
        limit: options.limit === undefined ? undefined : String(options.limit),
        continue: options.continue,
      },
    });
  }

  /** Deletes an object with a UID/resourceVersion precondition when given. Missing is not an error. */
  async delete(
    r: ResourceType,
    name: string,
    namespace?: string,
    options: {
      uid?: string;
      propagationPolicy?: "Background" | "Foreground" | "Orphan";
      dryRun?: boolean;
    } = {},
  ): Promise<boolean> {
    try {
      await this.send({
        verb: "delete",
        method: "DELETE",
        path: objectPath(r, name, namespace),
        query: { dryRun: options.dryRun ? "All" : undefined },
        body: {
          apiVersion: "v1",
          kind: "DeleteOptions",
          ...(options.uid ? { preconditions: { uid: options.uid } } : {}),
          propagationPolicy: options.propagationPolicy ?? "Background",
        },
      });
      return true;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return false;
      throw err;
    }
  }

  /** Whether the API server serves a resource (e.g. Istio's peerauthentications). Not cached across calls. */
  async serves(apiVersion: string, plural: string): Promise<boolean> {
    try {
      const list = await this.send<{ resources: Array<{ name: string }> }>({
        verb: "discovery",
        method: "GET",
        path: groupVersionPath(apiVersion),
      });
      return list.resources.some((r) => r.name === plural);
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return false;
      throw err;
    }
  }

  /**
   * Who the API server thinks this client is (a SelfSubjectReview, authentication.k8s.io/v1):
   * the username admission policies compare, e.g. system:serviceaccount:<namespace>:<name>.
   */
  async whoAmI(): Promise<{ username: string; groups: string[] }> {
    const answer = await this.send<{ status?: { userInfo?: { username?: string; groups?: string[] } } }>({
      verb: "create",
      method: "POST",
      path: "/apis/authentication.k8s.io/v1/selfsubjectreviews",
      body: { apiVersion: "authentication.k8s.io/v1", kind: "SelfSubjectReview" },
    });
    const info = answer.status?.userInfo;
    if (typeof info?.username !== "string") throw new Error("SelfSubjectReview answered without a username");
    return { username: info.username, groups: info.groups ?? [] };
  }

  /** Frees sockets (of every client sharing them). */
  close(): void {
    this.transport.agent?.destroy();
    this.transport.agent = undefined;
  }

  /** Sends one request with this client's credentials, signal and hooks; a non-2xx answer throws. */
  protected async send<T>(spec: RequestSpec): Promise<T> {
    return (await this.exchange<T>(spec)).object;
  }

  /** {@link send}, with the answer's HTTP status. */
  private async exchange<T>(spec: RequestSpec): Promise<{ status: number; object: T }> {
    const url = new URL(spec.path, this.server);
    url.pathname = (this.server.pathname.replace(/\/$/, "") + spec.path).replace(/\/+/g, "/");
    for (const [k, v] of Object.entries(spec.query ?? {})) if (v !== undefined) url.searchParams.set(k, v);
    const opts: RequestOptions = { ...(await this.connectionOptions()), method: spec.method };
    if (url.protocol === "https:") opts.agent = this.agentFor(opts);
    else delete opts.agent;
    const payload = spec.body === undefined ? undefined : JSON.stringify(spec.body);
    const headers = { ...(opts.headers as Record<string, string>) };
    if (payload !== undefined) {
      headers["Content-Type"] = spec.contentType ?? "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(payload));
    }
    opts.headers = headers;
    opts.timeout = this.options.timeoutMs ?? 30_000;
    // Checked after the awaits above, right before the request leaves: an aborted scope sends nothing.
    if (this.signal?.aborted) throw cancelled(spec, this.signal);
    if (this.signal) opts.signal = this.signal;
    const { status, body, retryAfter } = await this.roundTrip(url, opts, payload).catch((err: unknown) => {
      // A cancellation stays what it is (callers test for it); anything else says what was asked.
      if (isAbortError(err)) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw new RequestError(`${spec.verb} ${spec.path}: no answer: ${why}`, spec.verb, spec.path, {
        cause: err,
      });
    });
    this.options.onRequest?.(spec.verb, status);
    if (status < 200 || status >= 300) throw this.toError(spec, status, body, retryAfter);
    return { status, object: (body ? JSON.parse(body) : {}) as T };
  }

  /**
   * TLS material and auth headers from the kubeconfig, re-read at most every 10 s: per request it
   * cost 2.5 % of a busy operator's CPU, and 10 s still follows a rotated token file promptly.
   */
  private async connectionOptions(): Promise<RequestOptions> {
    const now = Date.now();
    const t = this.transport;
    if (!t.connection || now - t.connection.at > CONNECTION_OPTIONS_TTL_MS) {
      const opts: RequestOptions = { headers: { Accept: "application/json" } };
      await this.kc.applyToHTTPSOptions(opts);
      t.connection = { at: now, opts };
    }
    const { opts } = t.connection;
    return { ...opts, headers: { ...(opts.headers as Record<string, string>) } };
  }

  private agentFor(opts: RequestOptions): Agent {
    if (!this.transport.agent) {
      this.transport.agent = new Agent({
        keepAlive: true,
        maxSockets: this.options.maxSockets ?? 32,
        ca: opts.ca,
        cert: opts.cert,
        key: opts.key,
        ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      });
    }
    return this.transport.agent;
  }

  private roundTrip(
    url: URL,
    opts: RequestOptions,
    payload?: string,
  ): Promise<{ status: number; body: string; retryAfter?: string }> {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const req = send(url, opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        const retryAfter = res.headers["retry-after"];
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
            ...(retryAfter !== undefined ? { retryAfter } : {}),
          }),
        );
        res.on("error", reject);
      });
      req.on("timeout", () =>
        req.destroy(new TimeoutError(`request timed out after ${String(opts.timeout)} ms`)),
      );
      req.on("error", (err) => {
        this.options.onRequest?.(isAbortError(err) ? "aborted" : "error", 0);
        reject(err);
      });
      if (payload !== undefined) req.write(payload);
      req.end();
    });
  }

  private toError(spec: RequestSpec, status: number, body: string, retryAfter?: string): ApiError {
    let reason = "";
    let message = body.slice(0, 500);
    try {
      const parsed = JSON.parse(body) as { reason?: string; message?: string };
      reason = parsed.reason ?? "";
      message = parsed.message ?? message;
    } catch {
      // not a Status object: keep the raw text
    }
    // Retry-After in seconds (the API server never sends the HTTP-date form).
    const seconds = retryAfter !== undefined && /^\d{1,6}$/.test(retryAfter) ? Number(retryAfter) : undefined;
    return new ApiError(
      `${spec.verb} ${spec.path}: ${status} ${reason}: ${message}`,
      status,
      reason,
      message,
      { verb: spec.verb, path: spec.path, ...(seconds !== undefined ? { retryAfterSeconds: seconds } : {}) },
    );
  }
}
