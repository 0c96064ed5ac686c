/**
 * The Namespace object as the operator applies it: only the labels and annotations it owns.
 * Server-side apply leaves every other key (a user's own labels) alone.
 * No ownerReference here on purpose: a namespace owned by the workspace would be garbage
 * collected with it, and deleting a workspace must never delete data unless asked to.
 */
import {
  GUARDRAIL_MESH_ANNOTATION,
  GUARDRAIL_NETWORK_POLICY_ANNOTATION,
  GUARDRAIL_RBAC_ANNOTATION,
  ISTIO_INJECTION_LABEL,
  MESH_MTLS_ANNOTATION,
  WORKSPACE_NAMESPACES_ANNOTATION,
  LINKERD_INBOUND_POLICY_ANNOTATION,
  LINKERD_INJECT_ANNOTATION,
} from "../api/constants.js";
import type { ResolvedSpec } from "../api/defaults.js";
import { managedLabels, type BuildContext, type DesiredObject } from "./objects.js";
import { podSecurityLabels } from "./podsecurity.js";

/** Mesh-related namespace labels (Istio injection). */
export function meshLabels(spec: ResolvedSpec): Record<string, string> {
  const mesh = spec.serviceMesh;
  if (mesh.provider !== "istio") return {};
  return { [ISTIO_INJECTION_LABEL]: mesh.injection ? "enabled" : "disabled" };
}

/** Mesh-related namespace annotations (Linkerd injection and inbound policy). */
export function meshAnnotations(spec: ResolvedSpec): Record<string, string> {
  const mesh = spec.serviceMesh;
  if (mesh.provider !== "linkerd") return {};
  return {
    [LINKERD_INJECT_ANNOTATION]: mesh.injection ? "enabled" : "disabled",
    [LINKERD_INBOUND_POLICY_ANNOTATION]: mesh.mtls === "STRICT" ? "all-authenticated" : "all-unauthenticated",
  };
}

/**
 * What the tenant guardrails (config/guardrails-policy.yaml, a ValidatingAdmissionPolicy) read from
 * the request's namespace: the workspace's namespaces, each guardrail's mode, and the Istio mTLS
 * mode. Reserved to the operator at admission like every `secureworkspace.io/` annotation.
 */
export function guardrailAnnotations(spec: ResolvedSpec): Record<string, string> {
  const names = [...new Set(spec.namespaces.map((n) => n.name))].sort();
  return {
    [WORKSPACE_NAMESPACES_ANNOTATION]: names.join(","),
    [GUARDRAIL_NETWORK_POLICY_ANNOTATION]: spec.guardrails.networkPolicy,
    [GUARDRAIL_RBAC_ANNOTATION]: spec.guardrails.rbac,
    [GUARDRAIL_MESH_ANNOTATION]: spec.guardrails.mesh,
    ...(spec.serviceMesh.provider === "istio" ? { [MESH_MTLS_ANNOTATION]: spec.serviceMesh.mtls } : {}),
  };
}

/** The desired Namespace for one owned namespace entry. */
export function namespaceObject(ctx: BuildContext, ns: ResolvedSpec["namespaces"][number]): DesiredObject {
  const annotations = { ...ns.annotations, ...meshAnnotations(ctx.spec), ...guardrailAnnotations(ctx.spec) };
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: ns.name,
      // Operator keys last: a user label can never override them (validation refuses them anyway).
      labels: {
        ...ns.labels,
        ...podSecurityLabels(ctx.spec),
        ...meshLabels(ctx.spec),
        ...managedLabels(ctx.workspace.name),
      },
      annotations,
    },
  };
}
