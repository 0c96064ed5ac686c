/**
 * Converge: apply N SecureWorkspaces (as a user would, a few in parallel) and time until every
 * one is Ready=True with a current observedGeneration. Readiness is followed with a watch (an
 * informer on secureworkspaces), not by polling lists, so observing costs the server little.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import type { SecureWorkspace } from "../../src/api/types.js";
import { ResilientInformer } from "../../src/runtime/informer.js";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind, RESOURCES } from "../../src/api/resources.js";
import { collectionPath } from "../../src/runtime/resources.js";
import { forEachLimited } from "./stats.js";
import { benchWorkspace, workspaceName, type Naming } from "./workload.js";
import { FIELD_MANAGER } from "../../src/api/constants.js";

const SWS = resourceOfKind("SecureWorkspace");

/** Whether a workspace's status is current and Ready=True. */
export function isReady(obj: KubeObject): boolean {
  const ws = obj as unknown as SecureWorkspace;
  return (
    ws.status?.observedGeneration === ws.metadata.generation &&
    (ws.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

/** Follows the readiness of the benchmark's workspaces through a watch. */
export class WorkspaceTracker {
  private readonly informer: ResilientInformer<KubeObject>;
  private readonly client: TestKubeClient;
  private readonly ready = new Set<string>();
  private readonly wanted: ReadonlySet<string>;
  private lastChange = performance.now();
  private waiters: Array<() => void> = [];
  /** Workspaces seen Ready that then turned not Ready at the same generation (see flapsSince). */
  private flapCount = 0;

  constructor(kc: KubeConfig, naming: Naming) {
    this.wanted = new Set(Array.from({ length: naming.workspaces }, (_, i) => workspaceName(naming, i)));
    const client = new TestKubeClient(kc, { fieldManager: FIELD_MANAGER, resources: RESOURCES });
    this.client = client;
    this.informer = new ResilientInformer<KubeObject>({
      kc,
      name: "SecureWorkspace",
      path: collectionPath(SWS),
      list: () => client.list<KubeObject>(SWS),
    });
    const seen = (obj: KubeObject): void => {
      const name = obj.metadata.name;
      if (!this.wanted.has(name)) return;
      const before = this.ready.has(name);
      if (isReady(obj)) this.ready.add(name);
      else {
        this.ready.delete(name);
        if (before) this.flapCount++;
      }
      if (before !== this.ready.has(name)) this.lastChange = performance.now();
      if (this.ready.size === this.wanted.size) for (const w of this.waiters.splice(0)) w();
    };
    this.informer.on("add", seen);
    this.informer.on("update", seen);
    this.informer.on("delete", (obj) => this.ready.delete(obj.metadata.name));
  }

  /** Starts watching and waits for the first list. */
  async start(): Promise<void> {
    await this.informer.start();
    await this.informer.waitForSync(AbortSignal.timeout(60_000));
  }

  /**
   * How many times a Ready workspace has turned not Ready at the same generation since the tracker
   * started. In converge, with nobody touching the workspaces' objects, each is a status that said
   * something untrue for a moment (e.g. a reconcile that read a cache behind its own writes).
   */
  get flaps(): number {
    return this.flapCount;
  }

  /**
   * The drift corrections the workspaces' statuses count in all (`status.driftCorrections`). In
   * converge, with nobody touching the workspaces' objects, it must be 0: anything else is the
   * operator reporting its own writes as someone's drift.
   */
  driftCounted(): number {
    let n = 0;
    for (const o of this.workspaces()) {
      const count = (o as unknown as SecureWorkspace).status?.driftCorrections;
      n += typeof count === "number" ? count : 0;
    }
    return n;
  }

  /** How many are Ready with current status now. */
  get readyCount(): number {
    return this.ready.size;
  }

  /** Every workspace's cached object. */
  workspaces(): KubeObject[] {
    return this.informer.list().filter((o) => this.wanted.has(o.metadata.name));
  }

  /**
   * Resolves with the performance.now() time at which the last workspace became Ready (the
   * arrival of that watch event), or rejects after `timeoutMs`.
   */
  async allReady(timeoutMs: number): Promise<number> {
    if (this.ready.size < this.wanted.size)
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.waiters = this.waiters.filter((w) => w !== done);
          reject(
            new Error(
              `only ${this.ready.size}/${this.wanted.size} workspaces Ready after ${timeoutMs / 1000} s`,
            ),
          );
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        this.waiters.push(done);
      });
    return this.lastChange;
  }

  /** Stops the watch. */
  async stop(): Promise<void> {
    await this.informer.stop();
    this.client.close();
  }
}

/** Options for {@link applyWorkspaces}. */
export interface ApplyOptions {
  readonly naming: Naming;
  readonly kc: KubeConfig;
  readonly concurrency: number;
  /** Called after each apply with the count so far. */
  readonly onApplied?: (count: number) => void;
}

/** The "user's" field manager for SecureWorkspace applies (converge, and the fair floor's). */
export const USER_FIELD_MANAGER = "sws-bench-user";

/** Applies the N workspaces (server-side apply, the "user" field manager). */
export async function applyWorkspaces(options: ApplyOptions): Promise<void> {
  const client = new TestKubeClient(options.kc, { resources: RESOURCES, fieldManager: USER_FIELD_MANAGER });
  let count = 0;
  try {
    const all = Array.from({ length: options.naming.workspaces }, (_, i) =>
      benchWorkspace(options.naming, i),
    );
    await forEachLimited(all, options.concurrency, async (ws) => {
      await client.apply(ws);
      options.onApplied?.(++count);
    });
  } finally {
    client.close();
  }
}
