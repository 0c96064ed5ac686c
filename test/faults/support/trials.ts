/**
 * What every fault scenario shares: how many trials to run (SWS_FAULT_TRIALS, default a reduced
 * run for CI), a seeded random source (SWS_FAULT_SEED, printed, so a failing trial can be
 * replayed), the workspaces a trial converges (generated valid specs, made unique per trial),
 * "mid-convergence" triggers, cleanup, and the per-scenario pass/fail summary line.
 */
import fc from "fast-check";
import type { SecureWorkspace, SecureWorkspaceSpec } from "../../../src/api/types.js";
import { WORKSPACE_LABEL } from "../../../src/api/constants.js";
import { desiredState } from "../../../src/baseline/index.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import type { TestKubeClient } from "../../support/test-client.js";
import { isNotFound } from "../../../src/runtime/errors.js";
import { resourceOfKind } from "../../../src/api/resources.js";
import { validSpec } from "../../support/arbitraries.js";
import { waitFor } from "../../support/wait.js";

/** Trials per scenario: SWS_FAULT_TRIALS, default 2 (the reduced CI run; the full run uses 10). */
export function trialCount(): number {
  const raw = process.env["SWS_FAULT_TRIALS"];
  const n = raw === undefined || raw === "" ? 2 : Number(raw);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`SWS_FAULT_TRIALS must be a positive integer, got "${raw}"`);
  return n;
}

/** The run's base seed: SWS_FAULT_SEED, or a fresh one (printed by each scenario). */
export const BASE_SEED = Number(process.env["SWS_FAULT_SEED"] ?? Math.floor(Math.random() * 2 ** 31));

/** A small seeded PRNG (mulberry32): the same seed replays the same trial choices. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** Seed of one trial of one scenario, derived from the base seed. */
export function trialSeed(scenario: number, trial: number): number {
  return (BASE_SEED + scenario * 1_000_003 + trial * 7919) % 2 ** 31;
}

/** Options for {@link trialWorkspaces}. */
export interface TrialWorkspaceOptions {
  /** Workspace count (default 6). */
  readonly count?: number;
  /** At most this many namespaces per workspace (default 3). */
  readonly maxNamespaces?: number;
  /** Keep Istio specs (needs Istio's CRDs installed; default true). */
  readonly istio?: boolean;
}

/**
 * Generated valid specs (test/support/arbitraries.ts), made to converge to Ready=True in a shared
 * cluster: unique namespace names per trial (no conflicts), Enforce, deletionPolicy Delete (so
 * cleanup removes the namespaces too).
 */
export function trialWorkspaces(
  prefix: string,
  seed: number,
  options: TrialWorkspaceOptions = {},
): SecureWorkspace[] {
  const count = options.count ?? 6;
  const specs = fc.sample(validSpec, { seed, numRuns: count });
  return specs.map((spec, i): SecureWorkspace => {
    const name = `${prefix}-w${i}`;
    const namespaces = spec.namespaces
      .slice(0, options.maxNamespaces ?? 3)
      .map((ns, j) => ({ ...ns, name: `${name}-n${j}` }));
    const mesh =
      spec.serviceMesh?.provider === "istio" && options.istio === false ? undefined : spec.serviceMesh;
    const fixed: SecureWorkspaceSpec = {
      ...spec,
      namespaces,
      enforcement: "Enforce",
      deletionPolicy: "Delete",
      ...(mesh ? { serviceMesh: mesh } : { serviceMesh: { provider: "none" } }),
    };
    return {
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name },
      spec: fixed,
    };
  });
}

/** Applies workspaces as an admin would. */
export async function applyAll(admin: TestKubeClient, workspaces: readonly SecureWorkspace[]): Promise<void> {
  for (const ws of workspaces) await admin.apply(ws as unknown as KubeObject);
}

/** How many desired objects (Namespaces excluded) the workspaces need in total. */
export function desiredCount(workspaces: readonly SecureWorkspace[]): number {
  return workspaces.flatMap((ws) => desiredState(ws)).filter((o) => o.kind !== "Namespace").length;
}

/** Counts live managed NetworkPolicies + RoleBindings of these workspaces (a cheap progress gauge). */
async function progressCount(admin: TestKubeClient, names: readonly string[]): Promise<number> {
  const selector = `${WORKSPACE_LABEL} in (${names.join(",")})`;
  let n = 0;
  for (const kind of ["NetworkPolicy", "RoleBinding", "ResourceQuota", "LimitRange"])
    n += (await admin.list(resourceOfKind(kind), { labelSelector: selector })).items.length;
  return n;
}

/**
 * Resolves once at least `fraction` of the workspaces' (non-mesh) desired objects exist: the
 * moment a fault is injected "mid-convergence". Returns `progress` as "have/want".
 */
export async function waitForProgress(
  admin: TestKubeClient,
  workspaces: readonly SecureWorkspace[],
  fraction: number,
): Promise<string> {
  const want = workspaces
    .flatMap((ws) => desiredState(ws))
    .filter((o) => ["NetworkPolicy", "RoleBinding", "ResourceQuota", "LimitRange"].includes(o.kind)).length;
  const names = workspaces.map((w) => w.metadata.name);
  const threshold = Math.floor(want * fraction);
  let have = 0;
  await waitFor(
    async () => {
      have = await progressCount(admin, names);
      return have >= threshold;
    },
    { timeoutMs: 120_000, intervalMs: 25, message: () => `progress ${have}/${want} >= ${threshold}` },
  );
  return `${have}/${want}`;
}

/** Namespaces the workspaces name (for cleanup), from their specs. */
export function namespacesOf(workspaces: readonly SecureWorkspace[]): string[] {
  return workspaces.flatMap((ws) => ws.spec.namespaces.map((n) => n.name));
}

/**
 * Deletes the workspaces (the running operator's finalizer removes what they made and, with
 * deletionPolicy Delete, their namespaces), then deletes any namespace still there (released or
 * adopted ones), and waits until all are gone, so the next trial starts from a clean cluster.
 * If no operator finishes a finalizer in time, the finalizer is removed by hand (and said so).
 */
export async function cleanup(
  admin: TestKubeClient,
  workspaces: readonly string[],
  namespaces: readonly string[],
  log: (line: string) => void = () => undefined,
): Promise<void> {
  const SWS = resourceOfKind("SecureWorkspace");
  const NS = resourceOfKind("Namespace");
  for (const name of workspaces) await admin.delete(SWS, name).catch(() => false);
  const gone = async (name: string): Promise<boolean> => {
    try {
      await admin.get(SWS, name);
      return false;
    } catch (err) {
      if (isNotFound(err)) return true;
      throw err;
    }
  };
  try {
    await waitFor(async () => (await Promise.all(workspaces.map(gone))).every(Boolean), {
      timeoutMs: 90_000,
      intervalMs: 250,
      message: "workspaces deleted by the operator's finalizer",
    });
  } catch {
    log(`cleanup: finalizers not removed in time; removing them by hand`);
    for (const name of workspaces)
      await admin.mergePatch(SWS, name, { metadata: { finalizers: null } }).catch(() => undefined);
  }
  for (const ns of namespaces) await admin.delete(NS, ns).catch(() => false);
  await waitFor(
    async () => {
      for (const ns of namespaces) {
        try {
          await admin.get(NS, ns);
          return false;
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
      }
      return true;
    },
    { timeoutMs: 180_000, intervalMs: 500, message: `namespaces ${namespaces.join(", ")} gone` },
  );
}

/** Per-scenario pass/fail counts, printed as one summary line. */
export class Scoreboard {
  private passed = 0;
  private failed = 0;
  private readonly notes: string[] = [];

  constructor(private readonly scenario: string) {}

  /** Runs one trial body, counting its outcome (and re-throwing a failure for mocha). */
  async trial(label: string, body: () => Promise<string | void>): Promise<void> {
    try {
      const note = await body();
      this.passed++;
      if (note) this.notes.push(`${label}: ${note}`);
    } catch (err) {
      this.failed++;
      this.notes.push(`${label}: FAILED: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
      throw err;
    }
  }

  /** "[faults] <scenario>: 9/10 trials passed, 1 failed (seed …)" plus one line per trial note. */
  summary(): string {
    const total = this.passed + this.failed;
    const head = `[faults] ${this.scenario}: ${this.passed}/${total} trials passed, ${this.failed} failed (SWS_FAULT_SEED=${BASE_SEED})`;
    return [head, ...this.notes.map((n) => `    ${n}`)].join("\n");
  }
}

/**
 * Proves the operator's watches work (not only its retries): with the periodic resync off, a
 * deleted managed object can only come back through a watch event. Deletes one managed object
 * of the workspaces and waits for a new one (a new uid). Returns what it deleted.
 */
export async function expectWatchesLive(
  admin: TestKubeClient,
  workspaces: readonly SecureWorkspace[],
): Promise<string> {
  const selector = `${WORKSPACE_LABEL} in (${workspaces.map((w) => w.metadata.name).join(",")})`;
  for (const kind of ["NetworkPolicy", "RoleBinding", "LimitRange", "ResourceQuota"]) {
    const r = resourceOfKind(kind);
    const victim = (await admin.list(r, { labelSelector: selector })).items[0];
    if (!victim) continue;
    const { name, namespace, uid } = victim.metadata;
    await admin.delete(r, name, namespace);
    await waitFor(
      async () => {
        try {
          return (await admin.get(r, name, namespace)).metadata.uid !== uid;
        } catch (err) {
          if (isNotFound(err)) return false;
          throw err;
        }
      },
      {
        timeoutMs: 60_000,
        intervalMs: 100,
        message: `${namespace}/${kind}/${name} restored through a watch event`,
      },
    );
    return `${namespace}/${kind}/${name}`;
  }
  throw new Error("no managed object to delete");
}
