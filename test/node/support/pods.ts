/**
 * Pods on the real node for the tests: probe servers and long-lived probe clients (images from
 * test/harness/node/images.ts), restricted-compliant unless asked otherwise, and reachability
 * checks run inside the clients with `kubectl exec … /probe check`.
 *
 * Timing (notes-real-node.md): a brand-new pod's first connection under an allow rule can be
 * refused for about a second, and its egress deny can be fail-open for about as long. So clients
 * are long-lived, checks start after a settle wait, a "should connect" is retried, and a "should be
 * blocked" is checked after the settle wait (and once more after the retries, still blocked).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PROBE_IMAGE } from "../../harness/node/images.js";
import { testEnv } from "../../harness/test-env.js";
import { sleep } from "../../support/wait.js";

const exec = promisify(execFile);

/** kubectl as admin; resolves with stdout. */
export async function kubectl(args: string[], input?: string): Promise<string> {
  const child = exec("kubectl", ["--kubeconfig", testEnv().kubeconfigPath, ...args], {
    maxBuffer: 16 * 1024 * 1024,
  });
  if (input !== undefined) {
    child.child.stdin?.end(input);
  }
  try {
    return (await child).stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")}: ${e.stderr || e.message}`, { cause: err });
  }
}

/** Applies objects (as JSON) with kubectl. */
export async function apply(objects: unknown[]): Promise<void> {
  await kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
}

/** A namespace object with labels. */
export function namespace(name: string, labels: Record<string, string> = {}): unknown {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name, labels } };
}

/** Ports a probe server listens on. */
export interface Serve {
  readonly tcp?: number[];
  readonly udp?: number[];
}

/** A pod on the node; `serve` makes it a server, otherwise it sleeps (a client to exec into). */
export interface PodRef {
  readonly namespace: string;
  readonly name: string;
}

/** The restricted container security context (Pod Security "restricted"). */
export const RESTRICTED_CONTAINER = {
  runAsNonRoot: true,
  runAsUser: 65532,
  runAsGroup: 65532,
  allowPrivilegeEscalation: false,
  capabilities: { drop: ["ALL"] },
  seccompProfile: { type: "RuntimeDefault" },
};

/**
 * A probe pod. `root: true` runs it as root with the runtime's default capabilities (only for
 * unenforced namespaces, e.g. a DNS-like listener on port 53 in kube-system).
 */
export function probePod(
  ref: PodRef,
  options: { serve?: Serve; labels?: Record<string, string>; root?: boolean } = {},
): unknown {
  const args = options.serve
    ? ["serve", "--tcp", (options.serve.tcp ?? []).join(","), "--udp", (options.serve.udp ?? []).join(",")]
    : ["sleep"];
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: ref.name, namespace: ref.namespace, labels: { app: ref.name, ...options.labels } },
    spec: {
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      terminationGracePeriodSeconds: 1,
      containers: [
        {
          name: "probe",
          image: PROBE_IMAGE,
          imagePullPolicy: "Never",
          args,
          securityContext: options.root ? { runAsUser: 0 } : RESTRICTED_CONTAINER,
        },
      ],
    },
  };
}

/** Waits until the pods are Ready and returns their IPs by "namespace/name". */
export async function waitPodsReady(pods: PodRef[], timeoutMs = 180_000): Promise<Map<string, string>> {
  const ips = new Map<string, string>();
  const byNs = new Map<string, string[]>();
  for (const p of pods) byNs.set(p.namespace, [...(byNs.get(p.namespace) ?? []), p.name]);
  for (const [ns, names] of byNs) {
    await kubectl([
      "wait",
      "-n",
      ns,
      "--for=condition=Ready",
      `--timeout=${Math.round(timeoutMs / 1000)}s`,
      ...names.map((n) => `pod/${n}`),
    ]);
    const out = await kubectl([
      "get",
      "pods",
      "-n",
      ns,
      "-o",
      'jsonpath={range .items[*]}{.metadata.name} {.status.podIP}{"\\n"}{end}',
    ]);
    for (const line of out.split("\n").filter(Boolean)) {
      const [name, ip] = line.split(" ");
      if (names.includes(name) && ip) ips.set(`${ns}/${name}`, ip);
    }
  }
  return ips;
}

/** One connection to test: from a client pod to an address, and whether it should get through. */
export interface Reachability {
  readonly from: PodRef;
  /** Label in messages, e.g. "matrix-a/server". */
  readonly to: string;
  readonly ip: string;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly expect: "connect" | "blocked";
}

/** What the probe saw for one connection. */
export interface Verdict extends Reachability {
  readonly connected: boolean;
  readonly detail: string;
}

interface ProbeResult {
  target: string;
  ok: boolean;
  answer?: string;
  error?: string;
}

const target = (c: Reachability): string => `${c.protocol}:${c.ip}:${c.port}`;
const key = (r: PodRef): string => `${r.namespace}/${r.name}`;

/** Runs `probe check` inside one client for several targets at once. */
async function probeFrom(from: PodRef, targets: string[]): Promise<Map<string, ProbeResult>> {
  const out = await kubectl([
    "exec",
    "-n",
    from.namespace,
    from.name,
    "--",
    "/probe",
    "check",
    "--timeout",
    "1s",
    ...targets,
  ]);
  const results = new Map<string, ProbeResult>();
  for (const line of out.split("\n").filter(Boolean)) {
    const r = JSON.parse(line) as ProbeResult;
    results.set(r.target, r);
  }
  return results;
}

/**
 * Measures every connection: waits `settleMs`, checks all (clients in parallel), retries the
 * "connect" ones that failed for up to `retryMs`, then checks the "blocked" ones that got through
 * once more (a fail-open first packet would pass the first time only). Returns one verdict each.
 */
export async function measure(
  cases: Reachability[],
  options: { settleMs?: number; retryMs?: number } = {},
): Promise<Verdict[]> {
  await sleep(options.settleMs ?? 3000);
  const verdicts = new Map<Reachability, Verdict>();
  const run = async (subset: Reachability[]): Promise<void> => {
    const byClient = new Map<string, Reachability[]>();
    for (const c of subset) byClient.set(key(c.from), [...(byClient.get(key(c.from)) ?? []), c]);
    await Promise.all(
      [...byClient.values()].map(async (group) => {
        const results = await probeFrom(group[0].from, [...new Set(group.map(target))]);
        for (const c of group) {
          const r = results.get(target(c));
          verdicts.set(c, {
            ...c,
            connected: r?.ok ?? false,
            detail: r?.ok ? (r.answer ?? "") : (r?.error ?? "no result"),
          });
        }
      }),
    );
  };
  await run(cases);
  const deadline = Date.now() + (options.retryMs ?? 15_000);
  for (;;) {
    const pending = cases.filter((c) => c.expect === "connect" && !verdicts.get(c)!.connected);
    if (pending.length === 0 || Date.now() > deadline) break;
    await sleep(1000);
    await run(pending);
  }
  const leaked = cases.filter((c) => c.expect === "blocked" && verdicts.get(c)!.connected);
  if (leaked.length) await run(leaked);
  return cases.map((c) => verdicts.get(c)!);
}

/** The verdicts that differ from the expectation, one readable line each (empty when all match). */
export function mismatches(verdicts: Verdict[]): string[] {
  return verdicts
    .filter((v) => v.connected !== (v.expect === "connect"))
    .map(
      (v) =>
        `${key(v.from)} -> ${v.to} ${v.protocol.toUpperCase()} ${v.port}: expected ${v.expect}, ` +
        `${v.connected ? "connected" : "blocked"} (${v.detail})`,
    );
}
