/**
 * `node dist/test/bench/write-cost.js [N]`: the control plane's CPU per write, by kind of write, on a
 * fresh local cluster with no operator running (README.md, "Why converge_ratio misses"). It explains
 * the converge/floor ratio: built-in objects vs the SecureWorkspace's own writes (user apply, the
 * operator's finalizer apply, its status apply, its Event), with and without the CRD's CEL rules.
 * Each figure runs from a quiet API server until it is quiet again, so follow-up work (quota
 * status, ServiceAccounts) counts too; the idle background is 0.02-0.1 cores.
 */
import type { SecureWorkspaceStatus } from "../../src/api/types.js";
import { FINALIZER } from "../../src/api/constants.js";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind, RESOURCES } from "../../src/api/resources.js";
import { type ResourceType } from "../../src/runtime/resources.js";
import { adminKubeConfig, setTestEnv } from "../harness/test-env.js";
import { installOperatorPrerequisites, startOperator } from "../integration/support/operator.js";
import { sleep, waitFor } from "../support/wait.js";
import { controlPlaneCpu, cpuDelta, openCluster, waitForQuiet, type BenchCluster } from "./cluster.js";
import { forEachLimited } from "./stats.js";
import { benchWorkspace, floorObjects, type Naming } from "./workload.js";

const SWS = resourceOfKind("SecureWorkspace");
const CRD_NAME = "secureworkspaces.secureworkspace.io";

let cluster: BenchCluster | undefined;

/**
 * Control-plane CPU per write of `items` (32 in flight), printed. Starts once the API server is
 * quiet and ends once it is quiet again, so follow-up work counts and nothing earlier does.
 */
async function measure<T>(
  label: string,
  items: readonly T[],
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  if (cluster) await waitForQuiet(cluster);
  const before = controlPlaneCpu();
  await forEachLimited(items, 32, async (item) => {
    await fn(item);
  });
  if (cluster) await waitForQuiet(cluster);
  const c = cpuDelta(controlPlaneCpu(), before);
  const total = c.apiserver + c.etcd + c.controllerManager;
  console.log(`${label}: ${((1000 * total) / items.length).toFixed(2)} ms control-plane CPU per write`);
}

/** The status the operator writes for one converged workspace of the benchmark's shape. */
async function realStatus(admin: TestKubeClient): Promise<SecureWorkspaceStatus> {
  const sample = benchWorkspace({ prefix: "sample", workspaces: 1, namespacesPerWorkspace: 2 }, 0);
  const operator = await startOperator({ workers: 2 });
  try {
    await admin.apply(sample);
    return await waitFor(
      async () => {
        const ws = (await admin.get(SWS, sample.metadata.name)) as { status?: SecureWorkspaceStatus };
        return ws.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True")
          ? ws.status
          : undefined;
      },
      { timeoutMs: 120_000, message: "the sample workspace Ready" },
    );
  } finally {
    await operator.stop();
  }
}

/** The status subresource as a "resource" TestKubeClient.mergePatch can address. */
function statusOf(name: string): ResourceType {
  return { ...SWS, plural: `${SWS.plural}/${encodeURIComponent(name)}` };
}

async function workspaceWrites(
  tag: string,
  prefix: string,
  n: number,
  clients: { admin: TestKubeClient; op: TestKubeClient },
  status: SecureWorkspaceStatus,
): Promise<void> {
  const naming: Naming = { prefix, workspaces: n, namespacesPerWorkspace: 2 };
  const ws = Array.from({ length: n }, (_, i) => benchWorkspace(naming, i));
  const statusFor = (name: string): SecureWorkspaceStatus =>
    JSON.parse(JSON.stringify(status).replaceAll("sample-0", name)) as SecureWorkspaceStatus;
  const stub = (x: KubeObject, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: x.apiVersion,
    kind: x.kind,
    metadata: { name: x.metadata.name, ...extra },
  });
  await measure(`${tag}: SecureWorkspace user apply`, ws, (x) => clients.admin.apply(x));
  await measure(`${tag}: finalizer apply`, ws, (x) => clients.op.apply(stub(x, { finalizers: [FINALIZER] })));
  await measure(`${tag}: status apply (real status)`, ws, (x) =>
    clients.op.applyStatus({ ...stub(x), status: statusFor(x.metadata.name) }),
  );
  await measure(`${tag}: status merge patch (same status, observedGeneration changed)`, ws, (x) =>
    clients.op.mergePatch(statusOf(x.metadata.name), "status", {
      status: { ...statusFor(x.metadata.name), observedGeneration: 2 },
    }),
  );
  const fresh = Array.from({ length: n }, (_, i) => benchWorkspace({ ...naming, prefix: `${prefix}x` }, i));
  await measure(`${tag}: SecureWorkspace user apply (fresh set)`, fresh, (x) => clients.admin.apply(x));
  const small = { observedGeneration: 1, conditions: status.conditions?.filter((c) => c.type === "Ready") };
  await measure(`${tag}: status apply, Ready condition only`, fresh, (x) =>
    clients.op.applyStatus({ ...stub(x), status: small }),
  );
}

/** Removes every x-kubernetes-validations (CEL) rule from the installed CRD; returns how many. */
async function stripCel(admin: TestKubeClient): Promise<number> {
  const crd = await admin.get(resourceOfKind("CustomResourceDefinition"), CRD_NAME);
  let removed = 0;
  const strip = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(strip);
    if (node === null || typeof node !== "object") return;
    const record = node as Record<string, unknown>;
    const rules = record["x-kubernetes-validations"];
    if (Array.isArray(rules)) {
      removed += rules.length;
      delete record["x-kubernetes-validations"];
    }
    Object.values(record).forEach(strip);
  };
  strip(crd["spec"]);
  await admin.replace(crd);
  return removed;
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const c = await openCluster(() => undefined);
  cluster = c;
  try {
    setTestEnv({ kubeconfigPath: c.kubeconfigPath, ...(c.local ? { cluster: c.local } : {}) });
    await installOperatorPrerequisites();
    const kc = adminKubeConfig();
    const admin = new TestKubeClient(kc, { resources: RESOURCES, fieldManager: "sws-write-cost" });
    const op = new TestKubeClient(kc, { resources: RESOURCES, fieldManager: "secure-workspace-operator" });
    const status = await realStatus(admin);
    console.log(`real status: ${JSON.stringify(status).length} bytes of JSON`);
    const owner = await admin.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: "sws-write-cost-owner" },
      rules: [],
    });
    const floor = Array.from({ length: n }, (_, i) =>
      floorObjects({ prefix: "bench", workspaces: n, namespacesPerWorkspace: 2 }, i, {
        apiVersion: owner.apiVersion,
        kind: owner.kind,
        name: owner.metadata.name,
        uid: owner.metadata.uid ?? "",
      }),
    ).flat();
    await measure(
      "built-in: namespaces",
      floor.filter((o) => o.kind === "Namespace"),
      (o) => admin.apply(o),
    );
    // The operator creates a namespace with a POST (a create fails where an apply would silently
    // adopt a namespace that appeared meanwhile), then applies it: two writes where the floor has one.
    const created = floor
      .filter((o) => o.kind === "Namespace")
      .map((o) => ({ ...o, metadata: { ...o.metadata, name: `created-${o.metadata.name}` } }));
    await measure("built-in: namespaces created with a POST (the operator's first write)", created, (o) =>
      admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: o.metadata.name } }),
    );
    await measure("built-in: the same namespaces applied after their POST", created, (o) => admin.apply(o));
    await measure(
      "built-in: NetworkPolicies, RoleBindings, quota, limits",
      floor.filter((o) => o.kind !== "Namespace"),
      (o) => admin.apply(o),
    );
    await workspaceWrites("with CEL", "cel", n, { admin, op }, status);
    await measure(
      "Event create",
      Array.from({ length: n }, (_, i) => i),
      (i) =>
        op.create({
          apiVersion: "events.k8s.io/v1",
          kind: "Event",
          metadata: { name: `sws-write-cost.${i}`, namespace: "default" },
          eventTime: new Date().toISOString().replace("Z", "000Z"),
          type: "Normal",
          reason: "Created",
          action: "Apply",
          note: "created 16 objects",
          reportingController: "secureworkspace.io/operator",
          reportingInstance: "sws-write-cost",
          regarding: { apiVersion: SWS.apiVersion, kind: SWS.kind, name: `cel-${i}` },
        }),
    );
    console.log(`CEL rules removed from the CRD: ${await stripCel(admin)}`);
    await sleep(10_000);
    await workspaceWrites("without CEL", "nocel", n, { admin, op }, status);
    // Put the rules back (installCrd replaces the CRD with the file) and measure again: the
    // difference from the first pass shows how much a bigger server alone changes the figures.
    await installOperatorPrerequisites();
    await sleep(10_000);
    await workspaceWrites("with CEL again", "again", n, { admin, op }, status);
    admin.close();
    op.close();
  } finally {
    await c.stop();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);
