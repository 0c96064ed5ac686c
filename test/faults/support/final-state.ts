/**
 * The exact final state every fault trial ends with, checked against the API server (never the
 * operator's cache) by an oracle written independently of the reconciler's own diff:
 *
 * - every workspace exists, is not being deleted, has Ready=True (reason Enforced) and
 *   Stalled=False at observedGeneration == generation;
 * - every object of desiredState(ws) is present, not being deleted, and equal in the fields it
 *   sets: labels and annotations (as subsets: other owners may add keys), ownerReferences
 *   exactly, and every other top-level field (spec, roleRef, subjects) where maps may hold extra
 *   keys (server defaults, e.g. a LimitRange's default from its max), lists match item for item,
 *   quantities compare by value, and label selectors and NetworkPolicy rules match exactly (see
 *   EXACT_KEY: a superset there changes what the policy does);
 * - nothing extra: each managed kind, listed by app.kubernetes.io/managed-by, holds exactly the
 *   desired objects of these workspaces, and no object whose workspace label names a workspace
 *   that does not exist (a leftover), and no object listed twice;
 * - status tells the truth: status.namespaces[] names the spec's namespaces in order, all ready,
 *   each with managedObjects equal to the number of desired (and live) objects in it.
 */
import { MANAGED_BY_LABEL, MANAGED_BY_VALUE, WORKSPACE_LABEL } from "../../../src/api/constants.js";
import { parseQuantity } from "../../../src/api/quantity.js";
import type { Condition, SecureWorkspace } from "../../../src/api/types.js";
import { desiredState, type DesiredObject } from "../../../src/baseline/index.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import type { TestKubeClient } from "../../support/test-client.js";
import { ApiError } from "../../../src/runtime/errors.js";
import { NAMESPACED_MANAGED_KINDS, resourceOfKind } from "../../../src/api/resources.js";
import { sleep, waitFor } from "../../support/wait.js";

/** Every kind the operator labels as managed (mesh kinds only when their CRDs are served). */
export const MANAGED_KINDS = ["Namespace", ...NAMESPACED_MANAGED_KINDS] as const;

/** What the checker found: an empty `problems` list means the state is exact. */
export interface FinalStateReport {
  readonly problems: string[];
  /** Desired objects checked (across the workspaces). */
  readonly objects: number;
}

const key = (kind: string, namespace: string | undefined, name: string): string =>
  `${kind}/${namespace ?? ""}/${name}`;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** A string that is a quantity compares by value ("1000m" is "1"), anything else by identity. */
function sameScalar(want: unknown, got: unknown): boolean {
  if (want === got) return true;
  if (typeof want === "string" && typeof got === "string") {
    const a = parseQuantity(want);
    const b = parseQuantity(got);
    return (
      a !== undefined && b !== undefined && Math.abs(a - b) <= Math.max(Math.abs(a), Math.abs(b)) * 1e-12
    );
  }
  return false;
}

/**
 * Fields compared exactly, not as supersets: label selectors (atomic structs: an extra
 * matchLabels key or matchExpressions entry narrows what a policy selects, e.g. turns a default
 * deny into "deny for some pods") and NetworkPolicy rules (an extra `endPort` on an allowed
 * port widens it). Elsewhere extra keys are server defaults or other owners' and are allowed.
 */
const EXACT_KEY = (k: string): boolean => k.endsWith("Selector") || k === "ingress" || k === "egress";

const isEmpty = (v: unknown): boolean =>
  v === undefined || v === null || (Array.isArray(v) && v.length === 0);

function listDifferences(want: unknown[], got: unknown, at: string, exact: boolean): string[] {
  // The server stores an empty list as an absent field.
  if (want.length === 0 && isEmpty(got)) return [];
  if (!Array.isArray(got)) return [`${at}: want a list of ${want.length}, got ${JSON.stringify(got)}`];
  if (got.length !== want.length) return [`${at}: want ${want.length} items, got ${got.length}`];
  return want.flatMap((w, i) => differences(w, got[i], `${at}[${i}]`, exact));
}

function mapDifferences(want: Record<string, unknown>, got: unknown, at: string, exact: boolean): string[] {
  const live = got === undefined || got === null ? {} : got;
  if (!isRecord(live)) return [`${at}: want an object, got ${JSON.stringify(got)}`];
  const out: string[] = [];
  for (const [k, w] of Object.entries(want)) {
    if (w !== undefined) out.push(...differences(w, live[k], `${at}.${k}`, exact || EXACT_KEY(k)));
  }
  if (exact)
    for (const [k, v] of Object.entries(live))
      if (!(k in want) && !isEmpty(v)) out.push(`${at}.${k}: not desired, got ${JSON.stringify(v)}`);
  return out;
}

/**
 * Where `want` (a desired field) and `got` (the live field) differ, as paths; empty when equal in
 * the sense of the module comment (`exact`: no extra keys either, see EXACT_KEY).
 */
export function differences(want: unknown, got: unknown, at: string, exact = false): string[] {
  if (Array.isArray(want)) return listDifferences(want, got, at, exact);
  if (isRecord(want)) return mapDifferences(want, got, at, exact);
  return sameScalar(want, got) ? [] : [`${at}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`];
}

/** Lists a managed kind by the managed-by label; undefined when the kind is not served (no Istio). */
async function listManaged(admin: TestKubeClient, kind: string): Promise<KubeObject[] | undefined> {
  try {
    const list = await admin.list(resourceOfKind(kind), {
      labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY_VALUE}`,
    });
    return list.items.map((o) => ({ ...o, kind }));
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 404) return undefined;
    throw err;
  }
}

function cond(ws: SecureWorkspace, type: string): Condition | undefined {
  return ws.status?.conditions?.find((c) => c.type === type);
}

/** Problems with a workspace's own object and status conditions. */
function workspaceProblems(ws: SecureWorkspace | undefined, name: string): string[] {
  if (!ws) return [`${name}: SecureWorkspace missing`];
  const out: string[] = [];
  if (ws.metadata.deletionTimestamp) out.push(`${name}: being deleted`);
  const gen = ws.metadata.generation;
  if (ws.status?.observedGeneration !== gen)
    out.push(`${name}: observedGeneration ${ws.status?.observedGeneration} != generation ${gen}`);
  const ready = cond(ws, "Ready");
  if (ready?.status !== "True" || ready.reason !== "Enforced")
    out.push(`${name}: Ready=${ready?.status}/${ready?.reason} (${ready?.message ?? ""})`);
  if (ready && ready.observedGeneration !== gen)
    out.push(`${name}: Ready.observedGeneration ${ready.observedGeneration} != generation ${gen}`);
  const stalled = cond(ws, "Stalled");
  if (stalled?.status !== "False")
    out.push(`${name}: Stalled=${stalled?.status} (${stalled?.message ?? ""})`);
  return out;
}

/** Problems of one desired object against its live copy. */
function objectProblems(want: DesiredObject, got: KubeObject | undefined, ref: string): string[] {
  if (!got) return [`${ref}: missing (or lost the managed-by label)`];
  const out: string[] = [];
  if (got.metadata["deletionTimestamp"]) out.push(`${ref}: being deleted`);
  out.push(...differences(want.metadata.labels, got.metadata.labels, `${ref} labels`));
  if (want.metadata.annotations)
    out.push(...differences(want.metadata.annotations, got.metadata.annotations, `${ref} annotations`));
  if (want.metadata.ownerReferences) {
    out.push(
      ...differences(
        want.metadata.ownerReferences,
        got.metadata["ownerReferences"],
        `${ref} ownerReferences`,
        true,
      ),
    );
  }
  for (const [field, value] of Object.entries(want)) {
    if (field === "apiVersion" || field === "kind" || field === "metadata") continue;
    out.push(...differences(value, got[field], `${ref} ${field}`));
  }
  return out;
}

/** Status problems: namespaces[] in spec order, all ready, object counts matching desired and live. */
function statusProblems(
  ws: SecureWorkspace,
  desired: readonly DesiredObject[],
  live: readonly KubeObject[],
): string[] {
  const name = ws.metadata.name;
  const specNs = (ws.spec.namespaces ?? []).map((n) => n.name);
  const statusNs = ws.status?.namespaces ?? [];
  const out: string[] = [];
  if (JSON.stringify(statusNs.map((n) => n.name)) !== JSON.stringify(specNs))
    out.push(
      `${name}: status.namespaces ${JSON.stringify(statusNs.map((n) => n.name))} != spec ${JSON.stringify(specNs)}`,
    );
  for (const ns of statusNs) {
    const want = desired.filter((d) => d.kind !== "Namespace" && d.metadata.namespace === ns.name).length;
    const have = live.filter((o) => o.kind !== "Namespace" && o.metadata.namespace === ns.name).length;
    if (!ns.ready) out.push(`${name}: status.namespaces[${ns.name}] not ready: ${ns.message ?? ""}`);
    if (ns.managedObjects !== want || have !== want)
      out.push(
        `${name}: namespace ${ns.name}: status says ${ns.managedObjects} objects, desired ${want}, live ${have}`,
      );
  }
  return out;
}

type DesiredIndex = Map<string, { ws: string; obj: DesiredObject }>;

/** Every desired object of the workspaces, keyed; an object two workspaces want is a problem. */
function desiredIndex(
  names: readonly string[],
  existing: ReadonlyMap<string, SecureWorkspace>,
  problems: string[],
): DesiredIndex {
  const desired: DesiredIndex = new Map();
  for (const name of names) {
    const ws = existing.get(name);
    problems.push(...workspaceProblems(ws, name));
    if (!ws) continue;
    for (const obj of desiredState(ws)) {
      const k = key(obj.kind, obj.metadata.namespace, obj.metadata.name);
      const other = desired.get(k);
      if (other) problems.push(`${k}: desired by both ${other.ws} and ${name}`);
      desired.set(k, { ws: name, obj });
    }
  }
  return desired;
}

/** Judges one listed managed object: duplicate, leftover, extra, or someone else's. */
function judgeLive(
  obj: KubeObject,
  k: string,
  seen: ReadonlyMap<string, KubeObject>,
  existing: ReadonlyMap<string, SecureWorkspace>,
  checked: ReadonlySet<string>,
  desired: DesiredIndex,
): { problem?: string; owner?: string } {
  if (seen.has(k)) return { problem: `${k}: listed twice (duplicate)` };
  const owner = obj.metadata.labels?.[WORKSPACE_LABEL];
  if (owner === undefined || !existing.has(owner))
    return { problem: `${k}: leftover, labelled for ${owner ?? "no"} workspace, which does not exist` };
  if (!checked.has(owner)) return {}; // another live workspace's object: not ours to judge here
  const want = desired.get(k);
  if (!want) return { owner, problem: `${k}: extra object labelled for ${owner}, not in its desired state` };
  if (want.ws !== owner) return { owner, problem: `${k}: labelled for ${owner}, desired by ${want.ws}` };
  return { owner };
}

/** Checks the exact final state of `names` (see the module comment). Never throws for a wrong state. */
export async function checkFinalState(
  admin: TestKubeClient,
  names: readonly string[],
): Promise<FinalStateReport> {
  const problems: string[] = [];
  const all = (await admin.list(resourceOfKind("SecureWorkspace"))).items as unknown as SecureWorkspace[];
  const existing = new Map(all.map((w) => [w.metadata.name, w]));
  const checked = new Set(names);
  const desired = desiredIndex(names, existing, problems);
  const live = new Map<string, KubeObject>();
  const liveByWs = new Map<string, KubeObject[]>();
  for (const kind of MANAGED_KINDS) {
    for (const obj of (await listManaged(admin, kind)) ?? []) {
      const k = key(kind, obj.metadata.namespace, obj.metadata.name);
      const { problem, owner } = judgeLive(obj, k, live, existing, checked, desired);
      if (problem) problems.push(problem);
      live.set(k, obj);
      if (owner) liveByWs.set(owner, [...(liveByWs.get(owner) ?? []), obj]);
    }
  }
  for (const [k, { obj }] of desired) problems.push(...objectProblems(obj, live.get(k), k));
  for (const name of names) {
    const ws = existing.get(name);
    if (!ws) continue;
    const mine = [...desired.values()].filter((d) => d.ws === name).map((d) => d.obj);
    problems.push(...statusProblems(ws, mine, liveByWs.get(name) ?? []));
  }
  return { problems, objects: desired.size };
}

/** Waits until every workspace reports Ready=True (Enforced) at its current generation. */
export async function waitAllReady(
  admin: TestKubeClient,
  names: readonly string[],
  timeoutMs: number,
): Promise<void> {
  let pending: string[] = [...names];
  await waitFor(
    async () => {
      const all = (await admin.list(resourceOfKind("SecureWorkspace"))).items as unknown as SecureWorkspace[];
      const byName = new Map(all.map((w) => [w.metadata.name, w]));
      pending = names.filter((n) => {
        const ws = byName.get(n);
        const ready = ws && cond(ws, "Ready");
        return !(
          ws &&
          ws.status?.observedGeneration === ws.metadata.generation &&
          ready?.status === "True" &&
          ready.reason === "Enforced"
        );
      });
      return pending.length === 0;
    },
    { timeoutMs, intervalMs: 250, message: () => `Ready=True for ${pending.join(", ")}` },
  );
}

/**
 * The end of every trial: waits for convergence (all Ready at the current generation), then checks
 * the exact state once. A Ready status over a wrong state is a failure (status must not lie); the
 * message says whether the state became right later (checked for `settleMs`), for the diagnosis.
 */
export async function expectConvergedExactly(
  admin: TestKubeClient,
  names: readonly string[],
  options: { timeoutMs?: number; settleMs?: number } = {},
): Promise<FinalStateReport> {
  await waitAllReady(admin, names, options.timeoutMs ?? 180_000);
  // A request error (e.g. 429 "storage is (re)initializing" from a just-restarted server) is not
  // a state problem: ask again. A wrong state is never retried here.
  const report = await waitFor(() => checkFinalState(admin, names), {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: "a final-state check without request errors",
  });
  if (report.problems.length === 0) return report;
  const deadline = Date.now() + (options.settleMs ?? 20_000);
  let later = report;
  while (Date.now() < deadline && later.problems.length > 0) {
    await sleep(500);
    later = await checkFinalState(admin, names).catch(() => later);
  }
  throw new Error(
    `final state wrong while every workspace reported Ready (${report.problems.length} problems; ` +
      `${later.problems.length === 0 ? "it became right later" : "still wrong after waiting"}):\n  ` +
      report.problems.slice(0, 40).join("\n  "),
  );
}
