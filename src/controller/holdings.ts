/**
 * Which of the namespaces a workspace lists it may hold, and how: create it, hold it (its own),
 * adopt it (a cluster admin opted it in), only read it (Audit), wait for it (being deleted), or
 * not at all (a conflict, reported). Pure: the reconciler hands in what the caches hold.
 *
 * Ownership of a namespace is the owner-uid annotation (reserved to the operator at admission),
 * never the workspace label alone: a label anyone could forge would let a namespace creator make
 * a namespace look owned, and a workspace author take over any namespace by listing it.
 */
import {
  ADOPT_LABEL,
  ADOPTED_FROM_ANNOTATION,
  CREATED_BY_ANNOTATION,
  GROUP,
  ISTIO_INJECTION_LABEL,
  LINKERD_INBOUND_POLICY_ANNOTATION,
  LINKERD_INJECT_ANNOTATION,
  MANAGED_BY_LABEL,
  OWNER_UID_ANNOTATION,
  PSA_PREFIX,
  SYSTEM_NAMESPACES,
  WORKSPACE_LABEL,
} from "../api/constants.js";
import type { KubeObject } from "../runtime/client.js";
import type { NamespaceConflict } from "./status.js";

/** The parts of a Namespace this module reads. */
export interface NamespaceView {
  readonly metadata: {
    readonly name: string;
    readonly uid?: string;
    readonly resourceVersion?: string;
    readonly labels?: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly deletionTimestamp?: unknown;
  };
}

/** How a workspace holds one namespace it lists. */
export type Holding =
  | { readonly kind: "create"; readonly name: string }
  | { readonly kind: "owned"; readonly name: string; readonly current: NamespaceView }
  | { readonly kind: "adopt"; readonly name: string; readonly current: NamespaceView }
  /** Audit mode on a namespace it does not own: read, never written, so no opt-in is needed. */
  | { readonly kind: "read"; readonly name: string; readonly current: NamespaceView }
  | { readonly kind: "terminating"; readonly name: string }
  | { readonly kind: "conflict"; readonly name: string; readonly conflict: NamespaceConflict };

/** What {@link holdingOf} needs to know besides the namespace. */
export interface HoldingContext {
  readonly workspace: string;
  readonly uid: string;
  readonly audit: boolean;
  /** The operator's own namespace (never held). */
  readonly operatorNamespace: string;
  /** Whether a name matches the configured protected patterns (never created nor adopted). */
  readonly isProtected: (name: string) => boolean;
  /** The uid of an existing workspace by name, or undefined. */
  readonly workspaceUid: (name: string) => string | undefined;
}

/** Whether a workspace (name, uid) owns a namespace. */
export function ownsNamespace(ns: NamespaceView, uid: string): boolean {
  // No fallback to the workspace label or the created-by mark without a uid: both are what a
  // namespace creator would forge where the admission policies are not installed.
  return uid !== "" && ns.metadata.annotations?.[OWNER_UID_ANNOTATION] === uid;
}

/**
 * Whether the workspace created this namespace (deletionPolicy Delete may remove it): created by
 * it, owned by it, and never adopted (an adopted namespace keeps an adopted-from record).
 */
export function createdNamespace(ns: NamespaceView, workspace: string, uid: string): boolean {
  const a = ns.metadata.annotations ?? {};
  return (
    a[CREATED_BY_ANNOTATION] === workspace &&
    a[ADOPTED_FROM_ANNOTATION] === undefined &&
    ownsNamespace(ns, uid)
  );
}

/** Decides how the workspace holds one namespace it lists (see {@link Holding}). */
export function holdingOf(name: string, current: NamespaceView | undefined, ctx: HoldingContext): Holding {
  if ((SYSTEM_NAMESPACES as readonly string[]).includes(name) || name === ctx.operatorNamespace)
    return conflict(name, "SystemNamespace", `namespace ${name} is a system namespace and is never managed`);
  if (ctx.isProtected(name))
    return conflict(
      name,
      "ProtectedNamespace",
      `namespace ${name} matches the operator's protected namespaces and is never created nor adopted`,
    );
  if (!current) return { kind: "create", name };
  if (current.metadata.deletionTimestamp) return { kind: "terminating", name };
  if (ownsNamespace(current, ctx.uid)) return { kind: "owned", name, current };
  const other = current.metadata.labels?.[WORKSPACE_LABEL];
  if (other !== undefined && other !== ctx.workspace) {
    const otherUid = ctx.workspaceUid(other);
    if (otherUid !== undefined && ownsNamespace(current, otherUid))
      return conflict(
        name,
        "OwnedByAnotherWorkspace",
        `namespace ${name} is owned by SecureWorkspace ${other}`,
      );
  }
  if (ctx.audit) return { kind: "read", name, current };
  const optIn = current.metadata.labels?.[ADOPT_LABEL];
  if (optIn === ctx.workspace) return { kind: "adopt", name, current };
  const how = `a cluster admin opts it in with: kubectl label namespace ${name} ${ADOPT_LABEL}=${ctx.workspace}`;
  return conflict(
    name,
    "NotOptedIn",
    optIn !== undefined
      ? `namespace ${name} exists and is opted in for SecureWorkspace ${optIn}, not this one (${how} --overwrite)`
      : `namespace ${name} exists and was not created by this workspace: nothing is written there until ${how}`,
  );
}

function conflict(namespace: string, reason: NamespaceConflict["reason"], message: string): Holding {
  return { kind: "conflict", name: namespace, conflict: { namespace, reason, message } };
}

/** The record of what adoption overwrites, as stored in the adopted-from annotation. */
export interface AdoptionRecord {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** Whether a namespace label is one the operator may set (its own, Pod Security, mesh). */
function baselineLabelKey(key: string): boolean {
  return key.startsWith(PSA_PREFIX) || key === ISTIO_INJECTION_LABEL;
}

/** Whether a namespace annotation is one the operator may set (mesh). */
function baselineAnnotationKey(key: string): boolean {
  return key === LINKERD_INJECT_ANNOTATION || key === LINKERD_INBOUND_POLICY_ANNOTATION;
}

function sorted(entries: Array<[string, string]>): Record<string, string> {
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * What adopting `current` with the `desired` labels and annotations overwrites: the values the
 * namespace held for every key the baseline may set (Pod Security, mesh) and every key the desired
 * object sets, except the operator's own keys. Keys that were absent are not recorded: on release
 * they are removed.
 */
export function adoptionRecord(
  current: NamespaceView,
  desired: {
    readonly labels: Readonly<Record<string, string>>;
    readonly annotations?: Readonly<Record<string, string>>;
  },
): AdoptionRecord {
  const own = (key: string): boolean => key.startsWith(`${GROUP}/`) || key === MANAGED_BY_LABEL;
  const labels = Object.entries(current.metadata.labels ?? {}).filter(
    ([k]) => !own(k) && (baselineLabelKey(k) || k in desired.labels),
  );
  const annotations = Object.entries(current.metadata.annotations ?? {}).filter(
    ([k]) => !own(k) && (baselineAnnotationKey(k) || k in (desired.annotations ?? {})),
  );
  return { labels: sorted(labels), annotations: sorted(annotations) };
}

/** The annotation value of a record (stable: sorted keys). */
export function encodeAdoptionRecord(record: AdoptionRecord): string {
  return JSON.stringify({ labels: record.labels, annotations: record.annotations });
}

function stringMap(value: unknown): Record<string, string> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return {};
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).filter(
      (e): e is [string, string] => typeof e[1] === "string",
    ),
  );
}

/** The record stored on a namespace, or undefined (none, or unreadable: nothing is restored then). */
export function decodeAdoptionRecord(ns: NamespaceView): AdoptionRecord | undefined {
  const raw = ns.metadata.annotations?.[ADOPTED_FROM_ANNOTATION];
  if (raw === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (parsed === null || typeof parsed !== "object") return undefined;
    const p = parsed as { labels?: unknown; annotations?: unknown };
    return { labels: stringMap(p.labels), annotations: stringMap(p.annotations) };
  } catch {
    return undefined;
  }
}

/**
 * The apply that gives a namespace back: what adoption found (the recorded labels and
 * annotations; nothing for a namespace the workspace created), which drops every other key the
 * operator owned. The created-by and owner marks of a created namespace stay (they came with its
 * create, not with an apply): a record of who made it. The uid makes it a precondition: a
 * namespace deleted and re-created meanwhile is not touched.
 */
export function releaseBody(ns: NamespaceView): KubeObject {
  const record = decodeAdoptionRecord(ns);
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: ns.metadata.name,
      ...(ns.metadata.uid ? { uid: ns.metadata.uid } : {}),
      ...(record && Object.keys(record.labels).length > 0 ? { labels: { ...record.labels } } : {}),
      ...(record && Object.keys(record.annotations).length > 0
        ? { annotations: { ...record.annotations } }
        : {}),
    },
  };
}
