/**
 * Defaults from the API contract, applied in one place. The CRD sets the same defaults at
 * admission; applying them here too keeps `sws render` offline and objects stored before a
 * default existed working. The values the schema declares are read from SCHEMA_DEFAULTS (generated
 * from the CRD), so the CRD is their one owner; only the defaults a schema cannot express (one field
 * defaulting to another, or depending on the mesh provider) are written here.
 */
import { SCHEMA_DEFAULTS } from "./generated.js";
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
  const enforce = ps.enforce ?? SCHEMA_DEFAULTS.podSecurity.enforce;
  const enforceVersion = ps.enforceVersion ?? SCHEMA_DEFAULTS.podSecurity.enforceVersion;
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
    defaultDeny: [...new Set(np.defaultDeny ?? SCHEMA_DEFAULTS.networkPolicy.defaultDeny)].sort(),
    allowSameNamespace: np.allowSameNamespace ?? SCHEMA_DEFAULTS.networkPolicy.allowSameNamespace,
    allowDNS: np.allowDNS ?? SCHEMA_DEFAULTS.networkPolicy.allowDNS,
    allowIngressFrom: np.allowIngressFrom ?? [],
    allowEgressTo: np.allowEgressTo ?? [],
  };
}

function meshDefaults(mesh: ServiceMeshSpec = {}): ResolvedSpec["serviceMesh"] {
  const provider = mesh.provider ?? SCHEMA_DEFAULTS.serviceMesh.provider;
  return {
    provider,
    mtls: mesh.mtls ?? SCHEMA_DEFAULTS.serviceMesh.mtls,
    injection: mesh.injection ?? SCHEMA_DEFAULTS.serviceMesh.injection,
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
    networkPolicy: g.networkPolicy ?? SCHEMA_DEFAULTS.guardrails.networkPolicy,
    rbac: g.rbac ?? SCHEMA_DEFAULTS.guardrails.rbac,
    mesh: g.mesh ?? SCHEMA_DEFAULTS.guardrails.mesh,
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
    enforcement: spec.enforcement ?? SCHEMA_DEFAULTS.enforcement,
    deletionPolicy: spec.deletionPolicy ?? SCHEMA_DEFAULTS.deletionPolicy,
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
