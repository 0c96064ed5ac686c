/**
 * The compliance view: which NIST SP 800-53 controls each baseline control evidences.
 * Pure data, read by status (controls[]) and by `sws audit`.
 */
import type { Control } from "./objects.js";

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
