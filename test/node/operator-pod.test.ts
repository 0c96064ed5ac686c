/**
 * The operator as it runs in production: the image built from config/Dockerfile's final stage,
 * config/ applied as it is (only the image swapped for the local tag, imagePullPolicy Never), two
 * replicas in the restricted operator namespace, Ready through their probes, one leader. Then:
 * it reconciles a workspace whose policies hold on packets; a crash of the leader (SIGKILL) hands
 * over to the standby within the lease duration and the new leader keeps enforcing; /metrics answers on
 * the pod IP with no 403 counted; the kernel holds its root filesystem read-only.
 */
import { expect } from "chai";
import path from "node:path";
import type { TestKubeClient } from "../support/test-client.js";
import { nodeEnv } from "../harness/node-root-hooks.js";
import { deployOperator, undeployOperator } from "../harness/node/deploy.js";
import { adminClient, OPERATOR_NAMESPACE } from "../integration/support/operator.js";
import { deleteWorkspace, waitReady, workspace } from "../integration/support/workspaces.js";
import { waitFor } from "../support/wait.js";
import { containerPid, processView } from "./support/host-view.js";
import { check, NONE, type Disagreements } from "./support/judged.js";
import { apply, kubectl, namespace, probePod, waitPodsReady, type PodRef } from "./support/pods.js";

const DEPLOYMENT = "secure-workspace-operator";
const LEASE = "secure-workspace-operator";
const LEASE_DURATION_MS = 15_000; // src/controller/leader-election.ts default
const OUTSIDE = "sws-deployed-outside";

interface PodInfo {
  name: string;
  ip: string;
  ready: boolean;
  deleting: boolean;
}

async function operatorPods(): Promise<PodInfo[]> {
  const out = await kubectl([
    "get",
    "pods",
    "-n",
    OPERATOR_NAMESPACE,
    "-l",
    "app.kubernetes.io/name=secure-workspace-operator",
    "-o",
    "json",
  ]);
  const list = JSON.parse(out) as {
    items: Array<{
      metadata: { name: string; deletionTimestamp?: string };
      status: { podIP?: string; conditions?: Array<{ type: string; status: string }> };
    }>;
  };
  return list.items.map((p) => ({
    name: p.metadata.name,
    ip: p.status.podIP ?? "",
    ready: p.status.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false,
    deleting: Boolean(p.metadata.deletionTimestamp),
  }));
}

/** The pod holding the Lease (its identity is `<hostname>_<random>`, the hostname is the pod name). */
async function leaderPod(): Promise<string | undefined> {
  const holder = await kubectl([
    "get",
    "lease",
    "-n",
    OPERATOR_NAMESPACE,
    LEASE,
    "-o",
    "jsonpath={.spec.holderIdentity}",
  ]).catch(() => "");
  return holder ? holder.replace(/_[^_]+$/, "") : undefined;
}

async function metricsOf(ip: string): Promise<string> {
  const res = await fetch(`http://${ip}:8081/metrics`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).to.equal(200);
  return res.text();
}

/** Sum of a counter's samples whose labels include `code="<code>"`. */
function countCode(metrics: string, name: string, code: number): number {
  return metrics
    .split("\n")
    .filter((l) => l.startsWith(`${name}{`) && l.includes(`code="${code}"`))
    .reduce((sum, l) => sum + Number(l.split(" ").pop()), 0);
}

describe("The operator as a pod (config/ with the image built here)", function () {
  let admin: TestKubeClient;
  const workspaces: string[] = [];

  /**
   * A workspace with a server and a client inside, and a client outside; checks its packets
   * against the pure evaluator and the intent (test/node/support/judged.ts).
   */
  const enforced = async (ws: string, ns: string): Promise<Disagreements> => {
    await admin.apply(workspace(ws, { namespaces: [{ name: ns }] }));
    workspaces.push(ws);
    await waitReady(admin, ws);
    const srv: PodRef = { namespace: ns, name: "srv" };
    const cli: PodRef = { namespace: ns, name: "cli" };
    const out: PodRef = { namespace: OUTSIDE, name: `cli-${ns}` };
    await apply([probePod(srv, { serve: { tcp: [8080] } }), probePod(cli), probePod(out)]);
    await waitPodsReady([srv, cli, out]);
    const checked = await check(admin, [
      { from: cli, to: srv, protocol: "tcp", port: 8080, intent: "connect" },
      { from: out, to: srv, protocol: "tcp", port: 8080, intent: "blocked" },
    ]);
    return checked.disagreements;
  };

  before(async function () {
    const { node, cluster } = nodeEnv();
    admin = adminClient();
    await apply([namespace(OUTSIDE)]);
    deployOperator({
      bins: node.bins,
      importImage: (archive) => node.importImage(archive),
      kubeconfig: cluster.kubeconfigPath,
      workDir: path.join(node.dir, "deploy"),
      log: (line) => console.log(`      [deploy] ${line}`),
    });
    await kubectl([
      "rollout",
      "status",
      "-n",
      OPERATOR_NAMESPACE,
      `deployment/${DEPLOYMENT}`,
      "--timeout=240s",
    ]);
  });

  after(async function () {
    for (const ws of workspaces) await deleteWorkspace(admin, ws).catch(() => undefined);
    undeployOperator(nodeEnv().cluster.kubeconfigPath);
    await kubectl(["delete", "namespace", OUTSIDE, "--ignore-not-found", "--wait=false"]).catch(() => "");
    admin?.close();
  });

  it("runs two replicas Ready through their probes in the restricted namespace, one of them leader", async function () {
    const labels = JSON.parse(
      await kubectl(["get", "namespace", OPERATOR_NAMESPACE, "-o", "jsonpath={.metadata.labels}"]),
    ) as Record<string, string>;
    expect(labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
    const pods = await operatorPods();
    expect(pods.filter((p) => p.ready && !p.deleting).map((p) => p.name)).to.have.length(2);
    const leader = await waitFor(leaderPod, { timeoutMs: 60_000, message: "a Lease holder" });
    expect(pods.map((p) => p.name)).to.include(leader);
  });

  it("runs the Dockerfile's entrypoint with the restricted context in the kernel: read-only root, non-root, seccomp filter, no capabilities", async function () {
    for (const pod of await operatorPods()) {
      const view = processView(await containerPid(OPERATOR_NAMESPACE, pod.name, "operator"));
      expect(view, pod.name).to.include({ readOnlyRoot: true, uid: 65532, seccomp: 2, noNewPrivs: true });
      expect(view.capEff, pod.name).to.match(/^0+$/);
      // The Dockerfile's ENTRYPOINT, with node where the distroless base keeps it.
      expect(view.argv, pod.name).to.deep.equal(["/nodejs/bin/node", "dist/src/main.js"]);
    }
  });

  it("reconciles a workspace whose policies hold on packets", async function () {
    expect(await enforced("sws-deployed-one", "sws-deployed-one")).to.deep.equal(NONE);
  });

  it("serves /metrics on each pod IP, and counts no 403 answer", async function () {
    for (const pod of await operatorPods()) {
      const text = await metricsOf(pod.ip);
      expect(text).to.include("leader_election_master_status");
      expect(countCode(text, "secureworkspace_api_requests_total", 403), pod.name).to.equal(0);
    }
  });

  it("hands over to the standby within the lease duration when the leader crashes (SIGKILL), and keeps enforcing", async function () {
    const holder = async (): Promise<string> =>
      kubectl(["get", "lease", "-n", OPERATOR_NAMESPACE, LEASE, "-o", "jsonpath={.spec.holderIdentity}"]);
    const before = await holder();
    const leader = (await leaderPod())!;
    const standby = (await operatorPods()).find((p) => p.name !== leader && p.ready);
    expect(standby, "a ready standby").to.not.equal(undefined);
    // A crash, not a shutdown: SIGKILL from the host gives the leader no chance to release the
    // Lease, so the standby must wait it out (a deleted pod gets SIGTERM and hands over at once).
    process.kill(await containerPid(OPERATOR_NAMESPACE, leader, "operator"), "SIGKILL");
    const killed = Date.now();
    const after = await waitFor(async () => {
      const h = await holder();
      return h && h !== before ? h : undefined;
    }, { timeoutMs: 120_000, intervalMs: 250, message: "a new Lease holder" }); // prettier-ignore
    const handover = Date.now() - killed;
    console.log(`      leader ${leader} killed; ${after} leads after ${(handover / 1000).toFixed(1)} s`);
    // Either the standby, or the crashed pod's container once the kubelet restarted it: a new
    // process (a new identity) either way, which is what a handover is. The two race for the
    // expired Lease; which one wins depends on the kubelet's restart back-off.
    expect([standby!.name, leader]).to.include(after.replace(/_[^_]+$/, ""));
    // The lease duration, plus a retry period and slack for a busy machine.
    expect(handover).to.be.below(LEASE_DURATION_MS + 10_000);
    expect(await enforced("sws-deployed-two", "sws-deployed-two")).to.deep.equal(NONE);
  });
});
