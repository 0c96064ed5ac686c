/**
 * Istio objects for an owned namespace: PeerAuthentication (mTLS mode) and a DENY
 * AuthorizationPolicy that refuses every caller outside the workspace's own namespaces (plus
 * declared extras). DENY, not ALLOW: Istio evaluates DENY policies before ALLOW ones and a request
 * that any DENY matches is refused, so no tenant ALLOW policy (rules: [{}]) can widen it; an ALLOW
 * baseline would be widened by any other ALLOW. A request without a peer identity (plaintext)
 * has no source namespace, so it is refused too, as it was by the ALLOW form.
 * Linkerd is configured through namespace annotations (see namespace.ts).
 */
import { NAMES } from "../api/constants.js";
import { objectMeta, type BuildContext, type DesiredObject } from "./objects.js";

export const ISTIO_SECURITY_API = "security.istio.io/v1";

/** `sws-mtls` PeerAuthentication when the provider is istio. */
export function peerAuthentication(ctx: BuildContext, namespace: string): DesiredObject[] {
  if (ctx.spec.serviceMesh.provider !== "istio") return [];
  return [
    {
      apiVersion: ISTIO_SECURITY_API,
      kind: "PeerAuthentication",
      metadata: objectMeta(ctx, namespace, NAMES.mtls),
      spec: { mtls: { mode: ctx.spec.serviceMesh.mtls } },
    },
  ];
}

/**
 * `sws-allow-workspace` AuthorizationPolicy when istio and authorization mode WorkspaceOnly: the
 * contract's name, action DENY from `notNamespaces` = the workspace's namespaces and the declared
 * allowFromNamespaces.
 */
export function authorizationPolicy(ctx: BuildContext, namespace: string): DesiredObject[] {
  const mesh = ctx.spec.serviceMesh;
  if (mesh.provider !== "istio" || mesh.authorization.mode !== "WorkspaceOnly") return [];
  const namespaces = [
    ...new Set([...ctx.spec.namespaces.map((n) => n.name), ...mesh.authorization.allowFromNamespaces]),
  ];
  return [
    {
      apiVersion: ISTIO_SECURITY_API,
      kind: "AuthorizationPolicy",
      metadata: objectMeta(ctx, namespace, NAMES.meshAuthorization),
      spec: { action: "DENY", rules: [{ from: [{ source: { notNamespaces: namespaces } }] }] },
    },
  ];
}
