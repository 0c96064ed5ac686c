/**
 * Where each kind the operator touches lives in the REST API. A fixed table: the operator
 * only ever manages these kinds, so no discovery round trip is needed to build a URL.
 */

/** A REST resource. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/** The kinds the operator reads or writes. */
export const RESOURCES: readonly ResourceType[] = [
  { apiVersion: "v1", kind: "Namespace", plural: "namespaces", namespaced: false },
  { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", plural: "networkpolicies", namespaced: true },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    plural: "rolebindings",
    namespaced: true,
  },
  { apiVersion: "v1", kind: "ResourceQuota", plural: "resourcequotas", namespaced: true },
  { apiVersion: "v1", kind: "LimitRange", plural: "limitranges", namespaced: true },
  {
    apiVersion: "security.istio.io/v1",
    kind: "PeerAuthentication",
    plural: "peerauthentications",
    namespaced: true,
  },
  {
    apiVersion: "security.istio.io/v1",
    kind: "AuthorizationPolicy",
    plural: "authorizationpolicies",
    namespaced: true,
  },
  {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    plural: "secureworkspaces",
    namespaced: false,
  },
  { apiVersion: "events.k8s.io/v1", kind: "Event", plural: "events", namespaced: true },
  { apiVersion: "coordination.k8s.io/v1", kind: "Lease", plural: "leases", namespaced: true },
  { apiVersion: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
  // Used by tools and tests (installing config/, admission checks), not by the reconcile loop.
  { apiVersion: "v1", kind: "Pod", plural: "pods", namespaced: true },
  { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", plural: "roles", namespaced: true },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRole",
    plural: "clusterroles",
    namespaced: false,
  },
  {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "ClusterRoleBinding",
    plural: "clusterrolebindings",
    namespaced: false,
  },
  {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicy",
    plural: "validatingadmissionpolicies",
    namespaced: false,
  },
  {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingAdmissionPolicyBinding",
    plural: "validatingadmissionpolicybindings",
    namespaced: false,
  },
  {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    plural: "customresourcedefinitions",
    namespaced: false,
  },
];

/** The managed kinds that live inside owned namespaces (what the reconciler diffs and prunes). */
export const NAMESPACED_MANAGED_KINDS = [
  "NetworkPolicy",
  "RoleBinding",
  "ResourceQuota",
  "LimitRange",
  "PeerAuthentication",
  "AuthorizationPolicy",
] as const;
/** One of {@link NAMESPACED_MANAGED_KINDS}. */
export type ManagedKind = (typeof NAMESPACED_MANAGED_KINDS)[number];

/** The resource type of a kind; throws for a kind outside the table. */
export function resourceOf(apiVersion: string, kind: string): ResourceType {
  const found = RESOURCES.find((r) => r.kind === kind && r.apiVersion === apiVersion);
  if (!found) throw new Error(`unsupported kind ${apiVersion} ${kind}`);
  return found;
}

/** The resource type of a kind by name alone (kinds are unique in the table). */
export function resourceOfKind(kind: string): ResourceType {
  const found = RESOURCES.find((r) => r.kind === kind);
  if (!found) throw new Error(`unsupported kind ${kind}`);
  return found;
}

/** `/api/v1` or `/apis/<group>/<version>`. */
export function groupVersionPath(apiVersion: string): string {
  return apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
}

/** The collection path, across namespaces when `namespace` is undefined. */
export function collectionPath(r: ResourceType, namespace?: string): string {
  const ns = r.namespaced && namespace !== undefined ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${groupVersionPath(r.apiVersion)}${ns}/${r.plural}`;
}

/** The path of one object. */
export function objectPath(r: ResourceType, name: string, namespace?: string): string {
  if (r.namespaced && !namespace) throw new Error(`${r.kind}/${name} needs a namespace`);
  return `${collectionPath(r, namespace)}/${encodeURIComponent(name)}`;
}
