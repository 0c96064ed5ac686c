/**
 * The cluster the benchmark runs on: a fresh LocalCluster (the default), or the cluster of
 * SWS_BENCH_KUBECONFIG (an admin kubeconfig; nothing is started or stopped then). Also reads the
 * API server's own /metrics, to wait until the server is quiet between phases.
 */
import { readdirSync, readFileSync } from "node:fs";
import { request, type RequestOptions } from "node:https";
import { KubeConfig } from "@kubernetes/client-node";
import { LocalCluster } from "../harness/local-cluster.js";
import { sleep } from "../support/wait.js";
import { parseMetrics, sumOf, type Sample } from "./stats.js";

/** Where the benchmark runs. */
export interface BenchCluster {
  readonly kubeconfigPath: string;
  /** Present when the benchmark started the cluster itself. */
  readonly local: LocalCluster | undefined;
  /** A fresh admin KubeConfig. */
  kubeConfig(): KubeConfig;
  /** The API server's /metrics, parsed. */
  apiserverMetrics(): Promise<Sample[]>;
  /** Stops a cluster the benchmark started; nothing for an external one. */
  stop(): Promise<void>;
}

/** Starts a local cluster or attaches to SWS_BENCH_KUBECONFIG. */
export async function openCluster(log: (line: string) => void): Promise<BenchCluster> {
  const external = process.env["SWS_BENCH_KUBECONFIG"];
  const local = external ? undefined : await LocalCluster.start({ log });
  const kubeconfigPath = external ?? local?.kubeconfigPath ?? "";
  const kubeConfig = (): KubeConfig => {
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfigPath);
    return kc;
  };
  return {
    kubeconfigPath,
    local,
    kubeConfig,
    apiserverMetrics: async () => parseMetrics(await getText(kubeConfig(), "/metrics")),
    stop: async () => {
      await local?.stop();
    },
  };
}

async function getText(kc: KubeConfig, urlPath: string): Promise<string> {
  const server = kc.getCurrentCluster()?.server;
  if (!server) throw new Error("kubeconfig has no current cluster");
  const opts: RequestOptions = { method: "GET", headers: {} };
  await kc.applyToHTTPSOptions(opts);
  opts.timeout = 30_000;
  return new Promise((resolve, reject) => {
    const req = request(new URL(urlPath, server), opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        if (res.statusCode === 200) resolve(body);
        else reject(new Error(`GET ${urlPath}: ${res.statusCode ?? 0}: ${body.slice(0, 200)}`));
      });
      res.on("error", reject);
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${urlPath} timed out`)));
    req.on("error", reject);
    req.end();
  });
}

const READ_VERBS = new Set(["GET", "LIST", "WATCH", "CONNECT", "WATCHLIST"]);

/** Writes (any client) the API server has answered so far, from apiserver_request_total. */
export function apiserverWrites(samples: readonly Sample[]): number {
  return sumOf(samples, "apiserver_request_total", (l) => !READ_VERBS.has(l["verb"] ?? ""));
}

/** Options of {@link waitForQuiet} and {@link untilQuiet}. */
export interface QuietOptions {
  /** Fewer writes than this per second count as quiet (default 2). */
  readonly maxWritesPerSecond?: number;
  /** Quiet seconds in a row needed (default 3). */
  readonly quietSeconds?: number;
  /** Give up (and return) after this long (default 180 s). */
  readonly timeoutMs?: number;
}

/** When the API server went quiet. */
export interface Quiet {
  /** How long the wait took, ms. */
  readonly waitedMs: number;
  /**
   * Control-plane CPU at the end of the last busy second, i.e. where the quiet stretch began
   * (the reading at the call when the server was quiet from the start). Work triggered before is
   * in it, the idle seconds that confirmed the quiet are not.
   */
  readonly cpu: ControlPlaneCpu;
}

/**
 * Waits until the API server sees fewer than `maxWritesPerSecond` writes (from anyone: the
 * controller-manager's follow-ups such as ServiceAccounts and quota status) for `quietSeconds`
 * in a row, or `timeoutMs` passes, sampling once a second.
 */
export async function untilQuiet(cluster: BenchCluster, options: QuietOptions = {}): Promise<Quiet> {
  const started = Date.now();
  const limit = options.maxWritesPerSecond ?? 2;
  const needed = options.quietSeconds ?? 3;
  const deadline = started + (options.timeoutMs ?? 180_000);
  let previous = apiserverWrites(await cluster.apiserverMetrics());
  let cpu = controlPlaneCpu();
  let quiet = 0;
  while (quiet < needed && Date.now() < deadline) {
    await sleep(1000);
    const now = apiserverWrites(await cluster.apiserverMetrics());
    const cpuNow = controlPlaneCpu();
    if (now - previous < limit) quiet++;
    else {
      quiet = 0;
      cpu = cpuNow;
    }
    previous = now;
  }
  return { waitedMs: Date.now() - started, cpu };
}

/** {@link untilQuiet}; returns how long it waited, in ms. */
export async function waitForQuiet(cluster: BenchCluster, options: QuietOptions = {}): Promise<number> {
  return (await untilQuiet(cluster, options)).waitedMs;
}

/** Server-side time of one kind of request over a phase. */
export interface ServerTime {
  readonly verb: string;
  /** resource[/subresource] */
  readonly resource: string;
  readonly count: number;
  /** Summed request duration as the API server measures it, seconds. */
  readonly seconds: number;
}

function requestKey(l: Readonly<Record<string, string>>): string {
  const sub = l["subresource"] ? `/${l["subresource"]}` : "";
  return `${l["verb"] ?? ""} ${l["resource"] ?? ""}${sub}`;
}

/**
 * Requests and summed server-side duration per verb and resource between two scrapes of the API
 * server's /metrics (apiserver_request_duration_seconds), writes only, largest total first.
 * Long-running requests (WATCH) are not in that histogram.
 */
export function serverTime(after: readonly Sample[], before: readonly Sample[]): ServerTime[] {
  const acc = new Map<string, { count: number; seconds: number }>();
  const add = (samples: readonly Sample[], sign: number): void => {
    for (const s of samples) {
      const isSum = s.name === "apiserver_request_duration_seconds_sum";
      const isCount = s.name === "apiserver_request_duration_seconds_count";
      if ((!isSum && !isCount) || READ_VERBS.has(s.labels["verb"] ?? "")) continue;
      const key = requestKey(s.labels);
      const a = acc.get(key) ?? { count: 0, seconds: 0 };
      if (isSum) a.seconds += sign * s.value;
      else a.count += sign * s.value;
      acc.set(key, a);
    }
  };
  add(after, 1);
  add(before, -1);
  return [...acc]
    .filter(([, a]) => a.count > 0)
    .map(([key, a]) => {
      const [verb = "", resource = ""] = key.split(" ");
      return { verb, resource, count: Math.round(a.count), seconds: a.seconds };
    })
    .sort((a, b) => b.seconds - a.seconds);
}

/** "APPLY networkpolicies 6000 x 41 ms = 246 s; ..." (the top `n`). */
export function formatServerTime(rows: readonly ServerTime[], n = 8): string {
  const total = rows.reduce((acc, r) => acc + r.seconds, 0);
  const top = rows
    .slice(0, n)
    .map(
      (r) =>
        `${r.verb} ${r.resource} ${r.count} x ${((1000 * r.seconds) / r.count).toFixed(0)} ms = ${r.seconds.toFixed(0)} s`,
    );
  return `${total.toFixed(0)} s of server time in writes: ${top.join("; ")}`;
}

/** CPU seconds used so far by the control plane this process started, by component. */
export interface ControlPlaneCpu {
  readonly apiserver: number;
  readonly etcd: number;
  readonly controllerManager: number;
}

const CLOCK_TICKS_PER_SECOND = 100;

/**
 * Reads utime + stime of this process's children named etcd, kube-apiserver and
 * kube-controller-manager from /proc (Linux; zeros elsewhere or for an external cluster).
 * CPU seconds do not depend on how busy the machine is, unlike wall-clock time.
 */
export function controlPlaneCpu(): ControlPlaneCpu {
  const out = { apiserver: 0, etcd: 0, controllerManager: 0 };
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    } catch {
      continue;
    }
    // "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
    const comm = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(fields[1]) !== process.pid) continue;
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    if (comm === "etcd") out.etcd += seconds;
    else if (comm === "kube-apiserver") out.apiserver += seconds;
    else if (comm.startsWith("kube-controller")) out.controllerManager += seconds;
  }
  return out;
}

/** after - before, component by component. */
export function cpuDelta(after: ControlPlaneCpu, before: ControlPlaneCpu): ControlPlaneCpu {
  return {
    apiserver: after.apiserver - before.apiserver,
    etcd: after.etcd - before.etcd,
    controllerManager: after.controllerManager - before.controllerManager,
  };
}

/** "apiserver 120.1 + etcd 20.3 + controller-manager 5.0 = 145.4 s". */
export function formatCpu(c: ControlPlaneCpu): string {
  const total = c.apiserver + c.etcd + c.controllerManager;
  return (
    `apiserver ${c.apiserver.toFixed(1)} + etcd ${c.etcd.toFixed(1)} + ` +
    `controller-manager ${c.controllerManager.toFixed(1)} = ${total.toFixed(1)} s`
  );
}
