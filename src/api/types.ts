/**
 * SecureWorkspace v1alpha1: the TypeScript view of the CRD in crds/secureworkspace.yaml.
 * test/unit/api/types-match-crd.test.ts proves the two agree field by field.
 */

/** Whether the operator writes the baseline or only reports drift from it. */
export type Enforcement = "Enforce" | "Audit";
/** What happens to namespaces when the workspace is deleted. */
export type DeletionPolicy = "Retain" | "Delete";
/** Pod Security Standards level. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";
/** A traffic direction for default deny. */
export type PolicyDirection = "Ingress" | "Egress";
/** The only ClusterRoles a workspace may bind. */
export type BindableRole = "admin" | "edit" | "view";
/** Service mesh integration. */
export type MeshProvider = "none" | "istio" | "linkerd";
/** Mesh mTLS mode. */
export type MtlsMode = "STRICT" | "PERMISSIVE";
/** Mesh identity-based authorization. */
export type MeshAuthorizationMode = "WorkspaceOnly" | "Off";
/**
 * Which NetworkPolicies tenants may add: peers inside the workspace (WithinWorkspace, the default),
 * in the policy's own namespace only (SameNamespace), or any (Off, reported in status).
 */
export type NetworkPolicyGuardrail = "WithinWorkspace" | "SameNamespace" | "Off";
/** Which RoleBindings tenants may add: none to broad groups or protected ServiceAccounts (Strict), or any (Off). */
export type RbacGuardrail = "Strict" | "Off";
/** Which PeerAuthentications tenants may add: none weaker than the workspace's mTLS (Strict), or any (Off). */
export type MeshGuardrail = "Strict" | "Off";

/** A label selector (matchLabels and matchExpressions), as in metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    key: string;
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    values?: string[];
  }>;
}

/** A port in an allowance. */
export interface PolicyPort {
  protocol?: "TCP" | "UDP" | "SCTP";
  port?: number | string;
  endPort?: number;
}

/** A CIDR block, optionally with exceptions. */
export interface IpBlock {
  cidr: string;
  except?: string[];
}

/** Who may send traffic into the workspace's namespaces. */
export interface IngressAllowance {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: IpBlock;
  ports?: PolicyPort[];
}

/** Where the workspace's pods may send traffic. */
export interface EgressAllowance {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: IpBlock;
  ports?: PolicyPort[];
}

/** One namespace owned by the workspace. */
export interface WorkspaceNamespace {
  name: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** Pod Security Admission levels. */
export interface PodSecuritySpec {
  enforce?: PodSecurityLevel;
  enforceVersion?: string;
  audit?: PodSecurityLevel;
  auditVersion?: string;
  warn?: PodSecurityLevel;
  warnVersion?: string;
}

/** NetworkPolicy baseline. */
export interface NetworkPolicySpec {
  defaultDeny?: PolicyDirection[];
  allowSameNamespace?: boolean;
  allowDNS?: boolean;
  allowIngressFrom?: IngressAllowance[];
  allowEgressTo?: EgressAllowance[];
}

/** An RBAC subject. */
export interface Subject {
  kind: "User" | "Group" | "ServiceAccount";
  name: string;
  namespace?: string;
}

/** One RoleBinding to a built-in ClusterRole. */
export interface RoleBindingSpec {
  role: BindableRole;
  subjects: Subject[];
}

/** RBAC baseline. */
export interface RbacSpec {
  bindings?: RoleBindingSpec[];
}

/** ResourceQuota baseline. */
export interface ResourceQuotaSpec {
  hard: Record<string, string>;
}

/** LimitRange (type Container) baseline. */
export interface LimitRangeSpec {
  default?: Record<string, string>;
  defaultRequest?: Record<string, string>;
  max?: Record<string, string>;
  min?: Record<string, string>;
}

/** Mesh identity-based authorization. */
export interface MeshAuthorizationSpec {
  mode?: MeshAuthorizationMode;
  allowFromNamespaces?: string[];
}

/** Service mesh baseline. */
export interface ServiceMeshSpec {
  provider?: MeshProvider;
  mtls?: MtlsMode;
  injection?: boolean;
  controlPlaneNamespace?: string;
  authorization?: MeshAuthorizationSpec;
}

/** Guardrails on what tenants may add next to the baseline (strict by default; relaxations reported in status). */
export interface GuardrailsSpec {
  networkPolicy?: NetworkPolicyGuardrail;
  rbac?: RbacGuardrail;
  mesh?: MeshGuardrail;
}

/** spec of a SecureWorkspace, as a user writes it (defaults not yet applied). */
export interface SecureWorkspaceSpec {
  namespaces: WorkspaceNamespace[];
  enforcement?: Enforcement;
  deletionPolicy?: DeletionPolicy;
  podSecurity?: PodSecuritySpec;
  networkPolicy?: NetworkPolicySpec;
  rbac?: RbacSpec;
  resourceQuota?: ResourceQuotaSpec;
  limitRange?: LimitRangeSpec;
  serviceMesh?: ServiceMeshSpec;
  guardrails?: GuardrailsSpec;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration?: number;
}

/** Per-namespace state in status. */
export interface NamespaceStatus {
  name: string;
  ready: boolean;
  managedObjects: number;
  message?: string;
}

/** One compliance control in status. */
export interface ControlStatus {
  id: string;
  title: string;
  state: "Compliant" | "NonCompliant" | "NotApplicable";
  /** What fails, only when NonCompliant (the rest is derivable: `sws audit` shows it). */
  evidence?: string;
}

/** The latest drift the operator corrected. */
export interface DriftCorrection {
  time: string;
  namespace: string;
  object: string;
}

/** In Audit mode: an object or label that differs from the baseline. */
export interface DriftEntry {
  namespace: string;
  object: string;
  reason: "Missing" | "Differs" | "Extra";
}

/** status of a SecureWorkspace. */
export interface SecureWorkspaceStatus {
  observedGeneration?: number;
  conditions?: Condition[];
  namespaces?: NamespaceStatus[];
  /**
   * How many of spec.namespaces the workspace holds this pass: not refused (a conflict), not being
   * deleted, existing (Audit never creates one), and its Namespace object written without failure. Not whether each holds the whole
   * baseline (Ready and namespaces[].ready say that). The CRD's description is the contract.
   */
  namespaceCount?: number;
  driftCorrections?: number;
  lastDriftCorrection?: DriftCorrection;
  drift?: DriftEntry[];
  controls?: ControlStatus[];
}

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
