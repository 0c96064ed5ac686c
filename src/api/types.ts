/**
 * SecureWorkspace v1alpha1: the TypeScript view of the CRD in crds/secureworkspace.yaml. Spec and
 * status types are generated from the CRD's schema into ./generated.ts (`npm run gen:types`;
 * test/unit/api/generated-types.test.ts fails when it is stale) and re-exported here under the names
 * src/ uses, so a field added, removed or retyped in the CRD changes these types and `tsc` reports
 * every consumer that no longer fits. Only the object's envelope is written by hand below: metadata
 * is the API server's ObjectMeta, which the CRD does not describe.
 */
import { API_VERSION, KIND } from "./constants.js";
import type { SecureWorkspaceSpec, SecureWorkspaceStatus } from "./generated.js";

export type {
  BindableRole,
  Condition,
  ConditionStatus,
  ControlState,
  ControlStatus,
  DeletionPolicy,
  DriftCorrection,
  DriftEntry,
  DriftReason,
  EgressAllowance,
  Enforcement,
  GuardrailsSpec,
  IngressAllowance,
  IpBlock,
  LabelSelector,
  LimitRangeSpec,
  MeshAuthorizationMode,
  MeshAuthorizationSpec,
  MeshGuardrail,
  MeshProvider,
  MtlsMode,
  NamespaceStatus,
  NetworkPolicyGuardrail,
  NetworkPolicySpec,
  PodSecurityLevel,
  PodSecuritySpec,
  PolicyDirection,
  PolicyPort,
  RbacGuardrail,
  RbacSpec,
  ResourceQuotaSpec,
  RoleBindingSpec,
  SecureWorkspaceSpec,
  SecureWorkspaceStatus,
  ServiceMeshSpec,
  Subject,
  WorkspaceNamespace,
} from "./generated.js";

/** Object metadata fields the operator reads. */
export interface ObjectMeta {
  name: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  deletionTimestamp?: string;
  finalizers?: string[];
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A SecureWorkspace object. */
export interface SecureWorkspace {
  apiVersion: "secureworkspace.io/v1alpha1";
  kind: "SecureWorkspace";
  metadata: ObjectMeta;
  spec: SecureWorkspaceSpec;
  status?: SecureWorkspaceStatus;
}

/**
 * An object read from the API server (or a file) as a SecureWorkspace: its kind and apiVersion say
 * so and it has a spec object; undefined otherwise. The rest is not re-checked here: the API server
 * validated it against the CRD's schema, and the decision tolerates a malformed spec (it reports it).
 * Objects of a list carry no kind: pass them with the list's kind set.
 */
export function asSecureWorkspace(obj: {
  readonly apiVersion?: string;
  readonly kind?: string;
  readonly [field: string]: unknown;
}): SecureWorkspace | undefined {
  const spec = obj["spec"];
  const meta = obj["metadata"];
  if (obj.kind !== KIND || obj.apiVersion !== API_VERSION) return undefined;
  if (spec === null || typeof spec !== "object" || Array.isArray(spec)) return undefined;
  if (meta === null || typeof meta !== "object" || typeof (meta as { name?: unknown }).name !== "string")
    return undefined;
  return obj as unknown as SecureWorkspace; // checked above as far as the schema does not already
}
