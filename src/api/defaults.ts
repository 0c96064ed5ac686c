/**
 * Defaults from the API contract, applied in one place. The CRD sets the same defaults at
 * admission; applying them here too keeps `sws render` offline and objects stored before a
 * default existed working. The values the schema declares are read from SCHEMA_DEFAULTS (generated
 * from the CRD), so the CRD is their one owner; only the defaults a schema cannot express (one field
 * defaulting to another, or depending on the mesh provider) are written here.
 */
import { SCHEMA_DEFAULTS } from "./generated.js";
import type {
  DeletionPolicy,
  Enforcement,
  GuardrailsSpec,
  LimitRangeSpec,
  MeshAuthorizationSpec,
  MeshProvider,
  NetworkPolicySpec,
  PodSecuritySpec,
  RbacSpec,
  ResourceQuotaSpec,
  SecureWorkspaceSpec,
  ServiceMeshSpec,
  WorkspaceNamespace,
} from "./types.js";

/**
 * A spec with every default filled in: what the baseline functions consume. Built from the types
 * generated from the CRD with every optional field made required, so a field the CRD gains in a
 * section fails `tsc` in that section's *Defaults function below until it is resolved (the
 * functions build new objects: a field they do not name would otherwise be dropped silently).
 * Only quota and limits stay optional: omitted, there is none.
 */
export interface ResolvedSpec {
  namespaces: Array<Required<WorkspaceNamespace>>;
  enforcement: Enforcement;
  deletionPolicy: DeletionPolicy;
  podSecurity: Required<PodSecuritySpec>;
  networkPolicy: Required<NetworkPolicySpec>;
  rbac: Required<RbacSpec>;
  resourceQuota?: ResourceQuotaSpec;
  limitRange?: LimitRangeSpec;
  serviceMesh: Required<Omit<ServiceMeshSpec, "authorization">> & {
    authorization: Required<MeshAuthorizationSpec>;
  };
  guardrails: Required<GuardrailsSpec>;
}

/** `true` when A and B have the same keys, else `false`. */
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;

/**
 * Compile-time proof that ResolvedSpec has a field for every section of the spec: a section the
 * CRD gains makes this `false`, which `tsc` refuses, until applyDefaults resolves it.
 */
export type EverySectionResolved<T extends true = SameKeys<ResolvedSpec, SecureWorkspaceSpec>> = T;

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
