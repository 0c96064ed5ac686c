/**
 * The runtime's lifecycle without leader election (the elected path needs a Lease on a real API
 * server: test/integration/leader-election.test.ts and lost-lease.test.ts): the order of start and
 * stop, and that no failure leaves caches or workers running. The caches are a plain object that
 * records what is asked of it; the queue is the real one; the client is never asked to send.
 */
import { KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import { KubeClient } from "../../../src/runtime/client.js";
import type { Logger } from "../../../src/runtime/log.js";
import { Lifecycle, type Caches, type LifecycleLeaderElection } from "../../../src/runtime/manager.js";
import { WorkQueue } from "../../../src/runtime/queue.js";

const quiet: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};

function unusedClient(): KubeClient {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server: "https://127.0.0.1:1", skipTLSVerify: true }],
    users: [{ name: "u", token: "t" }],
    contexts: [{ name: "ctx", cluster: "c", user: "u" }],
    currentContext: "ctx",
  });
  return new KubeClient(kc, { fieldManager: "lifecycle-test" });
}

/** Caches that record each call in `trace`; `syncError` makes the sync fail. */
function recordingCaches(trace: string[], syncError?: Error): Caches {
  let synced = false;
  return {
    start: () => {
      trace.push("caches.start");
      return Promise.resolve();
    },
    waitForSync: () => {
      trace.push("caches.waitForSync");
      if (syncError) return Promise.reject(syncError);
      synced = true;
      return Promise.resolve();
    },
    stop: () => {
      trace.push("caches.stop");
      synced = false;
      return Promise.resolve();
    },
    get synced() {
      return synced;
    },
  };
}

function lifecycle(
  trace: string[],
  overrides: {
    caches?: Caches;
    preflight?: () => Promise<void>;
    reconcileMs?: number;
    leaderElection?: LifecycleLeaderElection;
  } = {},
): Lifecycle {
  return new Lifecycle({
    ...(overrides.leaderElection ? { leaderElection: overrides.leaderElection } : {}),
    kube: unusedClient(),
    caches: overrides.caches ?? recordingCaches(trace),
    queue: new WorkQueue({ workers: 2 }),
    log: quiet,
    reconcile: async (key) => {
      trace.push(`reconcile ${key}`);
      if (overrides.reconcileMs) await new Promise((r) => setTimeout(r, overrides.reconcileMs));
      trace.push(`reconciled ${key}`);
      return {};
    },
    keys: () => ["a", "b"],
    workers: 2,
    resyncPeriodMs: 0,
    shutdownGraceMs: 5_000,
    preflight:
      overrides.preflight ??
      (() => {
        trace.push("preflight");
        return Promise.resolve();
      }),
  });
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check(), "condition reached").to.equal(true);
}

describe("Lifecycle (the runtime's start and stop)", () => {
  it("starts in order (preflight, caches, sync, then every key) and stops the caches last", async () => {
    const trace: string[] = [];
    const stop = new AbortController();
    const lc = lifecycle(trace);
    const run = lc.run(stop.signal);
    await until(() => trace.includes("reconciled a") && trace.includes("reconciled b"));
    expect(lc.synced).to.equal(true);
    stop.abort();
    expect(await run).to.equal("stopped");
    expect(trace.slice(0, 3)).to.deep.equal(["preflight", "caches.start", "caches.waitForSync"]);
    expect(trace.slice(3, -1).sort()).to.deep.equal([
      "reconcile a",
      "reconcile b",
      "reconciled a",
      "reconciled b",
    ]);
    expect(trace.at(-1)).to.equal("caches.stop");
  });

  it("lets a reconcile in flight finish before it stops the caches", async () => {
    const trace: string[] = [];
    const stop = new AbortController();
    const run = lifecycle(trace, { reconcileMs: 100 }).run(stop.signal);
    await until(() => trace.includes("reconcile a"));
    stop.abort();
    expect(await run).to.equal("stopped");
    expect(trace.indexOf("reconciled a")).to.be.lessThan(trace.indexOf("caches.stop"));
  });

  it("starts no cache when the preflight fails, and says why", async () => {
    const trace: string[] = [];
    const caches = recordingCaches(trace);
    const lc = lifecycle(trace, {
      caches,
      preflight: () => Promise.reject(new Error("tamper policy exempts someone else")),
    });
    let error: unknown;
    await lc.run(new AbortController().signal).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error).with.property("message", "tamper policy exempts someone else");
    expect(trace).to.deep.equal([]);
  });

  it("stops its caches and reconciles nothing when they cannot sync", async () => {
    const trace: string[] = [];
    const lc = lifecycle(trace, { caches: recordingCaches(trace, new Error("list namespaces: 403")) });
    let error: unknown;
    await lc.run(new AbortController().signal).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error).with.property("message", "list namespaces: 403");
    expect(trace).to.deep.equal(["preflight", "caches.start", "caches.waitForSync", "caches.stop"]);
  });

  it("stops its caches when the leader election cannot even be set up (timings that contradict)", async () => {
    const trace: string[] = [];
    const lc = lifecycle(trace, {
      // A renew deadline longer than the lease: refused by the elector's constructor.
      leaderElection: {
        namespace: "ops",
        name: "lease",
        timings: { leaseDurationMs: 5_000, renewDeadlineMs: 10_000, retryPeriodMs: 1_000 },
      },
    });
    let error: unknown;
    await lc.run(new AbortController().signal).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(Error);
    expect(trace).to.deep.equal(["preflight", "caches.start", "caches.waitForSync", "caches.stop"]);
  });

  it("stops at once, reconciling nothing, when its signal has aborted before the caches synced", async () => {
    const trace: string[] = [];
    const stop = new AbortController();
    stop.abort();
    const run = await lifecycle(trace).run(stop.signal);
    expect(run).to.equal("stopped");
    expect(trace.filter((t) => t.startsWith("reconcile"))).to.deep.equal([]);
  });
});
