/**
 * Drift restore latency at full scale: in random owned namespaces, a few at a time, either delete
 * the managed NetworkPolicy sws-default-deny or remove the Pod Security enforce label (JSON merge
 * patch), and time from the mutation's response until a watch event shows it restored (a new
 * NetworkPolicy uid; the label back at a resourceVersion newer than the mutation's).
 * Watches, not polling: the bench's informers see the restore when the operator's would.
 */
import type { KubeConfig } from "@kubernetes/client-node";
import {
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMES,
  PSA_PREFIX,
  WORKSPACE_LABEL,
} from "../../src/api/constants.js";
import { ResilientInformer } from "../../src/runtime/informer.js";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind, RESOURCES } from "../../src/api/resources.js";
import { collectionPath } from "../../src/runtime/resources.js";
import { sleep } from "../support/wait.js";
import { percentile } from "./stats.js";
import { namespacesOf, type Naming } from "./workload.js";

const NP = resourceOfKind("NetworkPolicy");
const NS = resourceOfKind("Namespace");
const ENFORCE_LABEL = `${PSA_PREFIX}enforce`;

/** The kinds of drift the benchmark causes. */
export type DriftKind = "delete-networkpolicy" | "remove-psa-label";

/** One measured sample. */
export interface DriftSample {
  readonly kind: DriftKind;
  readonly namespace: string;
  /** From the mutation's response to the restore's watch event (0 when the event came first). */
  readonly ms: number;
  /** True when it was not restored within the per-sample timeout (ms is then the timeout). */
  readonly timedOut: boolean;
  /** The mutation request's own round trip (a write under the same load). */
  readonly requestMs: number;
  /**
   * From the mutation's response until the bench's watch delivered the mutation itself (0 when it
   * came first): the server's watch latency, which a restore pays twice (to the operator, back).
   */
  readonly echoMs: number;
}

/** Options for {@link runDrift}. */
export interface DriftOptions {
  readonly naming: Naming;
  readonly kc: KubeConfig;
  readonly samples: number;
  readonly concurrency: number;
  /** Per-sample timeout, default 30 000 ms. */
  readonly sampleTimeoutMs?: number;
  readonly progress: (line: string) => void;
}

/** A mutation done: when it was sent and answered, and how to recognise its echo and its restore. */
interface Mutation {
  readonly started: number;
  readonly mutated: number;
  readonly echo: (e: Seen) => boolean;
  readonly restored: (e: Seen) => boolean;
}

interface Seen {
  readonly type: "add" | "update" | "delete";
  readonly obj: KubeObject;
  readonly at: number;
}

/** Watch events for one object, from the moment the recording starts. */
class Recording {
  readonly events: Seen[] = [];
  private wake: (() => void) | undefined;

  push(event: Seen): void {
    this.events.push(event);
    this.wake?.();
  }

  /** The arrival time of the first recorded event matching `match`; rejects after `timeoutMs`. */
  async first(match: (e: Seen) => boolean, timeoutMs: number): Promise<number> {
    const deadline = performance.now() + timeoutMs;
    for (let checked = 0; ;) {
      for (; checked < this.events.length; checked++) {
        const e = this.events[checked];
        if (match(e)) return e.at;
      }
      const left = deadline - performance.now();
      if (left <= 0) throw new Error("not restored in time");
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = (): void => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }
}

/** Routes informer events to the recordings of the objects under test. */
class Tap {
  private readonly recordings = new Map<string, Recording>();

  feed(key: string, type: Seen["type"], obj: KubeObject): void {
    this.recordings.get(key)?.push({ type, obj, at: performance.now() });
  }

  record(key: string): Recording {
    const r = new Recording();
    this.recordings.set(key, r);
    return r;
  }

  forget(key: string): void {
    this.recordings.delete(key);
  }
}

function informerOf(
  kc: KubeConfig,
  client: TestKubeClient,
  kind: "NetworkPolicy" | "Namespace",
  labelSelector: string,
  tap: Tap,
  keyOf: (obj: KubeObject) => string,
): ResilientInformer<KubeObject> {
  const r = resourceOfKind(kind);
  const informer = new ResilientInformer<KubeObject>({
    kc,
    name: kind,
    path: collectionPath(r),
    labelSelector,
    list: () => client.list<KubeObject>(r, { labelSelector }),
  });
  for (const type of ["add", "update", "delete"] as const)
    informer.on(type, (obj) => tap.feed(keyOf(obj), type, obj));
  return informer;
}

const npKey = (ns: string): string => `np/${ns}`;
const nsKey = (ns: string): string => `ns/${ns}`;

/** The drift phase: mutations, restore latencies, and a summary. */
export class DriftBench {
  private readonly tap = new Tap();
  private readonly client: TestKubeClient;
  private readonly policies: ResilientInformer<KubeObject>;
  private readonly namespaces: ResilientInformer<KubeObject>;

  constructor(private readonly options: DriftOptions) {
    this.client = new TestKubeClient(options.kc, { resources: RESOURCES, fieldManager: "sws-bench-drift" });
    this.policies = informerOf(
      options.kc,
      this.client,
      "NetworkPolicy",
      `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      this.tap,
      (o) => (o.metadata.name === NAMES.defaultDeny ? npKey(o.metadata.namespace ?? "") : ""),
    );
    this.namespaces = informerOf(options.kc, this.client, "Namespace", WORKSPACE_LABEL, this.tap, (o) =>
      nsKey(o.metadata.name),
    );
  }

  /** Runs every sample; returns them in completion order. */
  async run(): Promise<DriftSample[]> {
    const { naming, samples, concurrency, progress } = this.options;
    const signal = AbortSignal.timeout(120_000);
    await Promise.all([this.policies.start(), this.namespaces.start()]);
    await Promise.all([this.policies.waitForSync(signal), this.namespaces.waitForSync(signal)]);
    const out: DriftSample[] = [];
    const busy = new Set<number>();
    let issued = 0;
    const worker = async (): Promise<void> => {
      while (issued < samples) {
        const index = issued++;
        const ws = this.pickWorkspace(busy);
        busy.add(ws);
        try {
          const namespaces = namespacesOf(naming, ws);
          const ns = namespaces[Math.floor(Math.random() * namespaces.length)] ?? "";
          const kind: DriftKind = index % 2 === 0 ? "delete-networkpolicy" : "remove-psa-label";
          out.push(await this.sample(kind, ns));
          if (out.length % 25 === 0) progress(`drift: ${out.length}/${samples} samples`);
        } finally {
          busy.delete(ws);
        }
        // A short random pause, so the mutations do not march in lockstep.
        await sleep(Math.random() * 50);
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, samples) }, worker));
    return out;
  }

  /** The cached objects of the watches (for size statistics). */
  cached(): { networkPolicies: readonly KubeObject[]; namespaces: readonly KubeObject[] } {
    return { networkPolicies: this.policies.list(), namespaces: this.namespaces.list() };
  }

  /** Stops the watches. */
  async stop(): Promise<void> {
    await Promise.all([this.policies.stop(), this.namespaces.stop()]);
    this.client.close();
  }

  /** A workspace index no other sample is using, at random. */
  private pickWorkspace(busy: ReadonlySet<number>): number {
    const n = this.options.naming.workspaces;
    if (busy.size >= n) throw new Error("more drift samples in flight than workspaces");
    for (;;) {
      const i = Math.floor(Math.random() * n);
      if (!busy.has(i)) return i;
    }
  }

  private async sample(kind: DriftKind, ns: string): Promise<DriftSample> {
    const timeoutMs = this.options.sampleTimeoutMs ?? 30_000;
    const key = kind === "delete-networkpolicy" ? npKey(ns) : nsKey(ns);
    const rec = this.tap.record(key);
    try {
      const m = kind === "delete-networkpolicy" ? await this.deletePolicy(ns) : await this.removeLabel(ns);
      const requestMs = m.mutated - m.started;
      const echo = await rec.first(m.echo, timeoutMs).catch(() => Number.NaN);
      const echoMs = Math.max(0, echo - m.mutated);
      try {
        const at = await rec.first(m.restored, timeoutMs);
        return { kind, namespace: ns, ms: Math.max(0, at - m.mutated), timedOut: false, requestMs, echoMs };
      } catch {
        this.options.progress(`drift: ${kind} in ${ns} not restored within ${timeoutMs} ms`);
        return { kind, namespace: ns, ms: timeoutMs, timedOut: true, requestMs, echoMs };
      }
    } finally {
      this.tap.forget(key);
    }
  }

  /** Deletes sws-default-deny (with a uid precondition); a restore is a new uid. */
  private async deletePolicy(ns: string): Promise<Mutation> {
    const old = await this.present(
      () => this.policies.get(NAMES.defaultDeny, ns),
      `${ns}/${NAMES.defaultDeny}`,
    );
    const uid = old.metadata.uid ?? "";
    const started = performance.now();
    await this.client.delete(NP, NAMES.defaultDeny, ns, { uid });
    return {
      started,
      mutated: performance.now(),
      echo: (e) => e.type === "delete" && e.obj.metadata.uid === uid,
      restored: (e) => e.type !== "delete" && e.obj.metadata.uid !== uid,
    };
  }

  /** Removes the enforce label; a restore is the label back at a newer resourceVersion. */
  private async removeLabel(ns: string): Promise<Mutation> {
    const before = await this.present(() => {
      const o = this.namespaces.get(ns);
      return o?.metadata.labels?.[ENFORCE_LABEL] ? o : undefined;
    }, `${ns} ${ENFORCE_LABEL}`);
    const value = before.metadata.labels?.[ENFORCE_LABEL];
    const started = performance.now();
    const answer = await this.client.mergePatch(NS, ns, {
      metadata: { labels: { [ENFORCE_LABEL]: null } },
    });
    const mutated = performance.now();
    const rv = BigInt(answer.metadata.resourceVersion ?? "0");
    const rvOf = (e: Seen): bigint => BigInt(e.obj.metadata.resourceVersion ?? "0");
    return {
      started,
      mutated,
      echo: (e) => rvOf(e) === rv,
      restored: (e) =>
        e.type !== "delete" && rvOf(e) > rv && e.obj.metadata.labels?.[ENFORCE_LABEL] === value,
    };
  }

  /** Waits (briefly) until the object to mutate is in its desired state in the bench's cache. */
  private async present(get: () => KubeObject | undefined, what: string): Promise<KubeObject> {
    const deadline = performance.now() + 30_000;
    for (;;) {
      const o = get();
      if (o) return o;
      if (performance.now() > deadline) throw new Error(`drift: ${what} absent before the mutation`);
      await sleep(20);
    }
  }
}

/** p50/p95/p99 of a set of samples, in ms. */
export function latencySummary(samples: readonly DriftSample[]): {
  p50: number;
  p95: number;
  p99: number;
  samples: number;
} {
  const ms = samples.map((s) => s.ms);
  return { p50: percentile(ms, 50), p95: percentile(ms, 95), p99: percentile(ms, 99), samples: ms.length };
}
