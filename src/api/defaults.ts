/**
 * Defaults from the API contract, applied in one place. The CRD sets the same defaults at
 * admission; applying them here too keeps `sws render` offline and objects stored before a
 * default existed working.
 */
import type {
  BindableRole,
  DeletionPolicy,
  EgressAllowance,
  Enforcement,
  GuardrailsSpec,
  IngressAllowance,
  MeshAuthorizationMode,
  MeshGuardrail,
  MeshProvider,
  MtlsMode,
  NetworkPolicyGuardrail,
  NetworkPolicySpec,
  PodSecurityLevel,
  PodSecuritySpec,
  PolicyDirection,
  RbacGuardrail,
  SecureWorkspaceSpec,
  ServiceMeshSpec,
  Subject,
} from "./types.js";

/** A spec with every default filled in: what the baseline functions consume. */
export interface ResolvedSpec {
  namespaces: Array<{ name: string; labels: Record<string, string>; annotations: Record<string, string> }>;
  enforcement: Enforcement;
  deletionPolicy: DeletionPolicy;
  podSecurity: {
    enforce: PodSecurityLevel;
    enforceVersion: string;
    audit: PodSecurityLevel;
    auditVersion: string;
    warn: PodSecurityLevel;
    warnVersion: string;
  };
  networkPolicy: {
    defaultDeny: PolicyDirection[];
    allowSameNamespace: boolean;
    allowDNS: boolean;
    allowIngressFrom: IngressAllowance[];
    allowEgressTo: EgressAllowance[];
  };
  rbac: { bindings: Array<{ role: BindableRole; subjects: Subject[] }> };
  resourceQuota?: { hard: Record<string, string> };
  limitRange?: {
    default?: Record<string, string>;
    defaultRequest?: Record<string, string>;
    max?: Record<string, string>;
    min?: Record<string, string>;
  };
  serviceMesh: {
    provider: MeshProvider;
    mtls: MtlsMode;
    injection: boolean;
    controlPlaneNamespace: string;
    authorization: { mode: MeshAuthorizationMode; allowFromNamespaces: string[] };
  };
  guardrails: { networkPolicy: NetworkPolicyGuardrail; rbac: RbacGuardrail; mesh: MeshGuardrail };
}

/** The contract's default control-plane namespace for each mesh. */
export function defaultControlPlaneNamespace(provider: MeshProvider): string {
  return provider === "linkerd" ? "linkerd" : "istio-system";
}

function podSecurityDefaults(ps: PodSecuritySpec = {}): ResolvedSpec["podSecurity"] {
  const enforce = ps.enforce ?? "restricted";
  const enforceVersion = ps.enforceVersion ?? "latest";
  return {
    enforce,
    enforceVersion,
    audit: ps.audit ?? enforce,
    auditVersion: ps.auditVersion ?? enforceVersion,
    warn: ps.warn ?? enforce,
    warnVersion: ps.warnVersion ?? enforceVersion,
  };
}

function networkPolicyDefaults(np: NetworkPolicySpec = {}): ResolvedSpec["networkPolicy"] {
  return {
    defaultDeny: [...new Set(np.defaultDeny ?? ["Ingress", "Egress"])].sort() as PolicyDirection[],
    allowSameNamespace: np.allowSameNamespace ?? true,
    allowDNS: np.allowDNS ?? true,
    allowIngressFrom: np.allowIngressFrom ?? [],
    allowEgressTo: np.allowEgressTo ?? [],
  };
}

function meshDefaults(mesh: ServiceMeshSpec = {}): ResolvedSpec["serviceMesh"] {
  const provider = mesh.provider ?? "none";
  return {
    provider,
    mtls: mesh.mtls ?? "STRICT",
    injection: mesh.injection ?? true,
    controlPlaneNamespace: mesh.controlPlaneNamespace ?? defaultControlPlaneNamespace(provider),
    authorization: {
      mode: mesh.authorization?.mode ?? (provider === "none" ? "Off" : "WorkspaceOnly"),
      allowFromNamespaces: mesh.authorization?.allowFromNamespaces ?? [],
    },
  };
}

/**
 * Strict unless the spec relaxes a guardrail. A stored `guardrails: null` or a field of null (a
 * client that bypassed the server's defaulting, or an object read offline) is strict too: a
 * relaxation must be written out.
 */
function guardrailDefaults(g: GuardrailsSpec = {}): ResolvedSpec["guardrails"] {
  return {
    networkPolicy: g.networkPolicy ?? "WithinWorkspace",
    rbac: g.rbac ?? "Strict",
    mesh: g.mesh ?? "Strict",
  };
}

/** Fills in every default of the contract; never mutates its input. */
export function applyDefaults(spec: SecureWorkspaceSpec): ResolvedSpec {
  const resolved: ResolvedSpec = {
    namespaces: (spec.namespaces ?? []).map((ns) => ({
      name: ns.name,
      labels: { ...(ns.labels ?? {}) },
      annotations: { ...(ns.annotations ?? {}) },
    })),
    enforcement: spec.enforcement ?? "Enforce",
    deletionPolicy: spec.deletionPolicy ?? "Retain",
    podSecurity: podSecurityDefaults(spec.podSecurity ?? {}),
    networkPolicy: networkPolicyDefaults(spec.networkPolicy ?? {}),
    rbac: {
      bindings: (spec.rbac?.bindings ?? []).map((b) => ({ role: b.role, subjects: b.subjects ?? [] })),
    },
    serviceMesh: meshDefaults(spec.serviceMesh ?? {}),
    guardrails: guardrailDefaults(spec.guardrails ?? {}),
  };
  if (spec.resourceQuota) resolved.resourceQuota = { hard: { ...spec.resourceQuota.hard } };
  if (spec.limitRange) resolved.limitRange = { ...spec.limitRange };
  return resolved;
}
