/**
 * Desired vs observed, as a plan: what to apply (and why), what to prune. Pure, so Audit mode
 * is "report the plan" and a workspace in sync is "the plan is empty".
 */
import { createHash } from "node:crypto";
import { GROUP } from "../api/constants.js";
import { sameQuantity } from "../api/quantity.js";
import { exactFieldsOf } from "../baseline/controls.js";
import type { DesiredObject } from "../baseline/objects.js";

/** Annotation holding the hash of what the operator last applied to an object. */
export const APPLIED_HASH_ANNOTATION = `${GROUP}/applied-hash`;

/** An observed object, as the caches hold it. */
export interface ObservedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    deletionTimestamp?: unknown;
    ownerReferences?: unknown;
  };
  [field: string]: unknown;
}

/** Why an object must be applied. */
export type ApplyReason =
  /** absent: first creation, or re-creation after someone deleted it */
  | "Missing"
  /** present, but a field the operator sets differs: drift if the operator applied this version before */
  | "Differs"
  /** present and untouched, but the spec changed what it should hold */
  | "Outdated";

/** One object to apply. */
export interface PlannedApply {
  readonly object: DesiredObject;
  readonly reason: ApplyReason;
  /** True when this undoes someone else's change to what the operator had applied (drift). */
  readonly drift: boolean;
  /**
   * The observed object's uid when a field that cannot change in place differs (a RoleBinding's
   * roleRef): the object is deleted (uid precondition) and created again.
   */
  readonly recreateUid?: string;
}

/**
 * An object at a desired name that the workspace did not create (no controller ownerReference
 * with its uid): never taken over or merged into, reported instead.
 */
export interface ForeignObject {
  readonly object: DesiredObject;
  /** Who it says owns it, for the message: a controller ownerReference, or none. */
  readonly owner?: string;
}

/** One object to delete. */
export interface PlannedPrune {
  readonly kind: string;
  readonly apiVersion: string;
  readonly namespace: string;
  readonly name: string;
  readonly uid?: string;
}

/** The difference between desired and observed. */
export interface Plan {
  readonly apply: PlannedApply[];
  readonly prune: PlannedPrune[];
  /** Objects in the way (the workspace's names, someone else's objects): left alone, reported. */
  readonly foreign: ForeignObject[];
}

/** The controller ownerReference of an observed object, if any. */
export function controllerOf(
  obj: ObservedObject,
): { kind?: string; name?: string; uid?: string } | undefined {
  const refs = obj.metadata?.ownerReferences;
  if (!Array.isArray(refs)) return undefined;
  for (const ref of refs as unknown[]) {
    if (ref !== null && typeof ref === "object" && (ref as { controller?: unknown }).controller === true)
      return ref;
  }
  return undefined;
}

/**
 * Whether the workspace with this uid created an object: its controller ownerReference names that
 * uid. A label can be forged by anyone who may create the object; an ownerReference to a uid
 * cannot be guessed, and the operator's labels are reserved at admission besides.
 */
export function ownedBy(obj: ObservedObject, ownerUid: string): boolean {
  return ownerUid !== "" && controllerOf(obj)?.uid === ownerUid;
}

/** Fields that cannot change in place, per kind: a difference there means delete and re-create. */
const IMMUTABLE_FIELDS: Readonly<Record<string, readonly string[]>> = { RoleBinding: ["roleRef"] };

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** A short stable hash of a desired object's content. */
export function contentHash(obj: DesiredObject): string {
  return createHash("sha256").update(stableStringify(obj)).digest("hex").slice(0, 16);
}

/** The object with its content hash recorded in an annotation (what gets applied). */
export function withAppliedHash(obj: DesiredObject): DesiredObject {
  const hash = contentHash(obj);
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      annotations: { ...(obj.metadata.annotations ?? {}), [APPLIED_HASH_ANNOTATION]: hash },
    },
  };
}

/** Fields whose values are resource quantities (ResourceQuota spec.hard, LimitRange limits). */
const QUANTITY_FIELDS = new Set(["hard", "default", "defaultRequest", "max", "min", "maxLimitRequestRatio"]);

/** How a comparison treats keys the operator did not set. */
interface CompareMode {
  /** Inside a map of resource quantities: "1" equals "1000m". */
  readonly quantity: boolean;
  /** Inside a part compared exactly: another key holding a value is a difference. */
  readonly exact: boolean;
}

const LOOSE: CompareMode = { quantity: false, exact: false };

/** Whether a value the server stores as "absent" (an omitted empty list, a null). */
function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}

/**
 * Whether every field the operator sets is present and equal in the observed object.
 * Maps may hold more keys (the server's defaults, other owners' labels) unless compared
 * exactly; lists must match item for item (an extra rule in our NetworkPolicy is drift);
 * quantities compare by value.
 */
export function contains(desired: unknown, observed: unknown, mode: CompareMode = LOOSE): boolean {
  if (Array.isArray(desired)) {
    // The server drops empty lists: "no rules" is stored as an absent field.
    if (desired.length === 0 && (observed === undefined || observed === null)) return true;
    return (
      Array.isArray(observed) &&
      desired.length === observed.length &&
      desired.every((item, i) => contains(item, observed[i], mode))
    );
  }
  if (desired !== null && typeof desired === "object") {
    if (observed === null || typeof observed !== "object" || Array.isArray(observed)) return false;
    const want = desired as Record<string, unknown>;
    const obs = observed as Record<string, unknown>;
    const allPresent = Object.entries(want).every(
      ([key, value]) =>
        value === undefined ||
        contains(value, obs[key], { ...mode, quantity: mode.quantity || QUANTITY_FIELDS.has(key) }),
    );
    if (!allPresent || !mode.exact) return allPresent;
    return Object.entries(obs).every(([key, value]) => want[key] !== undefined || isEmpty(value));
  }
  if (mode.quantity && typeof desired === "string" && typeof observed === "string")
    return sameQuantity(desired, observed);
  return desired === observed;
}

/**
 * Whether the observed object holds the desired one: `contains`, exact in the top-level fields its
 * control's descriptor names (a key someone adds there changes what the object allows; the server
 * defaults none of them beyond what the baseline already sets).
 */
export function inSync(desired: DesiredObject, observed: ObservedObject): boolean {
  const exact = exactFieldsOf(desired.kind);
  return Object.entries(desired).every(([key, value]) => {
    // Lists from the API server carry no apiVersion/kind on their items: compare the rest.
    if (key === "apiVersion" || key === "kind" || value === undefined) return true;
    return contains(value, observed[key], { quantity: QUANTITY_FIELDS.has(key), exact: exact.includes(key) });
  });
}

/** `kind/namespace/name`, the identity of an object across desired and observed. */
export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ""}/${name}`;
}

/**
 * Plans one workspace. `observed(kind, ns, name)` reads the caches; `managed` is every object the
 * caches hold with this workspace's labels (prune candidates); `converged` says whether the
 * workspace was fully in place at this generation before (so a missing object is drift).
 * `ownerUid` is the workspace's uid: an object it did not create (see {@link ownedBy}) is never
 * applied over nor pruned, it is reported as foreign. Namespaces are not checked here: the
 * reconciler decides which namespaces the workspace holds before planning. Without a uid (an
 * offline render) ownership is not checked.
 */
export function plan(
  desired: readonly DesiredObject[],
  observed: (kind: string, namespace: string | undefined, name: string) => ObservedObject | undefined,
  managed: readonly ObservedObject[],
  converged: boolean,
  ownerUid?: string,
): Plan {
  const apply: PlannedApply[] = [];
  const foreign: ForeignObject[] = [];
  const wanted = new Set<string>();
  const owner = ownerUid ?? "";
  for (const raw of desired) {
    const object = withAppliedHash(raw);
    wanted.add(objectKey(object.kind, object.metadata.namespace, object.metadata.name));
    const step = planOne(object, observed(object.kind, object.metadata.namespace, object.metadata.name), {
      converged,
      ownerUid: owner,
    });
    if (step && "reason" in step) apply.push(step);
    else if (step) foreign.push(step);
  }
  return { apply, prune: prunes(managed, wanted, owner), foreign };
}

/** One desired object against what is observed: apply it, report it as foreign, or nothing. */
function planOne(
  object: DesiredObject,
  current: ObservedObject | undefined,
  ctx: { readonly converged: boolean; readonly ownerUid: string },
): PlannedApply | ForeignObject | undefined {
  if (!current || current.metadata?.deletionTimestamp)
    return { object, reason: "Missing", drift: ctx.converged };
  if (ctx.ownerUid !== "" && object.kind !== "Namespace" && !ownedBy(current, ctx.ownerUid)) {
    const ref = controllerOf(current);
    return {
      object,
      ...(ref ? { owner: `${ref.kind ?? "?"}/${ref.name ?? "?"} (uid ${ref.uid ?? "?"})` } : {}),
    };
  }
  if (inSync(object, current)) return undefined;
  const appliedBefore = current.metadata?.annotations?.[APPLIED_HASH_ANNOTATION];
  const sameVersion = appliedBefore === object.metadata.annotations?.[APPLIED_HASH_ANNOTATION];
  const immutableDiffers = (IMMUTABLE_FIELDS[object.kind] ?? []).some(
    (f) => object[f] !== undefined && !contains(object[f], current[f], { quantity: false, exact: true }),
  );
  return {
    object,
    reason: sameVersion ? "Differs" : "Outdated",
    drift: sameVersion,
    ...(immutableDiffers && current.metadata?.uid ? { recreateUid: current.metadata.uid } : {}),
  };
}

/** Managed objects no desired object names: prune candidates, only the workspace's own. */
function prunes(
  managed: readonly ObservedObject[],
  wanted: ReadonlySet<string>,
  ownerUid: string,
): PlannedPrune[] {
  const out: PlannedPrune[] = [];
  for (const obj of managed) {
    const meta = obj.metadata ?? {};
    if (!obj.kind || !meta.name || obj.kind === "Namespace") continue;
    // Labels say "managed"; only the ownerReference says "ours". Never delete what another made.
    if (ownerUid !== "" && !ownedBy(obj, ownerUid)) continue;
    if (wanted.has(objectKey(obj.kind, meta.namespace, meta.name))) continue;
    out.push({
      kind: obj.kind,
      apiVersion: obj.apiVersion ?? "",
      namespace: meta.namespace ?? "",
      name: meta.name,
      ...(meta.uid ? { uid: meta.uid } : {}),
    });
  }
  return out;
}
