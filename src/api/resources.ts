/**
 * The kinds the operator reads or writes: Kubernetes' own, Istio's security policies and the
 * SecureWorkspace itself, in one fixed table (no discovery round trip is needed to build a URL).
 */
import { KUBERNETES_RESOURCES, ResourceTable, type ResourceType } from "../runtime/resources.js";
import { API_VERSION, KIND, PLURAL } from "./constants.js";

/** The SecureWorkspace resource (cluster-scoped). */
export const SECURE_WORKSPACE: ResourceType = {
  apiVersion: API_VERSION,
  kind: KIND,
  plural: PLURAL,
  namespaced: false,
};

/** Istio's security policies the mesh controls write. */
const ISTIO_RESOURCES: readonly ResourceType[] = [
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
];

/** Every kind the operator, its CLI and its tests touch. */
export const RESOURCES = new ResourceTable([...KUBERNETES_RESOURCES, ...ISTIO_RESOURCES, SECURE_WORKSPACE]);

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

/** The resource type of a kind by name alone (kinds are unique in {@link RESOURCES}). */
export function resourceOfKind(kind: string): ResourceType {
  return RESOURCES.ofKind(kind);
}
