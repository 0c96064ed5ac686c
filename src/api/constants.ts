/** Names and label keys from the API contract, in one place. */

export const GROUP = "secureworkspace.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = "SecureWorkspace";
export const PLURAL = "secureworkspaces";

/** The single server-side-apply field manager for every write. */
export const FIELD_MANAGER = "secure-workspace-operator";
export const FINALIZER = `${GROUP}/cleanup`;

export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY_VALUE = "secure-workspace-operator";
export const WORKSPACE_LABEL = `${GROUP}/workspace`;
/** On a namespace the operator created (not adopted): Delete policy may remove it. */
export const CREATED_BY_ANNOTATION = `${GROUP}/created-by`;

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
