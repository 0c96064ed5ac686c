/**
 * One descriptor per baseline control: the kinds of the objects that evidence it (with the fields
 * compared exactly), its status condition type, how status names its objects, and the NIST SP
 * 800-53 (also ITSG-33) controls it evidences. Every other table of these facts is derived from
 * CONTROLS: the catalogue status writes into controls[], the condition per control, which control
 * an object belongs to, and (test/unit/baseline/controls.test.ts proves it until they read it) the
 * controller's exactly-compared fields. Pure data; a leaf of src/baseline (it imports types only),
 * so any module may read it.
 */
import type { Control } from "./objects.js";

/** The titles of the NIST SP 800-53 controls the baseline evidences, by id. */
export const NIST_TITLES = {
  "SC-7": "Boundary Protection",
  "AC-4": "Information Flow Enforcement",
  "AC-3": "Access Enforcement",
  "AC-6": "Least Privilege",
  "AC-5": "Separation of Duties",
  "SC-6": "Resource Availability",
  "CM-7": "Least Functionality",
  "CM-6": "Configuration Settings",
  "SC-8": "Transmission Confidentiality and Integrity",
  "IA-9": "Service Identification and Authentication",
  "SI-4": "System Monitoring",
  "CM-3": "Configuration Change Control",
} as const;

/** A NIST SP 800-53 control id, e.g. SC-7. */
export type NistId = keyof typeof NIST_TITLES;

/** What the operator, status and the audit know about one baseline control. */
export interface ControlDescriptor {
  /** Its status condition type (True when its objects are in place). */
  readonly condition: string;
  /** How status messages name its objects, e.g. `no NetworkPolicies requested`. */
  readonly objects: string;
  /**
   * The kinds of the objects that evidence it, each with the top-level fields compared exactly: a
   * key someone adds there changes what the object allows. Other fields need only contain what
   * the operator sets (the server and other owners add to them).
   */
  readonly kinds: Readonly<Record<string, readonly string[]>>;
  /** The NIST SP 800-53 controls it evidences. */
  readonly nist: readonly NistId[];
}

/**
 * The baseline's controls, in the order status lists their conditions and the catalogue its
 * controls (first appearance of each NIST id).
 */
export const CONTROLS = {
  networkPolicy: {
    condition: "NetworkPolicyEnforced",
    objects: "NetworkPolicies",
    // A matchLabels in the default deny's podSelector exempts every other pod; an endPort widens a
    // port to a range.
    kinds: { NetworkPolicy: ["spec"] },
    nist: ["SC-7", "AC-4"],
  },
  rbac: {
    condition: "RBACEnforced",
    objects: "RoleBindings",
    kinds: { RoleBinding: ["roleRef", "subjects"] },
    nist: ["AC-3", "AC-6", "AC-5"],
  },
  quota: {
    condition: "QuotaEnforced",
    objects: "ResourceQuota/LimitRange",
    // A scope narrows a quota. A LimitRange is compared loosely: the server adds to its limits.
    kinds: { ResourceQuota: ["spec"], LimitRange: [] },
    nist: ["SC-6"],
  },
  podSecurity: {
    condition: "PodSecurityEnforced",
    objects: "Pod Security labels",
    // The labels live on the Namespace, which other owners label and annotate too.
    kinds: { Namespace: [] },
    nist: ["CM-7", "CM-6"],
  },
  meshMTLS: {
    condition: "MeshMTLSEnforced",
    objects: "mTLS settings",
    // A selector narrows a PeerAuthentication to some pods.
    kinds: { PeerAuthentication: ["spec"] },
    nist: ["SC-8", "IA-9"],
  },
  meshAuthorization: {
    condition: "MeshAuthorizationEnforced",
    objects: "mesh authorization",
    kinds: { AuthorizationPolicy: ["spec"] },
    nist: ["AC-4"],
  },
} as const satisfies Readonly<Record<string, ControlDescriptor>>;

/** A baseline control that has a condition (every control but the namespace itself). */
export type BaselineControl = keyof typeof CONTROLS;

/**
 * The kinds of the objects that evidence a control, e.g. `KindOf<"rbac">` is "RoleBinding"; of a
 * union of controls, every kind of each (distributed: keyof a union would be the common keys only).
 */
export type KindOf<C extends BaselineControl> = C extends BaselineControl
  ? keyof (typeof CONTROLS)[C]["kinds"] & string
  : never;

/** The baseline controls in CONTROLS order. */
// Object.keys is typed string[]; CONTROLS is an object literal, so its own keys are exactly these.
export const BASELINE_CONTROLS = Object.keys(CONTROLS) as BaselineControl[];

/** One catalogue control and the baseline controls that evidence it. */
export interface ControlMapping {
  readonly id: string;
  readonly title: string;
  readonly evidencedBy: readonly Control[];
}

const NIST_PREFIX = "NIST-800-53:";

/**
 * The catalogue as status writes it into controls[]: each NIST id the baseline evidences, in order
 * of first appearance in CONTROLS, with every control that evidences it.
 */
export const CONTROL_CATALOGUE: readonly ControlMapping[] = [
  ...new Set(BASELINE_CONTROLS.flatMap((c): readonly NistId[] => CONTROLS[c].nist)),
].map((nist) => ({
  id: `${NIST_PREFIX}${nist}`,
  title: NIST_TITLES[nist],
  evidencedBy: BASELINE_CONTROLS.filter((c) => (CONTROLS[c].nist as readonly NistId[]).includes(nist)),
}));

/** The status condition type for each control (the Record type makes tsc check that none is missing). */
export const CONDITION_OF_CONTROL: Readonly<Record<BaselineControl, string>> = {
  networkPolicy: CONTROLS.networkPolicy.condition,
  rbac: CONTROLS.rbac.condition,
  quota: CONTROLS.quota.condition,
  podSecurity: CONTROLS.podSecurity.condition,
  meshMTLS: CONTROLS.meshMTLS.condition,
  meshAuthorization: CONTROLS.meshAuthorization.condition,
};

/** SI-4, which the operator meets by running: it watches every managed object. */
export const MONITORING_CONTROL = { id: `${NIST_PREFIX}SI-4`, title: NIST_TITLES["SI-4"] } as const;

/** CM-3, met in Enforce mode (drift is reverted and recorded), not applicable in Audit mode. */
export const CHANGE_CONTROL = { id: `${NIST_PREFIX}CM-3`, title: NIST_TITLES["CM-3"] } as const;

/** The control each kind evidences, from CONTROLS (a kind belongs to one control). */
const CONTROL_OF_KIND: ReadonlyMap<string, BaselineControl> = new Map(
  BASELINE_CONTROLS.flatMap((c) => Object.keys(CONTROLS[c].kinds).map((kind) => [kind, c] as const)),
);

/** The control (status condition) an object evidences; "namespace" for a kind no control lists. */
export function controlOf(obj: { apiVersion: string; kind: string }): Control {
  return CONTROL_OF_KIND.get(obj.kind) ?? "namespace";
}

/** The top-level fields of a kind compared exactly (none for a kind no control lists). */
export function exactFieldsOf(kind: string): readonly string[] {
  const control = CONTROL_OF_KIND.get(kind);
  if (!control) return [];
  const kinds: Readonly<Record<string, readonly string[]>> = CONTROLS[control].kinds;
  return kinds[kind] ?? [];
}
