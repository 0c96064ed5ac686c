/**
 * CONTROLS (src/baseline/controls.ts) is the one descriptor per control; these tests pin what is
 * derived from it and prove equal the places that do not read it yet: the controller's exactly
 * compared fields (src/controller/diff.ts), status's words for a control's objects
 * (src/controller/status.ts) and the CRD's description of status.conditions.
 */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import { loadCrdSchema } from "../../../src/api/schema.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import {
  BASELINE_CONTROLS,
  CONDITION_OF_CONTROL,
  CONTROL_CATALOGUE,
  CONTROLS,
  controlOf,
  exactFieldsOf,
  NIST_TITLES,
} from "../../../src/baseline/controls.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import { inSync, type ObservedObject } from "../../../src/controller/diff.js";
import { computeStatus } from "../../../src/controller/status.js";

/** A spec that asks for an object of every control. */
const FULL: SecureWorkspaceSpec = {
  namespaces: [{ name: "team-a-dev" }],
  rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team-a" }] }] },
  resourceQuota: { hard: { pods: "10" } },
  limitRange: { default: { cpu: "500m" } },
  serviceMesh: { provider: "istio" },
};
const WORKSPACE = { name: "team-a", uid: "uid-team-a" };

function desiredOf(spec: SecureWorkspaceSpec): DesiredObject[] {
  return desiredStateOf(WORKSPACE, applyDefaults(spec));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The observed object with one key nobody asked for added inside the top-level field `field` (in
 * the field itself, or in a list's first item); undefined when the field holds no object to add to.
 */
function withExtraKey(obj: DesiredObject, field: string): ObservedObject | undefined {
  const copy = structuredClone(obj) as Record<string, unknown>;
  const value = copy[field];
  const target = Array.isArray(value) ? (value as unknown[])[0] : value;
  if (!isRecord(target)) return undefined;
  target["addedBySomeoneElse"] = { x: "1" };
  return copy;
}

describe("CONTROLS, the one descriptor per control", () => {
  it("derives the catalogue status writes (ids, titles and evidencing controls, in order)", () => {
    expect(CONTROL_CATALOGUE).to.deep.equal([
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
      {
        id: "NIST-800-53:SC-8",
        title: "Transmission Confidentiality and Integrity",
        evidencedBy: ["meshMTLS"],
      },
      {
        id: "NIST-800-53:IA-9",
        title: "Service Identification and Authentication",
        evidencedBy: ["meshMTLS"],
      },
    ]);
  });

  it("derives the condition of each control", () => {
    expect(CONDITION_OF_CONTROL).to.deep.equal({
      networkPolicy: "NetworkPolicyEnforced",
      rbac: "RBACEnforced",
      quota: "QuotaEnforced",
      podSecurity: "PodSecurityEnforced",
      meshMTLS: "MeshMTLSEnforced",
      meshAuthorization: "MeshAuthorizationEnforced",
    });
  });

  it("gives every kind one control, and every NIST title a use", () => {
    const kinds = BASELINE_CONTROLS.flatMap((c) => Object.keys(CONTROLS[c].kinds));
    expect(kinds).to.have.lengthOf(new Set(kinds).size);
    const used = new Set([
      ...BASELINE_CONTROLS.flatMap((c) => CONTROLS[c].nist),
      "SI-4", // MONITORING_CONTROL
      "CM-3", // CHANGE_CONTROL
    ]);
    expect([...used].sort()).to.deep.equal(Object.keys(NIST_TITLES).sort());
  });

  it("lists every kind the baseline writes (none falls through to 'namespace')", () => {
    const desired = desiredOf(FULL);
    const kinds = [...new Set(desired.map((d) => d.kind))].sort();
    expect(kinds).to.deep.equal([
      "AuthorizationPolicy",
      "LimitRange",
      "Namespace",
      "NetworkPolicy",
      "PeerAuthentication",
      "ResourceQuota",
      "RoleBinding",
    ]);
    for (const d of desired) expect(controlOf(d), d.kind).not.to.equal("namespace");
    expect(controlOf({ apiVersion: "v1", kind: "ConfigMap" })).to.equal("namespace");
  });

  it("names the fields the controller compares exactly: a key added there is drift, elsewhere it is not", () => {
    const checked: string[] = [];
    for (const desired of desiredOf(FULL)) {
      const exact = exactFieldsOf(desired.kind);
      for (const field of Object.keys(desired).filter(
        (k) => !["apiVersion", "kind", "metadata"].includes(k),
      )) {
        const observed = withExtraKey(desired, field);
        if (!observed) continue;
        checked.push(`${desired.kind}.${field}`);
        expect(inSync(desired, observed), `${desired.kind}.${field} with a key added`).to.equal(
          !exact.includes(field),
        );
      }
      // Every exactly compared field exists on the object (the descriptor names no stale field).
      for (const field of exact) expect(desired, `${desired.kind}.${field}`).to.have.property(field);
    }
    expect([...new Set(checked)].sort()).to.include.members([
      "AuthorizationPolicy.spec",
      "LimitRange.spec",
      "NetworkPolicy.spec",
      "PeerAuthentication.spec",
      "ResourceQuota.spec",
      "RoleBinding.roleRef",
      "RoleBinding.subjects",
    ]);
  });

  it("names each control's objects as status does", () => {
    const resolved = applyDefaults(FULL);
    const status = computeStatus({
      generation: 1,
      now: "2025-01-01T00:00:00Z",
      previous: undefined,
      spec: resolved,
      desired: desiredStateOf(WORKSPACE, resolved),
    });
    for (const c of BASELINE_CONTROLS) {
      const message = status.conditions?.find((x) => x.type === CONTROLS[c].condition)?.message;
      expect(message, c).to.equal(`${CONTROLS[c].objects} in place in 1/1 namespaces`);
    }
    const minimal = applyDefaults({ namespaces: [{ name: "team-a-dev" }] });
    const empty = computeStatus({
      generation: 1,
      now: "2025-01-01T00:00:00Z",
      previous: undefined,
      spec: minimal,
      desired: desiredStateOf(WORKSPACE, minimal),
    });
    for (const c of ["rbac", "quota"] as const)
      expect(empty.conditions?.find((x) => x.type === CONTROLS[c].condition)?.message).to.equal(
        `no ${CONTROLS[c].objects} requested`,
      );
  });

  it("names every condition in the CRD's description of status.conditions", () => {
    const description = loadCrdSchema().properties?.["status"]?.properties?.["conditions"]?.description ?? "";
    for (const c of BASELINE_CONTROLS) expect(description).to.contain(CONTROLS[c].condition);
  });
});
