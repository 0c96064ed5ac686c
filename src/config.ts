/**
 * The operator's configuration from flags and environment (flags win), parsed and validated
 * once at start into a typed object; a bad value is one clear line, never a stack trace.
 */
import {
  DEFAULT_LEASE_NAME,
  DEFAULT_OPERATOR_NAMESPACE,
  DEFAULT_PROTECTED_NAMESPACES,
} from "./api/constants.js";
import { isNamespacePattern } from "./api/protected.js";
import { MANAGER_DEFAULTS } from "./controller/manager.js";
import { DEFAULT_WATCH_TIMEOUT_SECONDS } from "./runtime/informer.js";

/** Validated settings. */
export interface OperatorConfig {
  readonly workers: number;
  readonly resyncPeriodMs: number;
  readonly logLevel: "error" | "warn" | "info" | "debug";
  readonly logFormat: "json" | "text";
  /** /healthz, /readyz and /metrics; 0 picks a free port. */
  readonly healthPort: number;
  readonly healthHost: string;
  readonly leaderElect: boolean;
  readonly leaseName: string;
  /** The operator's own namespace: holds the Lease; never owned by a workspace. */
  readonly namespace: string;
  readonly kubeconfig: string | undefined;
  readonly inCluster: boolean;
  readonly watchTimeoutSeconds: number;
  readonly shutdownGraceMs: number;
  /**
   * Patterns (`*` matches any run of characters) of namespaces never created or adopted, besides
   * kube-system, kube-public, kube-node-lease, default and the operator's own, which always are.
   */
  readonly protectedNamespaces: readonly string[];
}

/** A configuration error (exit code 2). */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface Setting {
  readonly flag: string;
  readonly env: string;
  readonly help: string;
  readonly fallback: string;
}

/** A duration as the flags write it: "10m", "30s", "1h", or milliseconds ("1500ms"). */
export function durationText(ms: number): string {
  if (ms > 0 && ms % 3_600_000 === 0) return `${ms / 3_600_000}h`;
  if (ms > 0 && ms % 60_000 === 0) return `${ms / 60_000}m`;
  if (ms > 0 && ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}

/** Every setting, its environment variable and default (README's configuration table follows this). */
export const SETTINGS: readonly Setting[] = [
  {
    flag: "workers",
    env: "SWS_WORKERS",
    fallback: String(MANAGER_DEFAULTS.workers),
    help: "parallel reconciles",
  },
  {
    flag: "resync-period",
    env: "SWS_RESYNC_PERIOD",
    fallback: durationText(MANAGER_DEFAULTS.resyncPeriodMs),
    help: "full resync period (e.g. 30s, 10m, 0 = off)",
  },
  { flag: "log-level", env: "SWS_LOG_LEVEL", fallback: "info", help: "error | warn | info | debug" },
  { flag: "log-format", env: "SWS_LOG_FORMAT", fallback: "json", help: "json | text" },
  {
    flag: "health-port",
    env: "SWS_HEALTH_PORT",
    fallback: "8081",
    help: "port of /healthz, /readyz, /metrics (0 = any)",
  },
  {
    flag: "health-host",
    env: "SWS_HEALTH_HOST",
    fallback: "0.0.0.0",
    help: "address the health server binds",
  },
  {
    flag: "leader-elect",
    env: "SWS_LEADER_ELECT",
    fallback: "false",
    help: "leader election on a Lease (true in config/)",
  },
  { flag: "lease-name", env: "SWS_LEASE_NAME", fallback: DEFAULT_LEASE_NAME, help: "Lease name" },
  {
    flag: "namespace",
    env: "POD_NAMESPACE",
    fallback: DEFAULT_OPERATOR_NAMESPACE,
    help: "operator namespace (Lease; never managed)",
  },
  {
    flag: "kubeconfig",
    env: "KUBECONFIG",
    fallback: "",
    help: "kubeconfig path (default: in-cluster or ~/.kube/config)",
  },
  { flag: "in-cluster", env: "SWS_IN_CLUSTER", fallback: "false", help: "use the pod's ServiceAccount" },
  {
    flag: "watch-timeout",
    env: "SWS_WATCH_TIMEOUT",
    fallback: durationText(DEFAULT_WATCH_TIMEOUT_SECONDS * 1000),
    help: "server-side watch timeout",
  },
  {
    flag: "shutdown-grace",
    env: "SWS_SHUTDOWN_GRACE",
    fallback: durationText(MANAGER_DEFAULTS.shutdownGraceMs),
    help: "time in-flight reconciles get on SIGTERM",
  },
  {
    flag: "protected-namespaces",
    env: "SWS_PROTECTED_NAMESPACES",
    fallback: DEFAULT_PROTECTED_NAMESPACES.join(","),
    help: "namespaces never created or adopted, comma-separated, * = any run of characters (kube-system, kube-public, kube-node-lease, default and --namespace always are)",
  },
];

/** Parses "500ms", "30s", "10m", "1h" or plain milliseconds. */
export function parseDuration(value: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new ConfigError(`--${name}: "${value}" is not a duration (e.g. 30s, 10m)`);
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] ?? "ms"] ?? 1;
  return Math.round(Number(m[1]) * factor);
}

const BOOLEAN_FLAGS = new Set(["leader-elect", "in-cluster"]);

function parseArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (!arg.startsWith("--")) throw new ConfigError(`unexpected argument "${arg}"`);
    const eq = arg.indexOf("=");
    const key = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (!SETTINGS.some((s) => s.flag === key) && key !== "help" && key !== "version")
      throw new ConfigError(`unknown flag --${key} (see --help)`);
    let value = eq > 0 ? arg.slice(eq + 1) : argv[i + 1];
    if (eq < 0) {
      const hasValue = value !== undefined && !value.startsWith("--");
      if (hasValue) i++;
      // Only on/off flags may stand alone ("--leader-elect" means true); others need a value.
      else if (BOOLEAN_FLAGS.has(key) || key === "help" || key === "version") value = "true";
      else throw new ConfigError(`--${key} needs a value`);
    }
    out.set(key, value ?? "true");
  }
  return out;
}

function intIn(value: string, name: string, min: number, max: number): number {
  const n = /^\d+$/.test(value.trim()) ? Number(value.trim()) : NaN;
  if (!Number.isInteger(n) || n < min || n > max)
    throw new ConfigError(`--${name}: "${value}" must be an integer from ${min} to ${max}`);
  return n;
}

function oneOf<T extends string>(value: string, name: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value))
    throw new ConfigError(`--${name}: "${value}" must be one of ${allowed.join(", ")}`);
  return value as T;
}

function bool(value: string, name: string): boolean {
  return oneOf(value, name, ["true", "false"]) === "true";
}

/**
 * A comma-separated list of namespace patterns ("" is none); spaces around commas are ignored,
 * duplicates dropped. Each pattern must be a DNS-1123 label in which `*` may stand anywhere.
 */
export function parseNamespacePatterns(value: string, name: string): readonly string[] {
  if (value.trim() === "") return [];
  const patterns = value.split(",").map((p) => p.trim());
  for (const pattern of patterns)
    if (!isNamespacePattern(pattern))
      throw new ConfigError(
        pattern === ""
          ? `--${name}: "${value}" has an empty pattern (remove the extra comma)`
          : `--${name}: "${pattern}" is not a namespace pattern (lower-case letters, digits, '-' and '*', at most 63, e.g. kube-*,*-system)`,
      );
  return [...new Set(patterns)];
}

/** Help text listing every flag. */
export function usage(): string {
  return [
    "usage: secure-workspace-operator [--flag value ...] | --help | --version",
    ...SETTINGS.map(
      (s) => `  --${s.flag.padEnd(16)} ${s.env.padEnd(20)} ${s.help} (default ${s.fallback || "none"})`,
    ),
  ].join("\n");
}

/**
 * Reads flags and environment into a validated configuration; "help" or "version" when asked for
 * (--help wins over --version, and neither reads the rest).
 */
export function loadConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): OperatorConfig | "help" | "version" {
  const flags = parseArgs(argv);
  if (flags.has("help")) return "help";
  if (flags.has("version")) return "version";
  const get = (flag: string): string => {
    const s = SETTINGS.find((x) => x.flag === flag);
    if (!s) throw new ConfigError(`internal: no setting ${flag}`);
    return flags.get(flag) ?? env[s.env] ?? s.fallback;
  };
  const kubeconfig = get("kubeconfig");
  return {
    workers: intIn(get("workers"), "workers", 1, 256),
    resyncPeriodMs: parseDuration(get("resync-period"), "resync-period"),
    logLevel: oneOf(get("log-level"), "log-level", ["error", "warn", "info", "debug"] as const),
    logFormat: oneOf(get("log-format"), "log-format", ["json", "text"] as const),
    healthPort: intIn(get("health-port"), "health-port", 0, 65535),
    healthHost: get("health-host"),
    leaderElect: bool(get("leader-elect"), "leader-elect"),
    leaseName: get("lease-name"),
    namespace: get("namespace"),
    kubeconfig: kubeconfig === "" ? undefined : kubeconfig,
    inCluster: bool(get("in-cluster"), "in-cluster"),
    watchTimeoutSeconds: Math.max(1, Math.round(parseDuration(get("watch-timeout"), "watch-timeout") / 1000)),
    shutdownGraceMs: parseDuration(get("shutdown-grace"), "shutdown-grace"),
    protectedNamespaces: parseNamespacePatterns(get("protected-namespaces"), "protected-namespaces"),
  };
}

/**
 * V8's old-generation growth for the operator: after each full collection the heap may grow to
 * live size x 1.2 before the next, instead of V8's adaptive factor (up to 4 x when collection is cheap
 * relative to the program, which an operator mostly waiting on the network always is). Measured at
 * 1000 workspaces x 2 namespaces (test/bench/README.md): peak RSS 227 -> 187 MiB converging and
 * 243 -> 216 MiB restarted, at the same operator CPU. Unlike --max-old-space-size it is no cap:
 * the heap still grows with the cluster, only the garbage held between collections shrinks.
 */
export const HEAP_GROWING_PERCENT = 20;

/**
 * The V8 flag to set at start, or undefined when node was started with its own
 * --heap-growing-percent (an explicit choice wins; NODE_OPTIONS cannot carry this flag).
 */
export function heapGrowthFlag(execArgv: readonly string[]): string | undefined {
  const given = execArgv.some((a) => /^--heap[-_]growing[-_]percent(=|$)/.test(a));
  return given ? undefined : `--heap-growing-percent=${String(HEAP_GROWING_PERCENT)}`;
}
