/** ResourceQuota and LimitRange (container defaults and bounds) for an owned namespace. */
import { NAMES } from "../api/constants.js";
import { objectMeta, type BuildContext, type DesiredObject } from "./objects.js";

/** `sws-quota` when the spec sets resourceQuota. */
export function resourceQuota(ctx: BuildContext, namespace: string): DesiredObject[] {
  const quota = ctx.spec.resourceQuota;
  if (!quota || Object.keys(quota.hard).length === 0) return [];
  return [
    {
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: objectMeta(ctx, namespace, NAMES.quota),
      spec: { hard: { ...quota.hard } },
    },
  ];
}

/** `sws-limits` (one Container limit) when the spec sets limitRange. */
export function limitRange(ctx: BuildContext, namespace: string): DesiredObject[] {
  const lr = ctx.spec.limitRange;
  if (!lr) return [];
  const limit: Record<string, unknown> = { type: "Container" };
  for (const field of ["default", "defaultRequest", "max", "min"] as const) {
    const value = lr[field];
    if (value && Object.keys(value).length > 0) limit[field] = { ...value };
  }
  if (Object.keys(limit).length === 1) return [];
  return [
    {
      apiVersion: "v1",
      kind: "LimitRange",
      metadata: objectMeta(ctx, namespace, NAMES.limits),
      spec: { limits: [limit] },
    },
  ];
}
