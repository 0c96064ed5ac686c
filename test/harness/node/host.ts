/**
 * The host-global side of the real test node: a machine-wide lock, a record of the host's state
 * before the node started (iptables, ipsets, top-level host directories), and a cleanup that
 * returns the host to that record, also after a crash of a previous run. Everything here is
 * synchronous so that it can run from a process "exit" hook.
 *
 * What the node touches outside its own directory (kubelet and containerd hard-code some paths):
 * /run/containerd (shim sockets), /var/lib/kubelet/device-plugins, /var/log/containers,
 * /var/lib/cni (CNI result cache), cgroups named kubepods in every v1 hierarchy, the bridge
 * {@link BRIDGE} and the veths on it, iptables rules and chains, kube-router's ipsets.
 */
import { execFileSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";

/** The node's name in the cluster. */
export const NODE_NAME = "sws-node";
/** The pods' bridge (a name of our own, so leftovers are recognisable). */
export const BRIDGE = "sws0";
/** The pod network: one /24 on the bridge, the host is the gateway (and the node's InternalIP). */
export const POD_SUBNET = "10.244.0.0/24";
export const GATEWAY_IP = "10.244.0.1";
/** Where the lock and the state record of the running node live (tmpfs: gone after a reboot). */
export const LOCK_DIR = "/run/secure-workspace-operator-node";
const LOCK_FILE = path.join(LOCK_DIR, "owner.json");

/** Top-level host directories whose new children the node may create; checked for leftovers. */
// (/var/run is a symlink to /run on Debian.)
const WATCHED_PARENTS = ["/run", "/var/lib", "/var/log", "/opt", "/etc"];
/** The children of those the node is known to create; cleanup removes them when they are new. */
const KNOWN_HOST_PATHS = [
  "/run/containerd",
  "/run/mount", // util-linux's utab, written by umount
  "/run/netns",
  "/run/nri",
  "/run/runc",
  "/var/lib/kubelet",
  "/var/lib/cni",
  "/var/lib/kube-router",
  "/var/lib/containerd",
  "/var/log/containers",
  "/var/log/pods",
  "/opt/containerd",
  "/opt/cni",
  "/opt/nri",
  "/etc/cni",
  "/etc/kubernetes",
  "/etc/nri",
];

/** What the host looked like before the node started, and where the node keeps its state. */
export interface HostRecord {
  /** The process that owns the node (the lock holder). */
  readonly pid: number;
  /** The node's own directory (containerd root/state, kubelet root, configs, logs). */
  readonly dir: string;
  /** `iptables-save` before the start, normalised. */
  readonly iptables: string;
  /** ipset names before the start. */
  readonly ipsets: string[];
  /** Children of {@link WATCHED_PARENTS} before the start. */
  readonly hostEntries: string[];
}

const quiet = { stdio: ["ignore", "pipe", "pipe"] as ["ignore", "pipe", "pipe"], encoding: "utf8" as const };

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, quiet);
}

function tryRun(cmd: string, args: string[]): string | undefined {
  try {
    return run(cmd, args);
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** `iptables-save` without counters, comments about the dump, and empty built-in chains. */
export function iptablesState(): string {
  const dump = tryRun("iptables-save", []) ?? "";
  const lines = dump
    .split("\n")
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.replace(/\[\d+:\d+\]/, "").trim());
  // A table that only holds built-in chains with ACCEPT policy and no rules is the same as none
  // (nft creates the table on the first iptables call and keeps it).
  const tables: string[] = [];
  let current: string[] = [];
  const flush = (): void => {
    const meaningful = current.some(
      (l) =>
        l.startsWith("-A") ||
        (l.startsWith(":") && !/^:(PREROUTING|INPUT|FORWARD|OUTPUT|POSTROUTING) ACCEPT$/.test(l)),
    );
    if (meaningful) tables.push(current.join("\n"));
    current = [];
  };
  for (const line of lines) {
    if (line.startsWith("*")) flush();
    current.push(line);
  }
  flush();
  return tables.join("\n");
}

/** Names of the ipsets on the host. */
export function ipsetNames(): string[] {
  return (tryRun("ipset", ["list", "-n"]) ?? "").split("\n").filter(Boolean).sort();
}

function hostEntries(): string[] {
  const entries: string[] = [];
  for (const parent of WATCHED_PARENTS) {
    try {
      for (const name of readdirSync(parent)) entries.push(path.join(parent, name));
    } catch {
      // an absent parent has no children
    }
  }
  return entries.sort();
}

/** Processes whose command line mentions the node's directory (everything the node started). */
function nodeProcesses(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir)) pids.push(pid);
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** The kubepods cgroup directories in every v1 hierarchy (and v2, if mounted so). */
function kubepodsCgroups(): string[] {
  const found: string[] = [];
  const roots = existsSync("/sys/fs/cgroup/cgroup.controllers")
    ? ["/sys/fs/cgroup"]
    : readdirSync("/sys/fs/cgroup").map((c) => path.join("/sys/fs/cgroup", c));
  for (const root of roots) {
    const dir = path.join(root, "kubepods");
    if (existsSync(dir)) found.push(dir);
  }
  return found;
}

function cgroupPids(dir: string): number[] {
  const pids: number[] = [];
  const walk = (d: string): void => {
    try {
      for (const line of readFileSync(path.join(d, "cgroup.procs"), "utf8").split("\n"))
        if (line) pids.push(Number(line));
      for (const e of readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return pids;
}

function removeCgroupTree(dir: string): void {
  try {
    for (const e of readdirSync(dir, { withFileTypes: true }))
      if (e.isDirectory()) removeCgroupTree(path.join(dir, e.name));
    rmdirSync(dir);
  } catch {
    // busy or gone: the leftover check reports what stays
  }
}

/** Mount points at or below one of the prefixes, deepest first. */
function mountsUnder(prefixes: string[]): string[] {
  const points = readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => l.split(" ")[4].replace(/\\040/g, " "));
  return points
    .filter((p) => prefixes.some((pre) => p === pre || p.startsWith(pre + "/")))
    .sort((a, b) => b.length - a.length);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** The prefixes under which the node mounts things (its dir and the host paths it created). */
function mountPrefixes(record: HostRecord): string[] {
  return [record.dir, ...KNOWN_HOST_PATHS.filter((p) => !record.hostEntries.includes(p))];
}

/**
 * Returns the host to the record: kills what the node started (its processes and every process
 * in a kubepods cgroup), unmounts, removes cgroups, the bridge and its veths, restores iptables,
 * destroys new ipsets, removes the host paths the node created and its directory. Idempotent.
 */
export function cleanupHost(record: HostRecord): void {
  // Processes: the node's daemons and shims by command line, the containers by cgroup.
  for (let round = 0; round < 20; round++) {
    const pids = [...nodeProcesses(record.dir), ...kubepodsCgroups().flatMap(cgroupPids)];
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    sleepSync(100);
  }
  for (const point of mountsUnder(mountPrefixes(record))) {
    if (tryRun("umount", [point]) === undefined) tryRun("umount", ["-l", point]);
  }
  for (const dir of kubepodsCgroups()) removeCgroupTree(dir);
  // Network: veths still on the bridge (their pod netns is gone once unmounted), then the bridge.
  const veths = tryRun("ip", ["-o", "link", "show", "master", BRIDGE]) ?? "";
  for (const line of veths.split("\n").filter(Boolean)) {
    const name = line.split(":")[1]?.trim().split("@")[0];
    if (name) tryRun("ip", ["link", "del", name]);
  }
  tryRun("ip", ["link", "del", BRIDGE]);
  restoreIptables(record.iptables);
  for (const name of ipsetNames()) if (!record.ipsets.includes(name)) tryRun("ipset", ["destroy", name]);
  for (const p of KNOWN_HOST_PATHS) {
    if (!record.hostEntries.includes(p) && existsSync(p)) rmSync(p, { recursive: true, force: true });
  }
  rmSync(record.dir, { recursive: true, force: true });
}

function restoreIptables(baseline: string): void {
  if (iptablesState() === baseline) return;
  for (const table of ["filter", "nat", "mangle", "raw"]) {
    tryRun("iptables", ["-t", table, "-F"]);
    tryRun("iptables", ["-t", table, "-X"]);
  }
  // The normalised dump keeps each table's COMMIT line, so it restores as it is.
  if (baseline)
    execFileSync("iptables-restore", [], { input: `${baseline}\n`, stdio: ["pipe", "ignore", "pipe"] });
}

/** What the node left behind compared with the record (empty when the host is clean). */
export function leftovers(record: HostRecord): string[] {
  const found: string[] = [];
  const procs = nodeProcesses(record.dir);
  if (procs.length) found.push(`processes: ${procs.map((p) => `${p} ${exe(p)}`).join(", ")}`);
  const mounts = mountsUnder(mountPrefixes(record));
  if (mounts.length) found.push(`mounts: ${mounts.join(", ")}`);
  const cgroups = kubepodsCgroups();
  if (cgroups.length) found.push(`cgroups: ${cgroups.join(", ")}`);
  if (tryRun("ip", ["link", "show", BRIDGE]) !== undefined) found.push(`bridge ${BRIDGE}`);
  const veths = (tryRun("ip", ["-o", "link", "show", "type", "veth"]) ?? "").trim();
  if (veths) found.push(`veths: ${veths.split("\n").length}`);
  const ipt = iptablesState();
  if (ipt !== record.iptables) found.push(`iptables differ from before:\n${ipt}`);
  const sets = ipsetNames().filter((n) => !record.ipsets.includes(n));
  if (sets.length) found.push(`ipsets: ${sets.join(", ")}`);
  // The lock's directory may belong to a run waiting for the lock; the lock file itself is checked below.
  const entries = hostEntries().filter((e) => !record.hostEntries.includes(e) && e !== LOCK_DIR);
  if (entries.length) found.push(`host paths: ${entries.join(", ")}`);
  if (existsSync(record.dir)) found.push(`node dir ${record.dir}`);
  if (existsSync(LOCK_FILE)) found.push(`lock ${LOCK_FILE}`);
  return found;
}

function exe(pid: number): string {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return "?";
  }
}

/** The record of the node this process runs, if any (a second start in one process is refused). */
let held: HostRecord | undefined;

/** Another live process holds the machine's node lock. */
export class HostBusyError extends Error {
  constructor(readonly holder: HostRecord) {
    super(
      `another real node runs on this machine (pid ${holder.pid}, ${holder.dir}); ` +
        `one node fixture per machine (lock ${LOCK_FILE})`,
    );
    this.name = "HostBusyError";
  }
}

/**
 * Takes the machine-wide node lock for this process and records the host's state in it. A lock
 * whose owner is gone (a crashed run) is cleaned up first: its record says what to undo.
 */
export function acquireHost(dir: string, log: (line: string) => void): HostRecord {
  if (held) throw new Error(`this process already runs a real node (${held.dir}); stop it first`);
  mkdirSync(LOCK_DIR, { recursive: true });
  const previous = lockRecord();
  if (previous && previous.pid !== process.pid && alive(previous.pid)) throw new HostBusyError(previous);
  if (previous) recoverHost(log);
  const record: HostRecord = {
    pid: process.pid,
    dir,
    iptables: iptablesState(),
    ipsets: ipsetNames(),
    hostEntries: hostEntries(),
  };
  // "wx": a second process racing for the lock fails here rather than sharing the host.
  try {
    try {
      writeFileSync(LOCK_FILE, JSON.stringify(record), { flag: "wx" });
    } catch (err) {
      // Another run's release removed the empty directory meanwhile: make it again, once.
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      mkdirSync(LOCK_DIR, { recursive: true });
      writeFileSync(LOCK_FILE, JSON.stringify(record), { flag: "wx" });
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") throw new HostBusyError(lockRecord() ?? record);
    throw err;
  }
  held = record;
  return record;
}

/** The record in the lock, if any (its owner may be gone). */
export function lockRecord(): HostRecord | undefined {
  try {
    return JSON.parse(readFileSync(LOCK_FILE, "utf8")) as HostRecord;
  } catch {
    return undefined;
  }
}

/**
 * Cleans up after a node whose owner is gone (a crashed or killed run) and frees the lock;
 * `make node-clean` and the next start do this. Returns the record it cleaned up after, if any.
 */
export function recoverHost(log: (line: string) => void): HostRecord | undefined {
  const previous = lockRecord();
  if (!previous) return undefined;
  if (previous.pid !== process.pid && alive(previous.pid))
    throw new Error(`the real node of pid ${previous.pid} is still running; stop it first`);
  log(`cleaning up after a previous node run (pid ${previous.pid}, ${previous.dir})`);
  cleanupHost(previous);
  rmSync(LOCK_FILE, { force: true });
  removeLockDirIfEmpty();
  return previous;
}

/** Cleans the host up and gives the lock back. */
export function releaseHost(record: HostRecord): void {
  cleanupHost(record);
  if (held?.dir === record.dir) held = undefined;
  rmSync(LOCK_FILE, { force: true });
  removeLockDirIfEmpty();
}

function removeLockDirIfEmpty(): void {
  try {
    rmdirSync(LOCK_DIR);
  } catch {
    // not empty or gone
  }
}

/** Fails early, with the fix, when the host lacks what the node needs. */
export function checkHostPrerequisites(): void {
  if (process.getuid?.() !== 0) throw new Error("the real node needs root (kubelet, containerd, iptables)");
  const missing = [
    "runc",
    "iptables",
    "iptables-save",
    "iptables-restore",
    "ipset",
    "ip",
    "openssl",
    "umount",
  ].filter((cmd) => tryRun("sh", ["-c", `command -v ${cmd}`]) === undefined);
  if (missing.length)
    throw new Error(
      `the real node needs ${missing.join(", ")}: run make node-deps (apt-get install runc iptables ipset)`,
    );
  const bridgeNf = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  if (!existsSync(bridgeNf) || readFileSync(bridgeNf, "utf8").trim() !== "1")
    throw new Error(
      `${bridgeNf} must be 1 (br_netfilter): kube-router filters bridged pod traffic with iptables`,
    );
}

/** Creates the bridge with the gateway address before the kubelet starts (its node IP lives here). */
export function createBridge(): void {
  if (tryRun("ip", ["link", "show", BRIDGE]) === undefined)
    run("ip", ["link", "add", BRIDGE, "type", "bridge"]);
  if (!run("ip", ["-o", "addr", "show", "dev", BRIDGE]).includes(`${GATEWAY_IP}/`))
    run("ip", ["addr", "add", `${GATEWAY_IP}/24`, "dev", BRIDGE]);
  run("ip", ["link", "set", BRIDGE, "up"]);
}

/**
 * Lets pods reach the loopback-only API server at the `kubernetes` Service's ClusterIP (there is
 * no kube-proxy): DNAT to 127.0.0.1, which the kernel routes from the bridge only with
 * route_localnet on it. Both go away with the bridge and the iptables restore.
 */
export function routeServiceToApiServer(clusterIp: string, apiserverPort: number): void {
  writeFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, "1");
  run("iptables", [
    "-t", "nat", "-A", "PREROUTING", "-i", BRIDGE, "-d", `${clusterIp}/32`, "-p", "tcp", "--dport", "443",
    "-m", "comment", "--comment", "sws-node: kubernetes service to the loopback API server",
    "-j", "DNAT", "--to-destination", `127.0.0.1:${apiserverPort}`,
  ]); // prettier-ignore
}
