/**
 * A deposed leader must stop writing: the operator under its own token, leading with a short Lease,
 * is in the middle of creating two large workspaces when a cluster admin hands the Lease to another
 * holder. The API server's audit log (the cluster records every write of the operator's identity) is
 * the witness: after the replica learnt it lost the Lease, the server received no write from it,
 * although most of the work was still to do. Nothing here asserts how fast anything was.
 */
import { CONTROLLER_NAME, DEFAULT_LEASE_NAME } from "../../src/api/constants.js";
import { expect } from "chai";
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE } from "../../src/api/constants.js";
import { applyDefaults } from "../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../src/api/types.js";
import { desiredStateOf } from "../../src/baseline/index.js";
import { Manager } from "../../src/controller/manager.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { isConflict, isNotFound } from "../../src/runtime/errors.js";
import { RESOURCES, resourceOfKind } from "../../src/api/resources.js";
import { Metrics } from "../../src/observability/metrics.js";
import type { AuditedWrite, LocalCluster } from "../harness/local-cluster.js";
import { OPERATOR_USER } from "../harness/root-hooks.js";
import { testEnv } from "../harness/test-env.js";
import { waitFor } from "../support/wait.js";
import {
  adminClient,
  captureLog,
  installOperatorPrerequisites,
  OPERATOR_NAMESPACE,
  operatorKubeConfig,
  startOperator,
} from "./support/operator.js";
import { SWS, workspace } from "./support/workspaces.js";

const LEASE = RESOURCES.of("coordination.k8s.io/v1", "Lease");
const LEASE_NAME = "sws-e2e-lost-lease";
const NAMESPACES_PER_WORKSPACE = 60;
const WORKSPACES = ["lost-lease-a", "lost-lease-b"];
/**
 * Requests the client had already handed to the socket when it learnt of the loss may reach the
 * server's handler a little later; anything received later than this after the loss was sent after it.
 */
const IN_FLIGHT_MS = 300;
/** The kinds of the baseline on a cluster without a service mesh. */
const CORE_KINDS: readonly string[] = [
  "Namespace",
  "NetworkPolicy",
  "RoleBinding",
  "ResourceQuota",
  "LimitRange",
];

function namespacesOf(ws: string): string[] {
  return Array.from({ length: NAMESPACES_PER_WORKSPACE }, (_, i) => `${ws}-${String(i).padStart(3, "0")}`);
}

function spec(ws: string): SecureWorkspaceSpec {
  return { namespaces: namespacesOf(ws).map((name) => ({ name })), deletionPolicy: "Delete" };
}

async function exists(admin: TestKubeClient, name: string): Promise<boolean> {
  try {
    await admin.get(resourceOfKind("Namespace"), name);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}

describe("a deposed leader stops writing (real API server, its audit log as witness)", function () {
  this.timeout(300_000);
  let admin: TestKubeClient;
  let cluster: LocalCluster;

  before(async () => {
    const own = testEnv().cluster;
    if (!own)
      throw new Error(
        "this suite reads the audit log of the harness's own cluster (unset SWS_TEST_KUBECONFIG)",
      );
    cluster = own;
    await installOperatorPrerequisites();
    admin = adminClient();
  });

  after(async () => {
    // Leave nothing behind for later suites: a normal operator finishes the workspaces' deletion
    // (deletionPolicy Delete removes the namespaces the deposed leader created).
    const cleaner = await startOperator({ workers: 2 });
    try {
      for (const name of WORKSPACES) await admin.delete(SWS, name);
      await waitFor(
        async () => {
          for (const name of WORKSPACES)
            try {
              await admin.get(SWS, name);
              return false;
            } catch (err) {
              if (!isNotFound(err)) throw err;
            }
          return true;
        },
        { timeoutMs: 240_000, message: "workspaces finalized" },
      );
    } finally {
      await cleaner.stop();
      await admin.delete(LEASE, LEASE_NAME, OPERATOR_NAMESPACE).catch(() => undefined);
      admin.close();
    }
  });

  it("cancels its in-flight reconciles when another holder takes the Lease: no write reaches the server after", async () => {
    for (const name of WORKSPACES) await admin.apply(workspace(name, spec(name)));

    let lostAtMs: number | undefined;
    const log = captureLog();
    const lostLine = log.error.bind(log);
    const manager = new Manager({
      kc: await operatorKubeConfig(),
      log: {
        ...log,
        error: (message: string, fields?: Record<string, unknown>): void => {
          if (message === "lost leadership; stopping") lostAtMs ??= Date.now();
          lostLine(message, fields);
        },
      },
      metrics: new Metrics({
        controller: CONTROLLER_NAME,
        leaseName: DEFAULT_LEASE_NAME,
        processMetrics: false,
      }),
      workers: 2,
      resyncPeriodMs: 0,
      operatorNamespace: OPERATOR_NAMESPACE,
      shutdownGraceMs: 30_000,
      leaderElection: {
        enabled: true,
        leaseName: LEASE_NAME,
        identity: "deposed-replica",
        timings: { leaseDurationMs: 3_000, renewDeadlineMs: 2_000, retryPeriodMs: 200 },
      },
    });
    const stop = new AbortController();
    const run = manager.run(stop.signal);
    try {
      // It leads and has begun: the first namespace of a workspace exists.
      const firsts = WORKSPACES.map((ws) => namespacesOf(ws)[0] ?? "");
      await waitFor(async () => (await Promise.all(firsts.map((ns) => exists(admin, ns)))).includes(true), {
        timeoutMs: 120_000,
        message: "the leader started creating namespaces",
      });

      // A cluster admin hands the Lease to another holder (what a standby does once it expired). The
      // leader renews every 200 ms, so a replace may meet a newer resourceVersion (409): read again.
      await waitFor(
        async () => {
          const lease = await admin.get<KubeObject & { spec?: Record<string, unknown> }>(
            LEASE,
            LEASE_NAME,
            OPERATOR_NAMESPACE,
          );
          const now = new Date().toISOString().replace("Z", "000Z");
          try {
            await admin.replace({
              ...lease,
              spec: {
                ...lease.spec,
                holderIdentity: "thief",
                acquireTime: now,
                renewTime: now,
                leaseDurationSeconds: 3600,
              },
            });
            return true;
          } catch (err) {
            if (isConflict(err)) return false;
            throw err;
          }
        },
        { timeoutMs: 30_000, intervalMs: 0, message: "the Lease handed to another holder" },
      );

      expect(await run).to.equal("lost");
    } finally {
      stop.abort();
      await run.catch(() => undefined);
    }
    expect(lostAtMs, "the replica reported the lost Lease").to.be.a("number");
    const lostAt = lostAtMs ?? 0;

    // Whatever the server still had to log has been logged (blocking audit mode): read its record.
    const writes = cluster.auditedWrites().filter((w) => w.user === OPERATOR_USER);
    const before = writes.filter((w) => w.receivedAtMs <= lostAt);
    const after = writes.filter((w) => w.receivedAtMs > lostAt + IN_FLIGHT_MS);
    const show = (w: AuditedWrite): string =>
      `${w.verb} ${w.object} ${w.code} at +${String(w.receivedAtMs - lostAt)} ms`;

    // The witness sees this identity: it wrote while it led (the legitimate part).
    expect(before.filter((w) => w.object.startsWith("namespaces/")).length).to.be.greaterThan(0);
    // And nothing after it knew it was deposed.
    expect(after.map(show)).to.deep.equal([]);

    // It was cut off in the middle: the baseline its workspaces ask for is incomplete (else the test
    // proves nothing). A fast server may see every namespace created before the loss, so this counts
    // every object of the baseline (mesh aside: this cluster has none), not only the namespaces.
    const desired = WORKSPACES.flatMap((name) =>
      desiredStateOf({ name, uid: "" }, applyDefaults(spec(name))),
    ).filter((o) => CORE_KINDS.includes(o.kind));
    const present = new Set<string>();
    for (const kind of CORE_KINDS) {
      const list = await admin.list(resourceOfKind(kind), {
        labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
      });
      for (const o of list.items) present.add(`${kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`);
    }
    const written = desired.filter((o) =>
      present.has(`${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`),
    ).length;
    expect(written, "objects of the baseline written before the loss").to.be.lessThan(desired.length);
  });
});
