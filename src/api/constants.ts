/** Names and label keys from the API contract, in one place. */

export const GROUP = "secureworkspace.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "SecureWorkspace";
export const PLURAL = "secureworkspaces";

/** The single server-side-apply field manager for every write. */
export const FIELD_MANAGER = "secure-workspace-operator";
/** The `reportingController` of the operator's Events. */
export const REPORTING_CONTROLLER = `${GROUP}/operator`;
export const FINALIZER = `${GROUP}/cleanup`;
/** The operator's own namespace when none is given (config/namespace.yaml). */
export const DEFAULT_OPERATOR_NAMESPACE = "secure-workspace-system";
/** The leader-election Lease's name (and the metrics' `name` label) when none is given. */
export const DEFAULT_LEASE_NAME = "secure-workspace-operator";
/** The `controller` label of the operator's controller-runtime metrics (reconciles, work queue). */
export const CONTROLLER_NAME = "secureworkspace";

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "secure-workspace-operator";
export const WORKSPACE_LABEL = `${GROUP}/workspace`;
/**
 * On a namespace the operator created (not adopted): Delete policy may remove it. Set only when
 * the operator creates the namespace (admission refuses it on any later update).
 */
export const CREATED_BY_ANNOTATION = `${GROUP}/created-by`;
/**
 * On a namespace the operator owns: the owning SecureWorkspace's uid. Ownership of a namespace is
 * this annotation (reserved to the operator at admission), never the workspace label alone.
 */
export const OWNER_UID_ANNOTATION = `${GROUP}/owner-uid`;
/**
 * Opt-in to adoption, set by a cluster admin on an existing namespace: its value names the one
 * workspace that may adopt it. The operator only reads it; it is not an ownership label.
 */
export const ADOPT_LABEL = `${GROUP}/adopt`;
/**
 * On an adopted namespace: JSON `{labels: {key: value|null}, annotations: {...}}` of what the
 * operator's keys held before adoption (null: absent), put back on release.
 */
export const ADOPTED_FROM_ANNOTATION = `${GROUP}/adopted-from`;
/**
 * On each owned namespace, for the tenant guardrails (admission policies read the request's
 * namespaceObject, so no webhook and no per-workspace binding is needed); reserved to the operator:
 * the workspace's namespaces, comma-separated and sorted.
 */
export const WORKSPACE_NAMESPACES_ANNOTATION = `${GROUP}/workspace-namespaces`;
/** The workspace's NetworkPolicy guardrail: WithinWorkspace | SameNamespace | Off (absent: WithinWorkspace). */
export const GUARDRAIL_NETWORK_POLICY_ANNOTATION = `${GROUP}/guardrail-networkpolicy`;
/** The workspace's RBAC guardrail: Strict | Off (absent: Strict). */
export const GUARDRAIL_RBAC_ANNOTATION = `${GROUP}/guardrail-rbac`;
/** The workspace's mesh guardrail: Strict | Off (absent: Strict). */
export const GUARDRAIL_MESH_ANNOTATION = `${GROUP}/guardrail-mesh`;
/** The workspace's Istio mTLS mode (STRICT | PERMISSIVE), present only with provider istio. */
export const MESH_MTLS_ANNOTATION = `${GROUP}/mesh-mtls`;
/** Names with this prefix in owned namespaces are reserved to the operator (admission refuses others). */
export const RESERVED_NAME_PREFIX = "sws-";
/**
 * Subjects no binding may name: every user, every anonymous request, every ServiceAccount
 * (also `system:serviceaccounts:<namespace>`), and the superuser group.
 */
export const BROAD_GROUPS = [
  "system:authenticated",
  "system:unauthenticated",
  "system:serviceaccounts",
  "system:masters",
] as const;
/** Whether a group subject is one of {@link BROAD_GROUPS} (or a namespace's all-ServiceAccounts group). */
export function isBroadGroup(name: string): boolean {
  return (BROAD_GROUPS as readonly string[]).includes(name) || name.startsWith("system:serviceaccounts:");
}
/**
 * Default patterns of namespaces never created or adopted (besides {@link SYSTEM_NAMESPACES} and
 * the operator's own): `*` matches any run of characters. Configurable (--protected-namespaces).
 */
export const DEFAULT_PROTECTED_NAMESPACES = ["kube-*", "default", "*-system"] as const;

export const PSA_PREFIX = "pod-security.kubernetes.io/";
export const ISTIO_INJECTION_LABEL = "istio-injection";
export const LINKERD_INJECT_ANNOTATION = "linkerd.io/inject";
export const LINKERD_INBOUND_POLICY_ANNOTATION = "config.linkerd.io/default-inbound-policy";

/**
 * Label keys a user may not set through spec.namespaces[].labels: they carry the baseline
 * (Pod Security, mesh injection) or the ownership the operator relies on.
 */
export const PROTECTED_LABEL_PREFIXES = [PSA_PREFIX, `${GROUP}/`] as const;
export const PROTECTED_LABEL_KEYS = [
  MANAGED_BY_LABEL,
  ISTIO_INJECTION_LABEL,
  "kubernetes.io/metadata.name",
] as const;
/** Annotation keys a user may not set through spec.namespaces[].annotations. */
export const PROTECTED_ANNOTATION_PREFIXES = ["linkerd.io/", "config.linkerd.io/", `${GROUP}/`] as const;

/** Namespaces no workspace may own. The operator's own namespace is added at run time. */
export const SYSTEM_NAMESPACES = ["kube-system", "kube-public", "kube-node-lease", "default"] as const;

/** Fixed object names from the contract. */
export const NAMES = {
  defaultDeny: "sws-default-deny",
  allowSameNamespace: "sws-allow-same-namespace",
  allowDns: "sws-allow-dns",
  allowIngress: "sws-allow-ingress",
  allowEgress: "sws-allow-egress",
  allowMeshControlPlane: "sws-allow-mesh-control-plane",
  quota: "sws-quota",
  limits: "sws-limits",
  mtls: "sws-mtls",
  meshAuthorization: "sws-allow-workspace",
} as const;

/** Whether a label key is reserved for the operator. */
export function isProtectedLabelKey(key: string): boolean {
  return (
    (PROTECTED_LABEL_KEYS as readonly string[]).includes(key) ||
    PROTECTED_LABEL_PREFIXES.some((prefix) => key.startsWith(prefix))
  );
}

/** Whether an annotation key is reserved for the operator. */
export function isProtectedAnnotationKey(key: string): boolean {
  return PROTECTED_ANNOTATION_PREFIXES.some((prefix) => key.startsWith(prefix));
}
