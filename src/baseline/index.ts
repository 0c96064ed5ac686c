/**
 * desiredState(): a SecureWorkspace in, the objects its namespaces must hold out.
 * Pure and deterministic: no I/O, no clock; stable order (per namespace in spec order:
 * the Namespace, then NetworkPolicies with default deny first, RBAC, quota, mesh).
 */
import { applyDefaults, type ResolvedSpec } from "../api/defaults.js";
import type { SecureWorkspace } from "../api/types.js";
import { authorizationPolicy, peerAuthentication } from "./mesh.js";
import { namespaceObject } from "./namespace.js";
import { networkPolicies } from "./networkpolicy.js";
import type { BuildContext, DesiredObject } from "./objects.js";
import { limitRange, resourceQuota } from "./quota.js";
import { roleBindings } from "./rbac.js";

export type { Control, DesiredObject } from "./objects.js";
// Which control an object belongs to is CONTROLS' to say (controls.ts); re-exported where it always was.
export { controlOf } from "./controls.js";
export { objectRef } from "./objects.js";

/** The desired objects for a workspace whose defaults are already resolved. */
export function desiredStateOf(
  workspace: { name: string; uid: string },
  spec: ResolvedSpec,
): DesiredObject[] {
  const ctx: BuildContext = { workspace, spec };
  return spec.namespaces.flatMap((ns) => [
    namespaceObject(ctx, ns),
    ...networkPolicies(ctx, ns.name),
    ...roleBindings(ctx, ns.name),
    ...resourceQuota(ctx, ns.name),
    ...limitRange(ctx, ns.name),
    ...peerAuthentication(ctx, ns.name),
    ...authorizationPolicy(ctx, ns.name),
  ]);
}

/** Every object the workspace's namespaces must hold, in apply order. */
export function desiredState(ws: SecureWorkspace): DesiredObject[] {
  return desiredStateOf({ name: ws.metadata.name, uid: ws.metadata.uid ?? "" }, applyDefaults(ws.spec));
}
