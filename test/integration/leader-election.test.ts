/**
 * Leader election against the real API server: the Lease's optimistic concurrency is what makes it
 * safe, so only a real server tests it. Waits poll with generous deadlines; no test asserts how
 * long a hand-over took.
 */
import { expect } from "chai";
import { randomBytes } from "node:crypto";
import {
  LeaderElector,
  type Lease,
  type LeaseClient,
  type StopReason,
} from "../../src/runtime/leader-election.js";
import { TestKubeClient } from "../support/test-client.js";
import { isNotFound } from "../../src/runtime/errors.js";
import { RESOURCES } from "../../src/api/resources.js";
import { adminKubeConfig } from "../harness/test-env.js";
import { sleep, waitFor } from "../support/wait.js";
import { FIELD_MANAGER } from "../../src/api/constants.js";

const LEASE = RESOURCES.of("coordination.k8s.io/v1", "Lease");
const NAMESPACE = RESOURCES.of("v1", "Namespace");
/** Short timings so hand-overs take seconds; the ratios are client-go's constraints. */
const TIMINGS = { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 500 } as const;

/** One elector under test with everything it reported. */
interface Candidate {
  readonly elector: LeaderElector;
  readonly stop: AbortController;
  /** Settles when run() does; never rejects (the error is kept in `runError`). */
  readonly done: Promise<void>;
  readonly stopped: StopReason[];
  readonly leaders: string[];
  readonly errors: unknown[];
  runError: unknown;
  finished: boolean;
}

describe("leader election on a real API server", function () {
  this.timeout(120_000);
  // Created in before(): the cluster exists only once mocha's global setup has run, after loading.
  let kube: TestKubeClient;
  const namespace = `le-${randomBytes(4).toString("hex")}`;
  let candidates: Candidate[] = [];
  /** Times two candidates led at once; every test ends by checking it stayed empty. */
  let overlaps: string[] = [];
  let leaseName = "";

  before(async () => {
    kube = new TestKubeClient(adminKubeConfig(), { fieldManager: FIELD_MANAGER, resources: RESOURCES });
    await kube.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } });
  });

  after(async () => {
    await kube.delete(NAMESPACE, namespace);
    kube.close();
  });

  beforeEach(() => {
    candidates = [];
    overlaps = [];
    leaseName = `lease-${randomBytes(3).toString("hex")}`;
  });

  afterEach(async () => {
    for (const c of candidates) c.stop.abort();
    await Promise.all(candidates.map((c) => c.done));
    expect(overlaps, "two leaders at once").to.deep.equal([]);
  });

  function start(
    identity: string,
    options: { client?: LeaseClient; releaseOnCancel?: boolean } = {},
  ): Candidate {
    const stop = new AbortController();
    const stopped: StopReason[] = [];
    const leaders: string[] = [];
    const errors: unknown[] = [];
    const elector = new LeaderElector({
      kube: options.client ?? kube,
      namespace,
      name: leaseName,
      identity,
      ...TIMINGS,
      ...(options.releaseOnCancel === undefined ? {} : { releaseOnCancel: options.releaseOnCancel }),
      onStartedLeading: () => {
        const others = candidates.filter((c) => c.elector !== elector && c.elector.isLeader());
        if (others.length > 0)
          overlaps.push(`${identity} started while ${others.map((o) => o.elector.identity).join()} led`);
      },
      onStoppedLeading: (reason) => stopped.push(reason),
      onNewLeader: (id) => leaders.push(id),
      onError: (err) => errors.push(err),
    });
    const candidate: Candidate = {
      elector,
      stop,
      stopped,
      leaders,
      errors,
      runError: undefined,
      finished: false,
      done: elector.run(stop.signal).then(
        () => {
          candidate.finished = true;
        },
        (err: unknown) => {
          candidate.runError = err;
          candidate.finished = true;
        },
      ),
    };
    candidates.push(candidate);
    return candidate;
  }

  async function readLease(): Promise<Lease | undefined> {
    try {
      return await kube.get<Lease>(LEASE, leaseName, namespace);
    } catch (err: unknown) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  function leaderOf(group: readonly Candidate[]): Candidate | undefined {
    return group.find((c) => c.elector.isLeader());
  }

  it("elects exactly one of several candidates racing for an absent Lease, and records it", async () => {
    const group = [start("a"), start("b"), start("c")];
    const leader = await waitFor(() => leaderOf(group), { message: "a leader" });
    // Hold for a few renewals: the others must stay standbys and the leader must keep renewing.
    const firstRenew = (await readLease())?.spec?.renewTime;
    await sleep(TIMINGS.leaseDurationMs);
    expect(group.filter((c) => c.elector.isLeader()).map((c) => c.elector.identity)).to.deep.equal([
      leader.elector.identity,
    ]);
    const lease = await readLease();
    expect(lease?.spec?.holderIdentity).to.equal(leader.elector.identity);
    expect(lease?.spec?.leaseDurationSeconds).to.equal(3);
    expect(lease?.spec?.renewTime).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(lease?.spec?.renewTime).not.to.equal(firstRenew);
    for (const c of group) expect(c.leaders).to.include(leader.elector.identity);
  });

  it("hands over at once when the leader is stopped and releases the Lease", async () => {
    const a = start("a");
    await waitFor(() => a.elector.isLeader(), { message: "a to lead" });
    const b = start("b");
    await waitFor(() => b.leaders.includes("a"), { message: "b to see a leading" });
    expect(b.elector.isLeader()).to.be.false;

    a.stop.abort();
    await a.done;
    expect(a.runError).to.equal(undefined);
    expect(a.stopped).to.deep.equal(["stopped"]);
    expect(a.elector.isLeader()).to.be.false;
    const released = await readLease();
    // Released (no holder), unless b was quick enough to take it already.
    expect(["", "b"]).to.include(released?.spec?.holderIdentity);

    await waitFor(() => b.elector.isLeader(), { message: "b to lead after the release" });
    const lease = await readLease();
    expect(lease?.spec?.holderIdentity).to.equal("b");
    expect(lease?.spec?.leaseTransitions).to.equal(1);
  });

  it("takes over from a crashed leader once its Lease expires", async () => {
    // releaseOnCancel false: aborting just stops the timers, as a killed process would.
    const a = start("a", { releaseOnCancel: false });
    await waitFor(() => a.elector.isLeader(), { message: "a to lead" });
    const b = start("b");
    await waitFor(() => b.leaders.includes("a"), { message: "b to see a leading" });

    a.stop.abort();
    await a.done;
    expect((await readLease())?.spec?.holderIdentity, "not released").to.equal("a");
    expect(b.elector.isLeader()).to.be.false;

    await waitFor(() => b.elector.isLeader(), {
      message: "b to lead after a's Lease expired",
      timeoutMs: 60_000,
    });
    expect((await readLease())?.spec?.holderIdentity).to.equal("b");
  });

  it("stops leading as soon as it sees another holder, and run() ends", async () => {
    const a = start("a");
    await waitFor(() => a.elector.isLeader(), { message: "a to lead" });
    // Another process (not an elector here) overwrites the Lease, as a replica that judged a's term over
    // would. A renewal by a between our read and write is a 409: read again and retry.
    await waitFor(
      async () => {
        const lease = await readLease();
        if (!lease) return false;
        await kube.replace<Lease>({
          ...lease,
          spec: { ...lease.spec, holderIdentity: "intruder", leaseDurationSeconds: 60 },
        });
        return true;
      },
      { message: "the Lease overwritten" },
    );

    await waitFor(() => a.finished, { message: "a's run to end" });
    expect(a.stopped).to.deep.equal(["lost"]);
    expect(a.leaders).to.include("intruder");
    // It did not release: the Lease is the intruder's now.
    expect((await readLease())?.spec?.holderIdentity).to.equal("intruder");
  });

  it("gives up leadership when it cannot renew within the renew deadline", async () => {
    // A real server will not fail on demand, so this wraps the real client with a switch that turns
    // every call into a network error (the failure mode of a partitioned replica).
    let partitioned = false;
    const refuse = (): Promise<never> =>
      Promise.reject(new Error("connect ECONNREFUSED (simulated partition)"));
    const flakyOf = (client: LeaseClient): LeaseClient => ({
      get: (r, name, ns) => (partitioned ? refuse() : client.get(r, name, ns)),
      create: (obj) => (partitioned ? refuse() : client.create(obj)),
      replace: (obj) => (partitioned ? refuse() : client.replace(obj)),
      withSignal: (signal) => flakyOf(client.withSignal(signal)),
    });
    const flaky = flakyOf(kube);
    const a = start("a", { client: flaky });
    await waitFor(() => a.elector.isLeader(), { message: "a to lead" });
    const b = start("b");
    await waitFor(() => b.leaders.includes("a"), { message: "b to see a leading" });

    partitioned = true;
    await waitFor(() => a.finished, { message: "a to give up" });
    expect(a.stopped).to.deep.equal(["lost"]);
    expect(a.errors.length).to.be.greaterThan(0);
    await waitFor(() => b.elector.isLeader(), { message: "b to lead after a gave up" });
  });

  it("rejects run() when onStartedLeading throws, after releasing the Lease", async () => {
    const stop = new AbortController();
    const elector = new LeaderElector({
      kube,
      namespace,
      name: leaseName,
      identity: "broken",
      ...TIMINGS,
      onStartedLeading: () => {
        throw new Error("workers failed to start");
      },
      onStoppedLeading: () => undefined,
    });
    let rejected: unknown;
    await elector.run(stop.signal).catch((err: unknown) => (rejected = err));
    expect(rejected).to.be.instanceOf(Error);
    expect((rejected as Error).cause).to.have.property("message", "workers failed to start");
    expect((await readLease())?.spec?.holderIdentity).to.equal("");
  });
});
