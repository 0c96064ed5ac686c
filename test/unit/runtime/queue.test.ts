import { expect } from "chai";
import fc from "fast-check";
import {
  backoffDelayMs,
  isTerminalError,
  TerminalError,
  TokenBucket,
  WorkQueue,
  type QueueMetricsSink,
  type ReconcileHandler,
  type ReconcileResult,
} from "../../../src/runtime/queue.js";
import { sleep, waitFor } from "../../support/wait.js";

/** A promise plus the function that resolves it, to hold a handler open until the test lets go. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A handler from a synchronous function: what it throws becomes a rejection, as with an async one. */
function handler(fn: (key: string) => ReconcileResult): ReconcileHandler {
  return (key) => Promise.resolve(key).then(fn);
}

/** Live Node.js timers (mocha's own per-test timer included, so compare counts, not zero). */
function activeTimeouts(): number {
  return process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
}

describe("backoffDelayMs", () => {
  it("doubles per failure from the base delay", () => {
    expect([0, 1, 2, 3, 4].map((f) => backoffDelayMs(f, 5, 300_000, 0))).to.deep.equal([5, 10, 20, 40, 80]);
  });

  it("never exceeds the cap, even for huge failure counts", () => {
    expect(backoffDelayMs(30, 5, 1000, 0)).to.equal(1000);
    expect(backoffDelayMs(5000, 5, 1000, 0.5)).to.equal(1000);
  });

  it("adds the jitter fraction on top of the exponential delay", () => {
    expect(backoffDelayMs(2, 10, 1000, 0.1)).to.be.closeTo(44, 1e-9);
  });

  it("is monotonic in failures and bounded by [base*2^f, max] for any jitter", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 200 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: 10_000_000 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (failures, base, max, jitter) => {
          const d = backoffDelayMs(failures, base, max, jitter);
          expect(Number.isFinite(d)).to.be.true;
          expect(d).to.be.at.most(max);
          expect(d).to.be.at.least(Math.min(max, base * 2 ** failures));
          expect(backoffDelayMs(failures + 1, base, max, 0)).to.be.at.least(
            backoffDelayMs(failures, base, max, 0),
          );
        },
      ),
    );
  });
});

describe("TokenBucket", () => {
  it("lets a burst through, then spaces callers at the configured rate", () => {
    let now = 0;
    const bucket = new TokenBucket(10, 2, () => now);
    expect(bucket.reserve()).to.equal(0);
    expect(bucket.reserve()).to.equal(0);
    // Reservations queue up: the 3rd waits one interval (100 ms at 10/s), the 4th two.
    expect(bucket.reserve()).to.be.closeTo(100, 1e-6);
    expect(bucket.reserve()).to.be.closeTo(200, 1e-6);
    now += 1000; // refill, but never above the burst
    expect(bucket.reserve()).to.equal(0);
    expect(bucket.reserve()).to.be.closeTo(0, 1e-6);
    expect(bucket.reserve()).to.be.greaterThan(0);
  });
});

describe("isTerminalError", () => {
  it("finds a TerminalError anywhere in the cause chain", () => {
    const terminal = new TerminalError("bad spec");
    expect(isTerminalError(terminal)).to.be.true;
    expect(isTerminalError(new Error("wrapped", { cause: terminal }))).to.be.true;
    expect(isTerminalError(new Error("plain"))).to.be.false;
    expect(isTerminalError("not an error")).to.be.false;
  });
});

describe("WorkQueue", () => {
  let queue: WorkQueue | undefined;
  let stop: AbortController;

  beforeEach(() => {
    stop = new AbortController();
  });

  afterEach(async () => {
    stop.abort();
    await queue?.shutdown(5000);
    queue = undefined;
  });

  it("runs a key added many times before it runs only once", async () => {
    const runs: string[] = [];
    queue = new WorkQueue({ workers: 2 });
    for (let i = 0; i < 10; i++) queue.add("ns/a");
    queue.add("ns/b");
    expect(queue.len()).to.equal(2);
    queue.start(
      handler((key) => {
        runs.push(key);
        return {};
      }),
      stop.signal,
    );
    await waitFor(() => runs.length === 2 && queue?.processing() === 0, { message: "both keys to run" });
    await sleep(50);
    expect(runs.sort()).to.deep.equal(["ns/a", "ns/b"]);
  });

  it("never runs one key twice at once, and re-runs a key added during its run exactly once", async () => {
    const q = new WorkQueue({ workers: 4 });
    queue = q;
    const hold = gate();
    let active = 0;
    let maxActive = 0;
    let runs = 0;
    q.start(async () => {
      active++;
      runs++;
      maxActive = Math.max(maxActive, active);
      if (runs === 1) await hold.promise;
      active--;
      return {};
    }, stop.signal);
    q.add("k");
    await waitFor(() => q.processing() === 1, { message: "first run to start" });
    // Three adds while running collapse into one dirty mark.
    q.add("k");
    q.add("k");
    q.add("k");
    expect(q.len()).to.equal(0, "a running key must not be handed to another worker");
    hold.open();
    await waitFor(() => runs === 2 && q.processing() === 0, { message: "the dirty re-run" });
    await sleep(50);
    expect(runs).to.equal(2);
    expect(maxActive).to.equal(1);
  });

  it("runs different keys concurrently, bounded by the number of workers", async () => {
    const q = new WorkQueue({ workers: 3 });
    queue = q;
    const hold = gate();
    const started = new Set<string>();
    let active = 0;
    let maxActive = 0;
    q.start(async (key) => {
      started.add(key);
      active++;
      maxActive = Math.max(maxActive, active);
      await hold.promise;
      active--;
      return {};
    }, stop.signal);
    for (let i = 0; i < 8; i++) q.add(`k${i}`);
    await waitFor(() => q.processing() === 3, { message: "three keys running" });
    await sleep(50);
    expect(q.processing()).to.equal(3);
    expect(q.len()).to.equal(5);
    hold.open();
    await waitFor(() => started.size === 8 && q.processing() === 0, { message: "all keys to run" });
    expect(maxActive).to.equal(3);
  });

  it("keeps a worker alive when a handler throws, and retries the key with growing back-off", async () => {
    const errors: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      baseDelayMs: 2,
      maxDelayMs: 50,
      onError: (key) => errors.push(key),
    });
    queue = q;
    let attempts = 0;
    const failuresSeen: number[] = [];
    // Not async on purpose: the first attempt throws synchronously, the next ones reject.
    q.start((key) => {
      failuresSeen.push(q.failureCount(key));
      attempts++;
      if (attempts === 1) throw new Error("synchronous throw");
      if (attempts <= 4) return Promise.reject(new Error("rejected"));
      return Promise.resolve({});
    }, stop.signal);
    q.add("flaky");
    await waitFor(() => attempts === 5 && q.processing() === 0, { message: "five attempts" });
    expect(errors).to.deep.equal(["flaky", "flaky", "flaky", "flaky"]);
    // The failure count grows by one per failed attempt, and success resets it.
    expect(failuresSeen).to.deep.equal([0, 1, 2, 3, 4]);
    expect(q.failureCount("flaky")).to.equal(0);
    // The worker still takes new work.
    q.add("other");
    await waitFor(() => attempts === 6, { message: "the next key" });
  });

  it("retries at the cap a failure's hint gives, not after the queue's long back-off", async () => {
    const hinted: string[] = [];
    const q = new WorkQueue({
      workers: 1,
      // Without the hint the first retry would wait 100 s, far beyond the wait below.
      baseDelayMs: 100_000,
      maxDelayMs: 300_000,
      retryHint: (err) => {
        hinted.push(String(err));
        return { maxDelayMs: 20 };
      },
    });
    queue = q;
    let attempts = 0;
    q.start(
      () => (++attempts <= 3 ? Promise.reject(new Error("overloaded")) : Promise.resolve({})),
      stop.signal,
    );
    q.add("busy");
    await waitFor(() => attempts === 4, { timeoutMs: 30_000, message: "three retries at the hinted cap" });
    expect(hinted).to.deep.equal(["Error: overloaded", "Error: overloaded", "Error: overloaded"]);
  });

  it("waits at least the minimum a failure's hint gives (the server's Retry-After)", async () => {
    const q = new WorkQueue({ workers: 1, baseDelayMs: 1, retryHint: () => ({ minDelayMs: 100_000 }) });
    queue = q;
    let attempts = 0;
    q.start(() => (++attempts === 1 ? Promise.reject(new Error("429")) : Promise.resolve({})), stop.signal);
    q.add("throttled");
    await waitFor(() => attempts === 1 && q.processing() === 0, { message: "the failed attempt" });
    // With a 1 ms base delay and no floor the retry would run within milliseconds.
    await sleep(300);
    expect(attempts).to.equal(1);
    expect(q.failureCount("throttled")).to.equal(1);
  });

  it("does not retry a TerminalError but still reports it", async () => {
    const errors: unknown[] = [];
    const q = new WorkQueue({ workers: 1, baseDelayMs: 1, onError: (_key, err) => errors.push(err) });
    queue = q;
    let runs = 0;
    q.start(
      handler(() => {
        runs++;
        throw new Error("apply failed", { cause: new TerminalError("spec.namespaces is empty") });
      }),
      stop.signal,
    );
    q.add("ws");
    await waitFor(() => errors.length === 1, { message: "the error to be reported" });
    await sleep(100);
    expect(runs).to.equal(1);
    expect(q.failureCount("ws")).to.equal(0);
    expect(q.len()).to.equal(0);
  });

  it("requeues after requeueAfterMs without counting a failure", async () => {
    const q = new WorkQueue({ workers: 1 });
    queue = q;
    let runs = 0;
    q.start(
      handler(() => {
        runs++;
        return runs < 3 ? { requeueAfterMs: 5 } : {};
      }),
      stop.signal,
    );
    q.add("periodic");
    await waitFor(() => runs === 3, { message: "three periodic runs" });
    expect(q.failureCount("periodic")).to.equal(0);
  });

  it("keeps only the earliest of several delayed adds", async () => {
    const q = new WorkQueue({ workers: 1 });
    queue = q;
    const runs: number[] = [];
    q.start(
      handler(() => {
        runs.push(Date.now());
        return {};
      }),
      stop.signal,
    );
    q.addAfter("k", 60_000);
    q.addAfter("k", 20);
    q.addAfter("k", 30_000); // later than the pending one: ignored
    await waitFor(() => runs.length === 1, { message: "the earliest delayed add to fire" });
    // Had the 60 s or 30 s timer survived, shutdown would have to clear it; either way, no second run.
    await sleep(100);
    expect(runs).to.have.length(1);
  });

  it("shutdown waits for in-flight work, then runs nothing more and leaves no timers", async () => {
    await sleep(1); // mocha arms its per-test timer only after the test function returns
    const timersBefore = activeTimeouts();
    const q = new WorkQueue({ workers: 2 });
    queue = q;
    const hold = gate();
    let finished = 0;
    let startedAfterShutdown = 0;
    let shuttingDown = false;
    q.start(async () => {
      if (shuttingDown) startedAfterShutdown++;
      await hold.promise;
      finished++;
      return { requeueAfterMs: 10 };
    }, stop.signal);
    q.add("a");
    q.add("b");
    q.add("c"); // waits behind a and b; dropped by shutdown
    q.addAfter("d", 60_000);
    await waitFor(() => q.processing() === 2, { message: "two running" });
    shuttingDown = true;
    let resolved = false;
    const done = q.shutdown(30_000).then((ok) => {
      resolved = true;
      return ok;
    });
    await sleep(50);
    expect(resolved).to.equal(false, "shutdown must wait for the running handlers");
    hold.open();
    expect(await done).to.equal(true);
    expect(finished).to.equal(2);
    // The 60 s timer of "d" and the requeueAfter of a and b would keep the process alive.
    expect(activeTimeouts()).to.be.at.most(timersBefore);
    q.add("e");
    q.addAfter("f", 1);
    await sleep(100);
    expect(startedAfterShutdown).to.equal(0);
    expect(q.len()).to.equal(0);
    expect(q.processing()).to.equal(0);
  });

  it("shutdown gives up after the grace period and aborts the handlers' signal", async () => {
    const q = new WorkQueue({ workers: 1 });
    queue = q;
    let aborted = false;
    q.start(
      (_key, signal) =>
        new Promise<ReconcileResult>((resolve) => {
          signal.addEventListener("abort", () => {
            aborted = true;
            resolve({});
          });
        }),
      stop.signal,
    );
    q.add("stuck");
    await waitFor(() => q.processing() === 1, { message: "the stuck handler to start" });
    expect(await q.shutdown(20)).to.equal(false);
    await waitFor(() => aborted, { message: "the handler's signal to abort" });
  });

  it("stops taking work when the start signal aborts", async () => {
    const q = new WorkQueue({ workers: 1 });
    queue = q;
    let runs = 0;
    q.start(
      handler(() => {
        runs++;
        return {};
      }),
      stop.signal,
    );
    stop.abort();
    q.add("late");
    await sleep(50);
    expect(runs).to.equal(0);
    expect(await q.shutdown(1000)).to.equal(true);
  });

  it("reports metrics and survives a throwing sink", async () => {
    const seen = { depth: [] as number[], added: 0, retried: 0, latency: 0, work: 0 };
    const sink: QueueMetricsSink = {
      depth: (n) => seen.depth.push(n),
      added: () => {
        seen.added++;
        throw new Error("broken sink");
      },
      retried: () => seen.retried++,
      queueLatencySeconds: (s) => {
        expect(s).to.be.at.least(0);
        seen.latency++;
      },
      workDurationSeconds: () => seen.work++,
    };
    const q = new WorkQueue({ workers: 1, baseDelayMs: 1, onMetrics: sink });
    queue = q;
    let runs = 0;
    q.start(
      handler(() => {
        runs++;
        if (runs === 1) throw new Error("once");
        return {};
      }),
      stop.signal,
    );
    q.add("m");
    await waitFor(() => runs === 2 && q.processing() === 0, { message: "retry to finish" });
    expect(seen.added).to.equal(2);
    expect(seen.retried).to.equal(1);
    expect(seen.latency).to.equal(2);
    expect(seen.work).to.equal(2);
    expect(seen.depth).to.include(1);
    expect(seen.depth.at(-1)).to.equal(0);
  });

  it("rejects a non-positive worker count", () => {
    expect(() => new WorkQueue({ workers: 0 })).to.throw(/workers/);
  });
});
