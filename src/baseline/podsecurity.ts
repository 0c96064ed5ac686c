/** Pod Security Admission labels for an owned namespace. */
import { PSA_PREFIX } from "../api/constants.js";
import type { ResolvedSpec } from "../api/defaults.js";

/** The six pod-security.kubernetes.io labels (enforce, audit, warn and their versions). */
export function podSecurityLabels(spec: ResolvedSpec): Record<string, string> {
  const ps = spec.podSecurity;
  return {
    [`${PSA_PREFIX}enforce`]: ps.enforce,
    [`${PSA_PREFIX}enforce-version`]: ps.enforceVersion,
    [`${PSA_PREFIX}audit`]: ps.audit,
    [`${PSA_PREFIX}audit-version`]: ps.auditVersion,
    [`${PSA_PREFIX}warn`]: ps.warn,
    [`${PSA_PREFIX}warn-version`]: ps.warnVersion,
  };
}
