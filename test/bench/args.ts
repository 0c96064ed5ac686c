/**
 * The benchmark's command line: `npm run bench -- --workspaces N --namespaces-per-workspace M ...`.
 * Parsed once into a typed object; a bad value is one clear line and exit code 2.
 */

/** Validated benchmark settings. */
export interface BenchArgs {
  /** SecureWorkspaces to converge (default 1000). */
  readonly workspaces: number;
  /** Namespaces each workspace owns (default 2). */
  readonly namespacesPerWorkspace: number;
  /** The operator's --workers (default 8). */
  readonly workers: number;
  /** Drift samples at full scale (default 200). */
  readonly driftSamples: number;
  /** Drift mutations in flight at once (default 4). */
  readonly driftConcurrency: number;
  /** Parallel SecureWorkspace applies by the "user" (default 16). */
  readonly applyConcurrency: number;
  /** Requests in flight for the raw-SSA floor client (default 32). */
  readonly floorConcurrency: number;
  /** The floor's identity: a ServiceAccount bound to cluster-admin (default) or the admin token. */
  readonly floorIdentity: "sa" | "admin";
  /** The idle operator's --resync-period in seconds (default 20). */
  readonly idleResyncSeconds: number;
  /** Give up on converge after this many seconds (default 1800). */
  readonly convergeTimeoutSeconds: number;
  /** When set, the converging operator runs with `node --cpu-prof` writing into this directory. */
  readonly cpuProfDir: string | undefined;
  /**
   * Node flags for the operator processes (e.g. "--max-semi-space-size=4"); undefined means those
   * of config/deployment.yaml's NODE_OPTIONS, so the bench measures the process as deployed.
   */
  readonly operatorNodeArgs: readonly string[] | undefined;
  /** Operator flags added to the bench's own (e.g. "--workers=16"), default none. */
  readonly operatorFlags: readonly string[];
  /** When set, a heap snapshot of the converging operator is written here after the drift phase. */
  readonly heapSnapshotDir: string | undefined;
  /**
   * Foreign allow-all NetworkPolicies per namespace added after the drift phase (default 1, or 0):
   * the effective posture's memory, and the idle phase runs with them.
   */
  readonly foreignPolicies: number;
}

/** A command-line error (exit code 2). */
export class ArgsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ArgsError";
  }
}

const INTEGER_FLAGS = {
  workspaces: { min: 1, max: 100_000, fallback: 1000 },
  "namespaces-per-workspace": { min: 1, max: 100, fallback: 2 },
  workers: { min: 1, max: 256, fallback: 8 },
  "drift-samples": { min: 0, max: 100_000, fallback: 200 },
  "drift-concurrency": { min: 1, max: 64, fallback: 4 },
  "apply-concurrency": { min: 1, max: 256, fallback: 16 },
  "floor-concurrency": { min: 1, max: 256, fallback: 32 },
  "idle-resync-seconds": { min: 5, max: 3600, fallback: 20 },
  "converge-timeout-seconds": { min: 10, max: 86_400, fallback: 1800 },
  "foreign-policies": { min: 0, max: 1, fallback: 1 },
} as const;

type IntegerFlag = keyof typeof INTEGER_FLAGS;
const STRING_FLAGS = [
  "floor-identity",
  "cpu-prof",
  "heap-snapshot",
  "operator-node-args",
  "operator-flags",
] as const;

/** The usage text for --help. */
export function usage(): string {
  return [
    "usage: npm run bench -- [--workspaces N] [--namespaces-per-workspace M] [--workers W]",
    "                        [--drift-samples S] [--drift-concurrency C] [--apply-concurrency P]",
    "                        [--floor-concurrency F] [--floor-identity sa|admin]",
    "                        [--idle-resync-seconds T] [--converge-timeout-seconds T]",
    "                        [--cpu-prof DIR] [--heap-snapshot DIR] [--operator-node-args 'FLAGS']",
    "                        [--operator-flags 'FLAGS']",
    "                        [--foreign-policies 0|1]",
    "Starts its own local cluster, or uses the cluster of SWS_BENCH_KUBECONFIG (an admin kubeconfig).",
    "The last line of stdout is one JSON object with the results.",
  ].join("\n");
}

function splitArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) throw new ArgsError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (key === "help") {
      out.set(key, "true");
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new ArgsError(`--${key} needs a value`);
    out.set(key, value);
  }
  return out;
}

function integer(raw: Map<string, string>, flag: IntegerFlag): number {
  const { min, max, fallback } = INTEGER_FLAGS[flag];
  const value = raw.get(flag);
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ArgsError(`--${flag}: "${value}" must be an integer from ${min} to ${max}`);
  return n;
}

/** Parses the arguments after `--`; returns "help" for --help. */
export function parseArgs(argv: readonly string[]): BenchArgs | "help" {
  const raw = splitArgs(argv);
  if (raw.has("help")) return "help";
  for (const key of raw.keys())
    if (!(key in INTEGER_FLAGS) && !(STRING_FLAGS as readonly string[]).includes(key))
      throw new ArgsError(`unknown flag --${key} (see --help)`);
  const floorIdentity = raw.get("floor-identity") ?? "sa";
  if (floorIdentity !== "sa" && floorIdentity !== "admin")
    throw new ArgsError(`--floor-identity: "${floorIdentity}" must be sa or admin`);
  return {
    workspaces: integer(raw, "workspaces"),
    namespacesPerWorkspace: integer(raw, "namespaces-per-workspace"),
    workers: integer(raw, "workers"),
    driftSamples: integer(raw, "drift-samples"),
    driftConcurrency: integer(raw, "drift-concurrency"),
    applyConcurrency: integer(raw, "apply-concurrency"),
    floorConcurrency: integer(raw, "floor-concurrency"),
    floorIdentity,
    idleResyncSeconds: integer(raw, "idle-resync-seconds"),
    convergeTimeoutSeconds: integer(raw, "converge-timeout-seconds"),
    cpuProfDir: raw.get("cpu-prof"),
    heapSnapshotDir: raw.get("heap-snapshot"),
    operatorNodeArgs: raw.has("operator-node-args")
      ? (raw.get("operator-node-args") ?? "").split(" ").filter((a) => a !== "")
      : undefined,
    operatorFlags: (raw.get("operator-flags") ?? "").split(" ").filter((a) => a !== ""),
    foreignPolicies: integer(raw, "foreign-policies"),
  };
}
