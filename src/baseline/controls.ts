/**
 * The compliance view: which NIST SP 800-53 controls each baseline control evidences.
 * Pure data, read by status (controls[]) and by `sws audit`.
 */
import type { Condition, ControlStatus, SecureWorkspace } from "../api/types.js";
import { controlOf, desiredState } from "./index.js";
import { objectRef, type Control, type DesiredObject } from "./objects.js";

/** One catalogue control and the baseline controls that evidence it. */
export interface ControlMapping {
  readonly id: string;
  readonly title: string;
  readonly evidencedBy: readonly Control[];
}

/** NIST SP 800-53 (also ITSG-33) ids as the contract maps them. */
export const CONTROL_CATALOGUE: readonly ControlMapping[] = [
  { id: "NIST-800-53:SC-7", title: "Boundary Protection", evidencedBy: ["networkPolicy"] },
  {
    id: "NIST-800-53:AC-4",
    title: "Information Flow Enforcement",
    evidencedBy: ["networkPolicy", "meshAuthorization"],
  },
  { id: "NIST-800-53:AC-3", title: "Access Enforcement", evidencedBy: ["rbac"] },
  { id: "NIST-800-53:AC-6", title: "Least Privilege", evidencedBy: ["rbac"] },
  { id: "NIST-800-53:AC-5", title: "Separation of Duties", evidencedBy: ["rbac"] },
  { id: "NIST-800-53:SC-6", title: "Resource Availability", evidencedBy: ["quota"] },
  { id: "NIST-800-53:CM-7", title: "Least Functionality", evidencedBy: ["podSecurity"] },
  { id: "NIST-800-53:CM-6", title: "Configuration Settings", evidencedBy: ["podSecurity"] },
  { id: "NIST-800-53:SC-8", title: "Transmission Confidentiality and Integrity", evidencedBy: ["meshMTLS"] },
  { id: "NIST-800-53:IA-9", title: "Service Identification and Authentication", evidencedBy: ["meshMTLS"] },
] as const;

/** The status condition type for each control. */
export const CONDITION_OF_CONTROL: Record<Exclude<Control, "namespace">, string> = {
  networkPolicy: "NetworkPolicyEnforced",
  rbac: "RBACEnforced",
  quota: "QuotaEnforced",
  podSecurity: "PodSecurityEnforced",
  meshMTLS: "MeshMTLSEnforced",
  meshAuthorization: "MeshAuthorizationEnforced",
};

/** SI-4, which the operator meets by running: it watches every managed object. */
export const MONITORING_CONTROL = { id: "NIST-800-53:SI-4", title: "System Monitoring" } as const;

/** CM-3, met in Enforce mode (drift is reverted and recorded), not applicable in Audit mode. */
export const CHANGE_CONTROL = { id: "NIST-800-53:CM-3", title: "Configuration Change Control" } as const;

/**
 * The evidence of a control as `sws audit` shows it: status's own (written only for a NonCompliant
 * control) or, for a Compliant or NotApplicable one, what shows its state: the baseline objects
 * that evidence it, derived from the workspace's spec as the operator derives them (or, when the
 * spec cannot be rendered, the conditions' messages). Pure.
 */
export function derivedEvidence(control: ControlStatus, ws: SecureWorkspace): string {
  if (control.evidence !== undefined && control.evidence !== "") return control.evidence;
  if (control.id === MONITORING_CONTROL.id)
    return "watches every managed object; drift is reported in status and Events";
  if (control.id === CHANGE_CONTROL.id)
    return control.state === "Compliant"
      ? `unauthorised changes are reverted and recorded as Events (driftCorrections: ${String(ws.status?.driftCorrections ?? 0)})`
      : "enforcement: Audit (changes are reported, not reverted)";
  if (control.state === "NotApplicable") return "not requested by the spec";
  const evidencedBy = CONTROL_CATALOGUE.find((c) => c.id === control.id)?.evidencedBy ?? [];
  return evidenceObjects(ws, evidencedBy) ?? conditionMessages(ws.status?.conditions ?? [], evidencedBy);
}

/** `NetworkPolicy/sws-default-deny, ...` (once per name across namespaces); undefined if the spec does not render. */
function evidenceObjects(ws: SecureWorkspace, evidencedBy: readonly Control[]): string | undefined {
  let desired: DesiredObject[];
  try {
    desired = desiredState(ws);
  } catch {
    return undefined;
  }
  const names = desired
    .filter((d) => evidencedBy.includes(controlOf(d)))
    .map((d) => (d.kind === "Namespace" ? "Namespace labels" : objectRef(d)));
  return [...new Set(names)].join(", ") || undefined;
}

function conditionMessages(conditions: readonly Condition[], evidencedBy: readonly Control[]): string {
  const types = evidencedBy.map((ctl) => CONDITION_OF_CONTROL[ctl as Exclude<Control, "namespace">]);
  return conditions
    .filter((c) => types.includes(c.type))
    .map((c) => `${c.type}: ${c.message}`)
    .join("; ");
}
