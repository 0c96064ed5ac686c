/**
 * The Namespace object as the operator applies it: only the labels and annotations it owns.
 * Server-side apply leaves every other key (a user's own labels) alone.
 * No ownerReference here on purpose: a namespace owned by the workspace would be garbage
 * collected with it, and deleting a workspace must never delete data unless asked to.
 */
import {
  ISTIO_INJECTION_LABEL,
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

/** The desired Namespace for one owned namespace entry. */
export function namespaceObject(ctx: BuildContext, ns: ResolvedSpec["namespaces"][number]): DesiredObject {
  const annotations = { ...ns.annotations, ...meshAnnotations(ctx.spec) };
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
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
    },
  };
}
