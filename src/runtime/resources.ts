/**
 * Where a kind lives in the REST API: resource types, their paths, and fixed tables of them (no
 * discovery). Generic: the domain's own kinds are listed by the domain (src/api/resources.ts).
 */

/** A REST resource. */
export interface ResourceType {
  readonly apiVersion: string;
  readonly kind: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

/**
 * The built-in Kubernetes kinds a client of this runtime may need (the domain adds its own, e.g. a
 * CRD's, in a {@link ResourceTable} of its own).
 */
export const KUBERNETES_RESOURCES: readonly ResourceType[] = [
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
  { apiVersion: "events.k8s.io/v1", kind: "Event", plural: "events", namespaced: true },
  { apiVersion: "coordination.k8s.io/v1", kind: "Lease", plural: "leases", namespaced: true },
  { apiVersion: "v1", kind: "ServiceAccount", plural: "serviceaccounts", namespaced: true },
  { apiVersion: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true },
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

/**
 * A fixed table of kinds: a client that only ever touches these needs no discovery round trip to build
 * a URL. Kinds must be unique by name.
 */
export class ResourceTable {
  /** The kinds, in the order given. */
  readonly types: readonly ResourceType[];

  constructor(types: readonly ResourceType[]) {
    const names = new Set<string>();
    for (const t of types) {
      if (names.has(t.kind)) throw new Error(`resource table: kind ${t.kind} listed twice`);
      names.add(t.kind);
    }
    this.types = types;
  }

  /** The resource type of a kind; throws for a kind outside the table. */
  of(apiVersion: string, kind: string): ResourceType {
    const found = this.types.find((r) => r.kind === kind && r.apiVersion === apiVersion);
    if (!found) throw new Error(`unsupported kind ${apiVersion} ${kind}`);
    return found;
  }

  /** The resource type of a kind by name alone (kinds are unique in the table). */
  ofKind(kind: string): ResourceType {
    const found = this.types.find((r) => r.kind === kind);
    if (!found) throw new Error(`unsupported kind ${kind}`);
    return found;
  }
}

/** The table of {@link KUBERNETES_RESOURCES}. */
export const KUBERNETES = new ResourceTable(KUBERNETES_RESOURCES);

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
