/**
 * RoleBindings to the built-in admin/edit/view ClusterRoles only. The role name comes from a
 * closed set checked here again, so no spec (even one that skipped admission) can bind more.
 */
import type { BindableRole, Subject } from "../api/types.js";
import { objectMeta, type BuildContext, type DesiredObject } from "./objects.js";

/** The only ClusterRoles a workspace binds. */
export const BINDABLE_ROLES: readonly BindableRole[] = ["admin", "edit", "view"];

function subjectOf(s: Subject): Record<string, string> {
  if (s.kind === "ServiceAccount")
    return { kind: "ServiceAccount", name: s.name, namespace: s.namespace ?? "" };
  return { kind: s.kind, apiGroup: "rbac.authorization.k8s.io", name: s.name };
}

/** One RoleBinding `sws-<role>-<n>` per binding entry, n its index in spec.rbac.bindings. */
export function roleBindings(ctx: BuildContext, namespace: string): DesiredObject[] {
  return ctx.spec.rbac.bindings.flatMap((binding, index) => {
    if (!BINDABLE_ROLES.includes(binding.role)) return [];
    return [
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: objectMeta(ctx, namespace, `sws-${binding.role}-${index}`),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: binding.role },
        subjects: binding.subjects.map(subjectOf),
      },
    ];
  });
}
