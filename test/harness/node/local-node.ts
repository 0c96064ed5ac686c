/**
 * A real node next to the local control plane: containerd (state in the node's own directory),
 * runc, a bridge CNI, kubelet registered and Ready, kube-scheduler, and kube-router enforcing
 * NetworkPolicies on the pods' packets. The control plane gets what a node needs from it: the
 * kubelet client certificate (so `kubectl logs/exec` work) and the controllers Deployments need.
 *
 * Start it with {@link startClusterWithNode}; {@link LocalNode.stop} stops everything and returns
 * the host to its state before the start (host.ts), as does the next start after a crash. One node
 * per machine: ports 10250/10248, /run/containerd, cgroups and iptables are host-global.
 * The facts behind the settings: ../shared/design/notes-real-node.md.
 */
import { spawn, type ChildProcess } from "node:child_process";
import {
  cpSync,
  createWriteStream,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { LocalCluster, type LocalClusterOptions } from "../local-cluster.js";
import { nodeBinaries, type NodeBinaries } from "./binaries.js";
import { writeKubeletClientCerts } from "./certs.js";
import {
  acquireHost,
  BRIDGE,
  checkHostPrerequisites,
  createBridge,
  GATEWAY_IP,
  HostBusyError,
  leftovers,
  LOCK_DIR,
  NODE_NAME,
  POD_SUBNET,
  releaseHost,
  routeServiceToApiServer,
  type HostRecord,
} from "./host.js";
import { PAUSE_IMAGE, pauseImageSpec, probeImageSpec, writeImage } from "./images.js";

export { NODE_NAME } from "./host.js";

/** Options for {@link startClusterWithNode}. */
export interface NodeOptions {
  /** Progress lines (default: silent). */
  readonly log?: (line: string) => void;
  /** Passed on to the control plane (its dir, kubeconfig path, timeouts). */
  readonly cluster?: Omit<LocalClusterOptions, "extraApiServerArgs" | "extraControllers" | "log">;
  /** How long to wait for the node to be Ready, default 180 s. */
  readonly readyTimeoutMs?: number;
}

type Daemon = "containerd" | "kubelet" | "kube-scheduler" | "kube-router";

/** The controllers a node's workloads need beyond the control plane's own set. */
const NODE_CONTROLLERS = [
  "deployment-controller",
  "replicaset-controller",
  "root-ca-certificate-publisher-controller",
  "disruption-controller",
];
const SERVICE_CIDR = "10.96.0.0/16";
const KUBERNETES_SERVICE_IP = "10.96.0.1";
const KUBE_ROUTER_HEALTH_PORT = 20244;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let exitHookNode: LocalNode | undefined;
let exitHookInstalled = false;

/** On any exit of this process, a node that was not stopped is cleaned up (synchronously). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on("exit", () => exitHookNode?.stopSync());
}

/** A running node; {@link stop} undoes everything. */
export class LocalNode {
  private readonly procs = new Map<Daemon, ChildProcess>();
  private stopped = false;
  readonly socket: string;

  private constructor(
    readonly dir: string,
    readonly bins: NodeBinaries,
    readonly cluster: LocalCluster,
    readonly record: HostRecord,
    private readonly log: (line: string) => void,
  ) {
    this.socket = path.join(dir, "containerd", "containerd.sock");
  }

  /** Path of a daemon's log file. */
  logFile(daemon: Daemon): string {
    return path.join(this.dir, `${daemon}.log`);
  }

  /** The last lines of a daemon's log. */
  logTail(daemon: Daemon, lines = 30): string {
    try {
      return readFileSync(this.logFile(daemon), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private spawnDaemon(daemon: Daemon, binary: string, args: string[]): ChildProcess {
    const out = createWriteStream(this.logFile(daemon), { flags: "a" });
    const env = { ...process.env, PATH: `${this.bins.containerdDir}:/usr/sbin:/usr/bin:/sbin:/bin` };
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], env });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.procs.set(daemon, child);
    return child;
  }

  private exited(daemon: Daemon): boolean {
    const child = this.procs.get(daemon);
    return !child || child.exitCode !== null || child.signalCode !== null;
  }

  private async waitFor(
    what: string,
    check: () => Promise<boolean> | boolean,
    timeoutMs: number,
    daemon?: Daemon,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    this.log(`waiting for ${what}...`);
    while (Date.now() < deadline) {
      if (this.stopped) throw new Error(`stopped while waiting for ${what}`);
      if (daemon && this.exited(daemon))
        throw new Error(`${daemon} exited while waiting for ${what}:\n${this.logTail(daemon)}`);
      try {
        if (await check()) return;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(250);
    }
    throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last}` : ""}`);
  }

  /** `ctr` against this node's containerd, in the kubelet's namespace. */
  ctr(args: string[]): string {
    return execFileSync(this.bins.ctr, ["--address", this.socket, "--namespace", "k8s.io", ...args], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "pipe"],
    });
  }

  /** Imports a docker-archive into the node (what `kind load image-archive` does). */
  importImage(archive: string): void {
    this.ctr(["images", "import", "--no-unpack=false", archive]);
  }

  private writeContainerdConfig(): string {
    const c = path.join(this.dir, "containerd");
    mkdirSync(c, { recursive: true });
    const file = path.join(c, "config.toml");
    // Settings this VM needs (notes-real-node.md): restrict_oom_score_adj (no CAP_SYS_RESOURCE),
    // netns under the state dir, cgroupfs runc, the locally built pause image pinned as sandbox.
    writeFileSync(
      file,
      `version = 3
root = "${c}/root"
state = "${c}/state"
[grpc]
  address = "${this.socket}"
[ttrpc]
  address = "${this.socket}.ttrpc"
[plugins.'io.containerd.internal.v1.opt']
  path = "${c}/opt"
[plugins.'io.containerd.nri.v1.nri']
  disable = true
[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = "/usr/sbin/runc"
        Root = "${c}/runc"
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = ["${this.bins.cniDir}"]
    conf_dir = "${this.dir}/cni/net.d"
    max_conf_num = 1
[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = "${PAUSE_IMAGE}"
`,
    );
    const cniDir = path.join(this.dir, "cni", "net.d");
    mkdirSync(cniDir, { recursive: true });
    writeFileSync(
      path.join(cniDir, "10-sws.conflist"),
      JSON.stringify(
        {
          cniVersion: "1.0.0",
          name: "sws",
          plugins: [
            {
              type: "bridge",
              bridge: BRIDGE,
              isGateway: true,
              ipMasq: false,
              hairpinMode: true,
              ipam: {
                type: "host-local",
                ranges: [[{ subnet: POD_SUBNET, gateway: GATEWAY_IP }]],
                routes: [{ dst: "0.0.0.0/0" }],
                dataDir: path.join(this.dir, "cni", "networks"),
              },
            },
          ],
        },
        null,
        2,
      ),
    );
    return file;
  }

  private writeKubeletConfig(caCert: string): string {
    const file = path.join(this.dir, "kubelet-config.yaml");
    const endpoint = `unix://${this.socket}`;
    writeFileSync(
      file,
      `apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: ${GATEWAY_IP}
authentication:
  anonymous:
    enabled: false
  webhook:
    enabled: true
  x509:
    clientCAFile: ${caCert}
authorization:
  mode: Webhook
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
containerRuntimeEndpoint: ${endpoint}
imageServiceEndpoint: ${endpoint}
podLogsDir: ${path.join(this.dir, "pod-logs")}
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 50Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
registerNode: true
maxPods: 110
resolvConf: /etc/resolv.conf
`,
    );
    return file;
  }

  private async start(caCert: string): Promise<void> {
    createBridge();
    routeServiceToApiServer(KUBERNETES_SERVICE_IP, Number(new URL(this.cluster.server).port));
    // The daemons' own kubeconfig copy lives in the node dir, so every node process names the dir.
    const kubeconfig = path.join(this.dir, "admin.kubeconfig");
    writeFileSync(kubeconfig, readFileSync(this.cluster.kubeconfigPath), { mode: 0o600 });

    this.spawnDaemon("containerd", this.bins.containerd, [
      "--config",
      this.writeContainerdConfig(),
      "--log-level",
      "warn",
    ]);
    await this.waitFor("containerd", () => this.ctr(["version"]).includes("Server"), 60_000, "containerd");
    const images = path.join(this.dir, "images");
    mkdirSync(images, { recursive: true });
    for (const [name, spec] of [
      ["pause", pauseImageSpec(this.bins)],
      ["probe", probeImageSpec(this.bins)],
    ] as const) {
      const archive = path.join(images, `${name}.tar`);
      writeImage(this.bins, spec, archive);
      this.importImage(archive);
    }

    this.spawnDaemon("kubelet", this.bins.kubelet, [
      `--config=${this.writeKubeletConfig(caCert)}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${path.join(this.dir, "kubelet")}`,
      `--hostname-override=${NODE_NAME}`,
      `--node-ip=${GATEWAY_IP}`,
      "--v=1",
    ]);
    this.spawnDaemon("kube-scheduler", this.bins.scheduler, [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      "--secure-port=0",
      "--v=1",
    ]);
    await this.waitFor("the node to be Ready", () => this.nodeReady(), 180_000, "kubelet");
    // Nothing lifts the registration taint without node-lifecycle-controller (which would also
    // evict on a slow heartbeat): the node is Ready, so lift it here.
    this.kubectl(["taint", "node", NODE_NAME, "node.kubernetes.io/not-ready:NoSchedule-"], true);

    this.spawnDaemon("kube-router", this.bins.kubeRouter, [
      `--kubeconfig=${kubeconfig}`,
      `--hostname-override=${NODE_NAME}`,
      "--run-firewall=true",
      "--run-router=false",
      "--run-service-proxy=false",
      "--run-loadbalancer=false",
      "--enable-cni=false",
      `--service-cluster-ip-range=${SERVICE_CIDR}`,
      `--health-port=${KUBE_ROUTER_HEALTH_PORT}`,
      "--metrics-port=0",
      "--v=1",
    ]);
    await this.waitFor(
      "kube-router's NetworkPolicy controller",
      async () => (await fetch(`http://127.0.0.1:${KUBE_ROUTER_HEALTH_PORT}/healthz`)).ok,
      60_000,
      "kube-router",
    );
  }

  private async nodeReady(): Promise<boolean> {
    const res = await this.cluster.get(`/api/v1/nodes/${NODE_NAME}`);
    if (res.status !== 200) return false;
    const node = JSON.parse(res.body) as {
      status?: { conditions?: Array<{ type: string; status: string }> };
    };
    return node.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True") ?? false;
  }

  /** kubectl as admin against the cluster. */
  kubectl(args: string[], allowFail = false): string {
    try {
      return execFileSync("kubectl", ["--kubeconfig", this.cluster.kubeconfigPath, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
      });
    } catch (err) {
      if (allowFail) return "";
      throw err;
    }
  }

  /** What the node left on the host (empty after a clean {@link stop}). */
  leftovers(): string[] {
    return leftovers(this.record);
  }

  /** Synchronous stop for the exit hook: kill, clean, release. */
  stopSync(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (exitHookNode === this) exitHookNode = undefined;
    for (const child of this.procs.values())
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    if (process.env["SWS_KEEP_NODE_DIR"]) {
      // Debugging: the daemons' logs and configs survive the cleanup, next to the node's dir.
      const kept = `${this.dir}.kept`;
      try {
        for (const f of readdirSync(this.dir)) {
          if (/\.(log|yaml|toml|json)$/.test(f)) cpSync(path.join(this.dir, f), path.join(kept, f));
        }
        cpSync(path.join(this.dir, "containerd", "config.toml"), path.join(kept, "containerd.toml"));
        this.log(`node logs kept in ${kept}`);
      } catch (err) {
        this.log(`could not keep the node's logs: ${(err as Error).message}`); // the cleanup matters more
      }
    }
    releaseHost(this.record);
  }

  /** Stops the node (not the control plane) and cleans the host up. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    // The kubelet first, so it does not restart what is being torn down.
    for (const daemon of ["kube-router", "kubelet", "kube-scheduler", "containerd"] as const) {
      const child = this.procs.get(daemon);
      if (!child || this.exited(daemon)) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    this.stopSync();
  }

  /** Builds what is missing, takes the machine's node lock and starts the node. */
  static async start(
    cluster: LocalCluster,
    caCert: string,
    dir: string,
    record: HostRecord,
    bins: NodeBinaries,
    options: NodeOptions,
  ): Promise<LocalNode> {
    const node = new LocalNode(dir, bins, cluster, record, options.log ?? ((): void => undefined));
    exitHookNode = node;
    try {
      await node.start(caCert);
      return node;
    } catch (err) {
      const tails = (["containerd", "kubelet", "kube-scheduler", "kube-router"] as const)
        .map((d) => `--- ${d} log (tail) ---\n${node.logTail(d)}`)
        .join("\n");
      await node.stop();
      throw new Error(`the real node failed to start: ${(err as Error).message}\n${tails}`, { cause: err });
    }
  }
}

/**
 * Takes the node lock, waiting while another run holds it (SWS_NODE_LOCK_TIMEOUT_MS, default 30
 * minutes): two `make test` on one machine take turns instead of failing.
 */
async function acquireHostWaiting(dir: string, log: (line: string) => void): Promise<HostRecord> {
  const deadline = Date.now() + Number(process.env["SWS_NODE_LOCK_TIMEOUT_MS"] ?? 30 * 60_000);
  let told = 0;
  for (;;) {
    try {
      return acquireHost(dir, log);
    } catch (err) {
      if (!(err instanceof HostBusyError) || Date.now() > deadline) throw err;
      if (told !== err.holder.pid) {
        told = err.holder.pid;
        console.error(
          `  [node] waiting for the real node of pid ${err.holder.pid} to finish (one per machine)...`,
        );
      }
      await sleep(2000);
    }
  }
}

/** A control plane and a real node, started together (the API server needs the kubelet client cert). */
export interface ClusterWithNode {
  readonly cluster: LocalCluster;
  readonly node: LocalNode;
  /** Stops the node, then the control plane. */
  stop(): Promise<void>;
}

/**
 * Builds what is missing, takes the machine's node lock (cleaning up after a crashed run), starts
 * the control plane with what a node needs, then the node.
 */
export async function startClusterWithNode(options: NodeOptions = {}): Promise<ClusterWithNode> {
  const log = options.log ?? ((): void => undefined);
  checkHostPrerequisites();
  const bins = nodeBinaries();
  installExitHook();
  // The node's dir: short (unix socket paths), and named so host.ts finds every process by it.
  const dir = mkdtempSync(path.join(tmpdir(), "sws-node-"));
  const record = await acquireHostWaiting(dir, log).catch((err: unknown) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  let cluster: LocalCluster | undefined;
  try {
    const certs = writeKubeletClientCerts(path.join(dir, "pki"));
    cluster = await LocalCluster.start({
      ...options.cluster,
      log,
      extraApiServerArgs: [
        `--kubelet-client-certificate=${certs.clientCert}`,
        `--kubelet-client-key=${certs.clientKey}`,
        // The node's Hostname address (sws-node) resolves nowhere; its InternalIP is the bridge's.
        "--kubelet-preferred-address-types=InternalIP",
      ],
      extraControllers: NODE_CONTROLLERS,
    });
    const node = await LocalNode.start(cluster, certs.caCert, dir, record, bins, options);
    const started = cluster;
    return {
      cluster: started,
      node,
      async stop(): Promise<void> {
        await node.stop();
        await started.stop();
      },
    };
  } catch (err) {
    await cluster?.stop();
    releaseHost(record);
    throw err;
  }
}

/** Where the node lock lives (for messages). */
export const NODE_LOCK_DIR = LOCK_DIR;
