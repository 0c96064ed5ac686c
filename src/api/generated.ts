/**
 * GENERATED from crds/secureworkspace.yaml by test/tools/gen-types.ts (`npm run gen:types`); do not
 * edit. The types of a SecureWorkspace's spec and status, and the schema's defaults.
 * test/unit/api/generated-types.test.ts fails when this file no longer matches the CRD.
 */

/**
 * The baseline the workspace's namespaces must hold. Defaults are applied at admission, so `kubectl get
 * -o yaml` shows the effective baseline.
 */
export interface SecureWorkspaceSpec {
  /**
   * The namespaces this workspace owns: 1 to 100, unique names. A namespace that does not exist is
   * created; one that exists is adopted unless another workspace owns it (a conflict, reported in
   * status). System namespaces cannot be owned.
   */
  namespaces: WorkspaceNamespace[];
  /**
   * Enforce (default): the operator writes the baseline and corrects drift. Audit: it writes nothing
   * and reports drift in status (controls turn NonCompliant).
   */
  enforcement?: Enforcement;
  /**
   * What happens when the workspace is deleted. Retain (default): managed objects and labels are
   * removed, namespaces are kept. Delete: namespaces the operator created are deleted too (adopted
   * namespaces are always kept).
   */
  deletionPolicy?: DeletionPolicy;
  /** Pod Security Admission levels, written as pod-security.kubernetes.io/* labels on every namespace. */
  podSecurity?: PodSecuritySpec;
  /**
   * The NetworkPolicy baseline of every namespace: default deny, then explicit allowances
   * (sws-default-deny, sws-allow-same-namespace, sws-allow-dns, sws-allow-ingress, sws-allow-egress).
   */
  networkPolicy?: NetworkPolicySpec;
  /**
   * RBAC baseline: RoleBindings (sws-<role>-<n>) in every namespace to the built-in ClusterRoles admin,
   * edit or view, and to nothing else.
   */
  rbac?: RbacSpec;
  /** A ResourceQuota (sws-quota) in every namespace. Omitted: no quota. */
  resourceQuota?: ResourceQuotaSpec;
  /**
   * A LimitRange (sws-limits) of type Container in every namespace: defaults and bounds for container
   * requests and limits. Omitted: none. Needs min <= defaultRequest <= default <= max for each
   * resource.
   */
  limitRange?: LimitRangeSpec;
  /**
   * Service mesh baseline: sidecar injection, mTLS mode and identity-based authorization (only
   * workloads of this workspace may call in). provider none (default) turns it off.
   */
  serviceMesh?: ServiceMeshSpec;
  /**
   * What tenants (whoever a workspace binding or their own RoleBinding lets write in the workspace's
   * namespaces) may add next to the baseline, checked at admission by the operator's
   * ValidatingAdmissionPolicies. Strict by default: tenant NetworkPolicies, RoleBindings and mesh
   * policies may not open more than the workspace declares; anything wider is declared here in the
   * SecureWorkspace, which a cluster administrator reviews. Each relaxation is reported in status, so
   * an auditor sees it. In YAML write "Off" in quotes: some parsers (kubectl's among them) read a bare
   * Off as the boolean false.
   */
  guardrails?: GuardrailsSpec;
}

/** One namespace owned by the workspace. */
export interface WorkspaceNamespace {
  /** The namespace name, a DNS-1123 label (lower case letters, digits, '-'). */
  name: string;
  /**
   * Extra labels for the namespace, e.g. a cost center. The keys that carry the baseline or ownership
   * are reserved: pod-security.kubernetes.io/*, secureworkspace.io/*, app.kubernetes.io/managed-by,
   * istio-injection and kubernetes.io/metadata.name.
   */
  labels?: Record<string, string>;
  /**
   * Extra annotations for the namespace. The keys that carry the mesh baseline or ownership are
   * reserved: linkerd.io/*, config.linkerd.io/* and secureworkspace.io/*.
   */
  annotations?: Record<string, string>;
}

/** Whether the operator writes the baseline or only reports drift from it. */
export type Enforcement = "Enforce" | "Audit";

/** What happens to namespaces when the workspace is deleted. */
export type DeletionPolicy = "Retain" | "Delete";

/** Pod Security Admission levels, written as pod-security.kubernetes.io/* labels on every namespace. */
export interface PodSecuritySpec {
  /** The level pods must meet to be admitted (default restricted). */
  enforce?: PodSecurityLevel;
  /** The policy version of the enforce level, latest or v1.N (default latest). */
  enforceVersion?: string;
  /** The level whose violations are written to the audit log (default = enforce). */
  audit?: PodSecurityLevel;
  /** The policy version of the audit level, latest or v1.N (default = enforceVersion). */
  auditVersion?: string;
  /** The level whose violations are returned as warnings (default = enforce). */
  warn?: PodSecurityLevel;
  /** The policy version of the warn level, latest or v1.N (default = enforceVersion). */
  warnVersion?: string;
}

/** Pod Security Standards level. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * The NetworkPolicy baseline of every namespace: default deny, then explicit allowances
 * (sws-default-deny, sws-allow-same-namespace, sws-allow-dns, sws-allow-ingress, sws-allow-egress).
 */
export interface NetworkPolicySpec {
  /**
   * The directions denied unless allowed (default [Ingress, Egress]); an empty list turns default deny
   * off.
   */
  defaultDeny?: PolicyDirection[];
  /** Allow traffic between pods of the same namespace (default true). */
  allowSameNamespace?: boolean;
  /**
   * Allow egress to cluster DNS (kube-system pods labelled k8s-app=kube-dns, UDP and TCP 53) (default
   * true).
   */
  allowDNS?: boolean;
  /**
   * Sources allowed to send traffic into the workspace's namespaces, e.g. an ingress controller's
   * namespace. Each entry is one NetworkPolicy peer with optional ports.
   */
  allowIngressFrom?: IngressAllowance[];
  /**
   * Destinations the workspace's pods may send traffic to, e.g. a database CIDR. Each entry is one
   * NetworkPolicy peer with optional ports.
   */
  allowEgressTo?: EgressAllowance[];
}

/** A traffic direction. */
export type PolicyDirection = "Ingress" | "Egress";

/**
 * One allowed source: namespaceSelector and/or podSelector, or an ipBlock, with optional ports (none =
 * all ports).
 */
export interface IngressAllowance {
  /**
   * Selects the namespaces traffic may come from (all pods in them unless podSelector narrows it). An
   * empty selector selects every namespace.
   */
  namespaceSelector?: LabelSelector;
  /**
   * Selects the pods traffic may come from: in the namespaces namespaceSelector selects, or in the
   * workspace's own namespace when it is absent.
   */
  podSelector?: LabelSelector;
  /** An IP range traffic may come from (outside the cluster's pod network). */
  ipBlock?: IpBlock;
  /** The destination ports allowed; none means all ports. */
  ports?: PolicyPort[];
}

/**
 * One allowed destination: namespaceSelector and/or podSelector, or an ipBlock, with optional ports
 * (none = all ports).
 */
export interface EgressAllowance {
  /**
   * Selects the namespaces traffic may go to (all pods in them unless podSelector narrows it). An empty
   * selector selects every namespace.
   */
  namespaceSelector?: LabelSelector;
  /**
   * Selects the pods traffic may go to: in the namespaces namespaceSelector selects, or in the
   * workspace's own namespace when it is absent.
   */
  podSelector?: LabelSelector;
  /** An IP range traffic may go to (outside the cluster's pod network). */
  ipBlock?: IpBlock;
  /** The destination ports allowed; none means all ports. */
  ports?: PolicyPort[];
}

/** A label selector (matchLabels and matchExpressions), as in metav1.LabelSelector. */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{
    /** The label key the requirement applies to. */
    key: string;
    /** How the key relates to the values. */
    operator: "In" | "NotIn" | "Exists" | "DoesNotExist";
    /** The values for In and NotIn; empty for Exists and DoesNotExist. */
    values?: string[];
  }>;
}

/** A CIDR block, optionally with exceptions. */
export interface IpBlock {
  /** The range, in CIDR notation (10.0.0.0/8, 2001:db8::/32). */
  cidr: string;
  /** Sub-ranges of cidr that are not allowed. */
  except?: string[];
}

/** A port or a port range. */
export interface PolicyPort {
  /** TCP, UDP or SCTP (NetworkPolicy's default is TCP). */
  protocol?: "TCP" | "UDP" | "SCTP";
  /**
   * A port number (1-65535) or a named container port (an IANA service name: at most 15 lower case
   * letters, digits and single inner '-', at least one letter). Number bounds apply to numbers, the
   * pattern to names.
   */
  port?: number | string;
  /** With a numeric port, the last port of the range port..endPort. */
  endPort?: number;
}

/**
 * RBAC baseline: RoleBindings (sws-<role>-<n>) in every namespace to the built-in ClusterRoles admin,
 * edit or view, and to nothing else.
 */
export interface RbacSpec {
  /** One RoleBinding per entry, in every namespace of the workspace. */
  bindings?: RoleBindingSpec[];
}

/** A binding of subjects to one built-in ClusterRole. */
export interface RoleBindingSpec {
  /** The built-in ClusterRole to bind (admin, edit or view). */
  role: BindableRole;
  /** Who gets the role; at least one. */
  subjects: Subject[];
}

/** The only ClusterRoles a workspace may bind. */
export type BindableRole = "admin" | "edit" | "view";

/**
 * A user, group or service account. Service accounts need a namespace; users and groups are
 * cluster-wide and take none. The broad system groups (system:authenticated, system:unauthenticated,
 * system:serviceaccounts, system:serviceaccounts:<namespace>, system:masters) are refused: bind named
 * users, groups or service accounts instead.
 */
export interface Subject {
  /** User, Group or ServiceAccount. */
  kind: "User" | "Group" | "ServiceAccount";
  /** The user, group or service account name. */
  name: string;
  /** The service account's namespace (ServiceAccount only). */
  namespace?: string;
}

/** A ResourceQuota (sws-quota) in every namespace. Omitted: no quota. */
export interface ResourceQuotaSpec {
  /**
   * Hard limits, keyed and valued as in a ResourceQuota, e.g. requests.cpu: "4", limits.memory: 16Gi,
   * pods: "50", services.loadbalancers: "0". Object counts (pods, services, count/*, ...) and extended
   * resources are whole numbers.
   */
  hard: Record<string, string>;
}

/**
 * A LimitRange (sws-limits) of type Container in every namespace: defaults and bounds for container
 * requests and limits. Omitted: none. Needs min <= defaultRequest <= default <= max for each resource.
 */
export interface LimitRangeSpec {
  /** Default limits for containers that set none, e.g. cpu: 500m, memory: 512Mi. */
  default?: Record<string, string>;
  /** Default requests for containers that set none, e.g. cpu: 100m, memory: 128Mi. */
  defaultRequest?: Record<string, string>;
  /** The largest limit a container may set, e.g. cpu: "2", memory: 2Gi. */
  max?: Record<string, string>;
  /** The smallest request a container may set, e.g. cpu: 10m, memory: 16Mi. */
  min?: Record<string, string>;
}

/**
 * Service mesh baseline: sidecar injection, mTLS mode and identity-based authorization (only workloads
 * of this workspace may call in). provider none (default) turns it off.
 */
export interface ServiceMeshSpec {
  /** none (default), istio or linkerd. */
  provider?: MeshProvider;
  /**
   * STRICT (default): only mutual-TLS traffic is accepted. PERMISSIVE: plain text is accepted too (for
   * migrations).
   */
  mtls?: MtlsMode;
  /**
   * Turn on sidecar injection for the namespaces (istio-injection=enabled or linkerd.io/inject=enabled)
   * (default true).
   */
  injection?: boolean;
  /**
   * Where the mesh control plane runs (default istio-system for istio, linkerd for linkerd). Under
   * default-deny egress, sidecars may still reach it on the control plane's ports and nothing else.
   */
  controlPlaneNamespace?: string;
  /**
   * Identity-based authorization: which workloads may call into the workspace ("reject traffic from
   * untrusted sources").
   */
  authorization?: MeshAuthorizationSpec;
}

/** Service mesh integration. */
export type MeshProvider = "none" | "istio" | "linkerd";

/** Mesh mTLS mode. */
export type MtlsMode = "STRICT" | "PERMISSIVE";

/**
 * Identity-based authorization: which workloads may call into the workspace ("reject traffic from
 * untrusted sources").
 */
export interface MeshAuthorizationSpec {
  /**
   * WorkspaceOnly (default when a provider is set): only workloads in this workspace's namespaces and
   * allowFromNamespaces may call in. Off: no authorization policy.
   */
  mode?: MeshAuthorizationMode;
  /**
   * Extra namespaces whose workloads may call in under WorkspaceOnly, e.g. the ingress gateway's
   * namespace.
   */
  allowFromNamespaces?: string[];
}

/** Mesh identity-based authorization. */
export type MeshAuthorizationMode = "WorkspaceOnly" | "Off";

/**
 * What tenants (whoever a workspace binding or their own RoleBinding lets write in the workspace's
 * namespaces) may add next to the baseline, checked at admission by the operator's
 * ValidatingAdmissionPolicies. Strict by default: tenant NetworkPolicies, RoleBindings and mesh
 * policies may not open more than the workspace declares; anything wider is declared here in the
 * SecureWorkspace, which a cluster administrator reviews. Each relaxation is reported in status, so an
 * auditor sees it. In YAML write "Off" in quotes: some parsers (kubectl's among them) read a bare Off
 * as the boolean false.
 */
export interface GuardrailsSpec {
  /**
   * Which NetworkPolicies tenants may add. WithinWorkspace (default): policies whose peers stay inside
   * the workspace (pod selectors, and namespace selectors pinned to the workspace's namespaces by
   * kubernetes.io/metadata.name or the workspace label); refused are rules without peers, empty or
   * unpinned namespace selectors, other namespaces and any ipBlock (external access comes only from
   * spec.networkPolicy.allowIngressFrom and allowEgressTo). SameNamespace: only peers in the policy's
   * own namespace. Off: no NetworkPolicy guardrail; tenant policies can widen the default deny
   * (reported in status).
   */
  networkPolicy?: NetworkPolicyGuardrail;
  /**
   * Which RoleBindings tenants may add. Strict (default): never to the broad groups
   * (system:authenticated, system:unauthenticated, system:serviceaccounts,
   * system:serviceaccounts:<namespace>, system:masters) nor to ServiceAccounts of protected namespaces;
   * bindings to named users, groups and the workspace's own ServiceAccounts stay possible. Off: no
   * RoleBinding guardrail (reported in status).
   */
  rbac?: RbacGuardrail;
  /**
   * Which Istio PeerAuthentications tenants may add. Strict (default): none weaker than
   * spec.serviceMesh.mtls (no DISABLE, and no PERMISSIVE under STRICT, port-level modes included). Off:
   * no mesh guardrail; tenant policies can weaken mTLS (reported in status).
   */
  mesh?: MeshGuardrail;
}

/** Which NetworkPolicies tenants may add (see GuardrailsSpec.networkPolicy). */
export type NetworkPolicyGuardrail = "WithinWorkspace" | "SameNamespace" | "Off";

/** Which RoleBindings tenants may add (see GuardrailsSpec.rbac). */
export type RbacGuardrail = "Strict" | "Off";

/** Which PeerAuthentications tenants may add (see GuardrailsSpec.mesh). */
export type MeshGuardrail = "Strict" | "Off";

/** What the operator observed and did; read by auditors and GitOps tools. */
export interface SecureWorkspaceStatus {
  /** The metadata.generation of the spec this status describes. */
  observedGeneration?: number;
  /**
   * Ready, Reconciling, Stalled (kstatus) and one condition per control (NetworkPolicyEnforced,
   * RBACEnforced, QuotaEnforced, PodSecurityEnforced, MeshMTLSEnforced, MeshAuthorizationEnforced).
   */
  conditions?: Condition[];
  /** The state of each namespace of the workspace. */
  namespaces?: NamespaceStatus[];
  /**
   * How many of the namespaces listed in spec.namespaces the workspace holds: created, owned or adopted
   * by it (in Audit mode also those it only reads). Not counted: a namespace it may not take (owned by
   * another workspace, a system or protected namespace, one not opted in; Ready is then False with
   * reason NamespaceConflict), one being deleted (re-created once gone), one that does not exist (Audit
   * mode never creates it), and one whose Namespace object the last pass could not create or update.
   * Holding a namespace is not holding its whole baseline there: Ready and namespaces[].ready say that.
   * Equal to the number of spec.namespaces when none is refused; recomputed from the cluster on every
   * pass (the NAMESPACES column of `kubectl get sws`).
   */
  namespaceCount?: number;
  /** How many times the operator has corrected drift since the workspace was created. */
  driftCorrections?: number;
  /** The latest drift the operator corrected. */
  lastDriftCorrection?: DriftCorrection;
  /** In Audit mode, each object or label that differs from the baseline. */
  drift?: DriftEntry[];
  /**
   * Compliance view: one entry per control (NIST SP 800-53 / ITSG-33 id) with its state, and what fails
   * when it is NonCompliant (`sws audit` derives the evidence of the others from the conditions).
   */
  controls?: ControlStatus[];
}

/** A metav1.Condition. */
export interface Condition {
  /** The condition type, e.g. Ready. */
  type: string;
  /** True, False or Unknown. */
  status: ConditionStatus;
  /** A CamelCase reason for the status, e.g. Enforced. */
  reason: string;
  /** A human-readable explanation. */
  message: string;
  /** When the status last changed. */
  lastTransitionTime: string;
  /** The metadata.generation the condition was computed from. */
  observedGeneration?: number;
}

/** A condition's status. */
export type ConditionStatus = "True" | "False" | "Unknown";

/** The state of one namespace. */
export interface NamespaceStatus {
  /** The namespace name. */
  name: string;
  /** Whether the namespace holds the whole baseline. */
  ready: boolean;
  /** How many objects the operator manages in it. */
  managedObjects: number;
  /** Why the namespace is not ready (e.g. owned by another workspace). */
  message?: string;
}

/** The latest drift the operator corrected. */
export interface DriftCorrection {
  /** When it was corrected. */
  time: string;
  /** The namespace of the corrected object. */
  namespace: string;
  /** The corrected object, as Kind/name, e.g. NetworkPolicy/sws-default-deny. */
  object: string;
}

/** One difference from the baseline. */
export interface DriftEntry {
  /** The namespace where the difference is. */
  namespace: string;
  /** The object, as Kind/name, e.g. NetworkPolicy/sws-default-deny. */
  object: string;
  /** Missing, Differs or Extra. */
  reason: DriftReason;
}

/** How an object differs from the baseline. */
export type DriftReason = "Missing" | "Differs" | "Extra";

/** One compliance control. */
export interface ControlStatus {
  /** The control id, e.g. NIST-800-53:SC-7. */
  id: string;
  /** The control title, e.g. Boundary protection. */
  title: string;
  /** Compliant, NonCompliant or NotApplicable. */
  state: ControlState;
  /** Only when NonCompliant: what fails (the failing conditions' messages, naming the objects). */
  evidence?: string;
}

/** A compliance control's state. */
export type ControlState = "Compliant" | "NonCompliant" | "NotApplicable";

/**
 * The `default:` values of the CRD's spec, nested as the spec is: what the API server fills in at
 * admission and applyDefaults (src/api/defaults.ts) fills in offline.
 */
export const SCHEMA_DEFAULTS = {
  enforcement: "Enforce",
  deletionPolicy: "Retain",
  podSecurity: { enforce: "restricted", enforceVersion: "latest" },
  networkPolicy: { defaultDeny: ["Ingress", "Egress"], allowSameNamespace: true, allowDNS: true },
  serviceMesh: { provider: "none", mtls: "STRICT", injection: true },
  guardrails: { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" },
} as const;
