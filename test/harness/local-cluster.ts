/**
 * A real local Kubernetes control plane for tests, `make cluster` and `make demo`:
 * etcd + kube-apiserver + kube-controller-manager on loopback, built from Go modules.
 * No kubelet or scheduler: pods are admitted (or refused) but never run.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Agent, request } from "node:https";
import { controlPlaneBinaries, type ControlPlaneBinaries } from "./control-plane-binaries.js";

/** Options for {@link LocalCluster.start}. */
export interface LocalClusterOptions {
  /** Directory for data, certs and logs; default a fresh temp dir, removed on stop. */
  readonly dir?: string;
  /** Where to write the admin kubeconfig; default `<dir>/kubeconfig`. */
  readonly kubeconfigPath?: string;
  /** How long to wait for readiness, default 180 s (a cold start on 2 busy cores is slow). */
  readonly readyTimeoutMs?: number;
  /** Progress lines (default: silent). */
  readonly log?: (line: string) => void;
  /** Extra kube-apiserver flags, e.g. a real node's kubelet client certificate (default none). */
  readonly extraApiServerArgs?: readonly string[];
  /** Extra kube-controller-manager controllers, e.g. what Deployments need on a real node (default none). */
  readonly extraControllers?: readonly string[];
  /**
   * Users whose writes (create, update, patch, delete) the API server records in its audit log, read
   * back with {@link LocalCluster.auditedWrites} (default none: no audit log).
   */
  readonly auditUsers?: readonly string[];
}

/** One write the API server's audit log recorded (audit.k8s.io/v1 Event, Metadata level). */
export interface AuditedWrite {
  readonly user: string;
  readonly verb: string;
  /** `resource/namespace/name` (namespace or name empty when absent). */
  readonly object: string;
  readonly code: number;
  /** When the server received the request (ms since the epoch; the server's clock, this host's). */
  readonly receivedAtMs: number;
}

type Component = "etcd" | "apiserver" | "controller-manager";

const children = new Set<ChildProcess>();
/** Temp directories of clusters not yet stopped: they hold the service-account key and the token. */
const ownedDirs = new Set<string>();
let exitHookInstalled = false;

/**
 * Kill every child we started if this process goes away, so no stray processes survive it, and
 * remove the temp directories of clusters that were not stopped (Ctrl-C during the start, a
 * crash, an EPIPE when stdout was a pipe whose reader died first: `make demo | tee`).
 */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = (): void => {
    for (const child of children) child.kill("SIGKILL");
    if (process.env["SWS_KEEP_CLUSTER_DIR"]) return;
    for (const dir of ownedDirs) rmSync(dir, { recursive: true, force: true });
  };
  process.on("exit", killAll);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.once(signal, () => {
      killAll();
      process.exit(signal === "SIGINT" ? 130 : 143);
    });
  }
}

/** Asks the kernel for a free loopback port. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === "object") resolve(address.port);
        else reject(new Error("no port assigned"));
      });
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A running local control plane. */
export class LocalCluster {
  readonly server: string;
  readonly token: string;
  readonly kubeconfigPath: string;
  private readonly procs = new Map<Component, ChildProcess>();
  private caData = "";
  private stopped = false;

  private constructor(
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly bins: ControlPlaneBinaries,
    private readonly ports: { etcd: number; etcdPeer: number; apiserver: number },
    kubeconfigPath: string,
    private readonly log: (line: string) => void,
    private readonly extra: Pick<
      LocalClusterOptions,
      "extraApiServerArgs" | "extraControllers" | "auditUsers"
    > = {},
  ) {
    this.server = `https://127.0.0.1:${ports.apiserver}`;
    this.token = randomBytes(24).toString("hex");
    this.kubeconfigPath = kubeconfigPath;
  }

  /** Builds (if needed) and starts etcd, kube-apiserver and kube-controller-manager; waits until usable. */
  static async start(options: LocalClusterOptions = {}): Promise<LocalCluster> {
    installExitHook();
    const log = options.log ?? ((): void => undefined);
    const bins = controlPlaneBinaries();
    const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), "sws-cluster-"));
    if (options.dir === undefined) ownedDirs.add(dir);
    mkdirSync(dir, { recursive: true });
    const ports = { etcd: await freePort(), etcdPeer: await freePort(), apiserver: await freePort() };
    const cluster = new LocalCluster(
      dir,
      options.dir === undefined,
      bins,
      ports,
      options.kubeconfigPath ?? path.join(dir, "kubeconfig"),
      log,
      options,
    );
    try {
      cluster.writeCredentials();
      await cluster.startEtcd();
      await cluster.startApiServer(options.readyTimeoutMs ?? 180_000);
      cluster.writeKubeconfig();
      cluster.startControllerManager();
      await cluster.waitForDefaultServiceAccount(options.readyTimeoutMs ?? 180_000);
      log(`cluster ready at ${cluster.server}`);
      return cluster;
    } catch (err) {
      const tails = (["etcd", "apiserver", "controller-manager"] as const)
        .map((c) => `--- ${c} log (tail) ---\n${cluster.logTail(c)}`)
        .join("\n");
      await cluster.stop();
      throw new Error(`local cluster failed to start: ${(err as Error).message}\n${tails}`, { cause: err });
    }
  }

  /** The CA bundle (PEM) that signs the API server's serving certificate. */
  get caPem(): string {
    return this.caData;
  }

  /** Path of a component's log file. */
  logFile(component: Component): string {
    return path.join(this.dir, `${component}.log`);
  }

  /** The last lines of a component's log, for error messages. */
  logTail(component: Component, lines = 30): string {
    try {
      return readFileSync(this.logFile(component), "utf8").split("\n").slice(-lines).join("\n");
    } catch {
      return "(no log)";
    }
  }

  private writeCredentials(): void {
    mkdirSync(path.join(this.dir, "certs"), { recursive: true });
    writeFileSync(path.join(this.dir, "tokens.csv"), `${this.token},admin,admin,"system:masters"\n`, {
      mode: 0o600,
    });
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    writeFileSync(path.join(this.dir, "sa.key"), privateKey.export({ type: "pkcs1", format: "pem" }), {
      mode: 0o600,
    });
    writeFileSync(path.join(this.dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const users = this.extra.auditUsers ?? [];
    if (users.length > 0)
      writeFileSync(
        this.auditPolicyFile,
        JSON.stringify({
          apiVersion: "audit.k8s.io/v1",
          kind: "Policy",
          omitStages: ["RequestReceived"],
          rules: [
            { level: "Metadata", users, verbs: ["create", "update", "patch", "delete", "deletecollection"] },
            { level: "None" },
          ],
        }),
      );
  }

  private get auditPolicyFile(): string {
    return path.join(this.dir, "audit-policy.json");
  }

  private get auditLogFile(): string {
    return path.join(this.dir, "audit.log");
  }

  /**
   * The writes the API server recorded for the `auditUsers` (one per request, at ResponseComplete or
   * Panic), oldest first. Throws when the cluster was started without auditUsers.
   */
  auditedWrites(): AuditedWrite[] {
    if ((this.extra.auditUsers ?? []).length === 0) throw new Error("cluster started without auditUsers");
    let text: string;
    try {
      text = readFileSync(this.auditLogFile, "utf8");
    } catch {
      return [];
    }
    const writes: AuditedWrite[] = [];
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const e = JSON.parse(line) as {
        user?: { username?: string };
        verb?: string;
        objectRef?: { resource?: string; subresource?: string; namespace?: string; name?: string };
        responseStatus?: { code?: number };
        requestReceivedTimestamp?: string;
      };
      const ref = e.objectRef ?? {};
      const resource = ref.subresource ? `${ref.resource ?? ""}/${ref.subresource}` : (ref.resource ?? "");
      writes.push({
        user: e.user?.username ?? "",
        verb: e.verb ?? "",
        object: `${resource}/${ref.namespace ?? ""}/${ref.name ?? ""}`,
        code: e.responseStatus?.code ?? 0,
        receivedAtMs: Date.parse(e.requestReceivedTimestamp ?? ""),
      });
    }
    return writes;
  }

  private spawnComponent(component: Component, binary: string, args: string[]): ChildProcess {
    const out = createWriteStream(this.logFile(component), { flags: "a" });
    const child = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    children.add(child);
    child.once("exit", () => children.delete(child));
    this.procs.set(component, child);
    return child;
  }

  private etcdArgs(): string[] {
    const client = `http://127.0.0.1:${this.ports.etcd}`;
    const peer = `http://127.0.0.1:${this.ports.etcdPeer}`;
    return [
      `--data-dir=${path.join(this.dir, "etcd")}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=default=${peer}`,
      "--unsafe-no-fsync",
      "--log-level=warn",
      "--quota-backend-bytes=8589934592",
    ];
  }

  /** Starts etcd (again, after {@link kill}, with the same data dir and port). */
  async startEtcd(): Promise<void> {
    this.spawnComponent("etcd", this.bins.etcd, this.etcdArgs());
    await this.waitFor(
      "etcd",
      async () => {
        const res = await fetch(`http://127.0.0.1:${this.ports.etcd}/health`);
        return res.ok;
      },
      60_000,
    );
  }

  private apiserverArgs(): string[] {
    return [
      `--etcd-servers=http://127.0.0.1:${this.ports.etcd}`,
      `--secure-port=${this.ports.apiserver}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      "--endpoint-reconciler-type=none",
      `--cert-dir=${path.join(this.dir, "certs")}`,
      `--token-auth-file=${path.join(this.dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      `--service-account-key-file=${path.join(this.dir, "sa.pub")}`,
      `--service-account-signing-key-file=${path.join(this.dir, "sa.key")}`,
      "--service-cluster-ip-range=10.96.0.0/16",
      // Privileged pods must reach Pod Security admission to be refused by it, not earlier.
      "--allow-privileged=true",
      "--profiling=false",
      "--v=1",
      ...((this.extra.auditUsers ?? []).length > 0
        ? [
            `--audit-policy-file=${this.auditPolicyFile}`,
            `--audit-log-path=${this.auditLogFile}`,
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
          ]
        : []),
      ...(this.extra.extraApiServerArgs ?? []),
    ];
  }

  /** Starts kube-apiserver (again, after {@link kill}) and waits for /readyz. */
  async startApiServer(timeoutMs = 180_000): Promise<void> {
    this.spawnComponent("apiserver", this.bins.apiserver, this.apiserverArgs());
    await this.waitFor(
      "kube-apiserver /readyz",
      async () => {
        if (!this.caData) {
          try {
            this.caData = readFileSync(path.join(this.dir, "certs", "apiserver.crt"), "utf8");
          } catch {
            return false;
          }
        }
        return (await this.get("/readyz")).status === 200;
      },
      timeoutMs,
    );
  }

  /** Starts kube-controller-manager with the controllers a namespace-level operator relies on. */
  startControllerManager(): void {
    this.spawnComponent("controller-manager", this.bins.controllerManager, [
      `--kubeconfig=${this.kubeconfigPath}`,
      "--secure-port=0",
      "--leader-elect=false",
      "--controllers=" +
        [
          "namespace-controller",
          "garbage-collector-controller",
          "resourcequota-controller",
          "serviceaccount-controller",
          "clusterrole-aggregation-controller",
          ...(this.extra.extraControllers ?? []),
        ].join(","),
      "--concurrent-gc-syncs=5",
      "--v=1",
    ]);
  }

  /** A GET with the admin token, trusting the cluster's own serving certificate. */
  async get(urlPath: string): Promise<{ status: number; body: string }> {
    const agent = new Agent({ ca: this.caData, keepAlive: false });
    return new Promise((resolve, reject) => {
      const req = request(
        `${this.server}${urlPath}`,
        { headers: { Authorization: `Bearer ${this.token}` }, agent, timeout: 5000 },
        (res) => {
          let body = "";
          res.setEncoding("utf8");
          res.on("data", (chunk: string) => (body += chunk));
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end();
    });
  }

  private async waitForDefaultServiceAccount(timeoutMs: number): Promise<void> {
    await this.waitFor(
      "the default ServiceAccount (kube-controller-manager)",
      async () => {
        return (await this.get("/api/v1/namespaces/default/serviceaccounts/default")).status === 200;
      },
      timeoutMs,
    );
  }

  private async waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let lastError = "";
    this.log(`waiting for ${what}...`);
    while (Date.now() < deadline) {
      if (this.stopped) throw new Error(`stopped while waiting for ${what}`);
      try {
        if (await check()) return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      await sleep(250);
    }
    throw new Error(
      `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`,
    );
  }

  /** The admin kubeconfig text (token auth, CA-verified TLS). */
  kubeconfig(user = "admin", token = this.token): string {
    const ca = Buffer.from(this.caData).toString("base64");
    return [
      "apiVersion: v1",
      "kind: Config",
      "clusters:",
      "- name: local",
      "  cluster:",
      `    server: ${this.server}`,
      `    certificate-authority-data: ${ca}`,
      "users:",
      `- name: ${user}`,
      "  user:",
      `    token: ${token}`,
      "contexts:",
      "- name: local",
      "  context:",
      "    cluster: local",
      `    user: ${user}`,
      "current-context: local",
      "",
    ].join("\n");
  }

  private writeKubeconfig(): void {
    mkdirSync(path.dirname(this.kubeconfigPath), { recursive: true });
    writeFileSync(this.kubeconfigPath, this.kubeconfig(), { mode: 0o600 });
  }

  /** SIGKILLs one component (for fault tests); start it again with startEtcd/startApiServer. */
  async kill(component: Component): Promise<void> {
    const child = this.procs.get(component);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.kill("SIGKILL");
    await exited;
  }

  /** Stops everything (controller-manager, apiserver, etcd in that order) and removes a temp dir. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const component of ["controller-manager", "apiserver", "etcd"] as const) {
      const child = this.procs.get(component);
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    }
    if (this.ownsDir && !process.env["SWS_KEEP_CLUSTER_DIR"]) {
      rmSync(this.dir, { recursive: true, force: true });
      ownedDirs.delete(this.dir);
    }
  }
}
