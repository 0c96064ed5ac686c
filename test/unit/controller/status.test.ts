/**
 * Status as users and auditors read it (src/controller/status.ts): kstatus conditions, per-control
 * conditions, namespaces, drift and the compliance controls, without lastTransitionTime churn.
 */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults, type ResolvedSpec } from "../../../src/api/defaults.js";
import type {
  Condition,
  ControlStatus,
  SecureWorkspaceSpec,
  SecureWorkspaceStatus,
} from "../../../src/api/types.js";
import { derivedEvidence } from "../../../src/baseline/evidence.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import type { PlannedApply } from "../../../src/controller/diff.js";
import {
  computeStatus,
  guardrailsCondition,
  setCondition,
  statusChanged,
  type ReconcileOutcome,
  type WriteFailure,
} from "../../../src/controller/status.js";

const T0 = "2025-01-01T00:00:00Z";
const T1 = "2025-01-01T00:05:00Z";
const T2 = "2025-01-01T00:10:00Z";
const WORKSPACE = { name: "team-a", uid: "uid-team-a" };

function outcome(spec: SecureWorkspaceSpec, extra: Partial<ReconcileOutcome> = {}): ReconcileOutcome {
  const resolved: ResolvedSpec = applyDefaults(spec);
  return {
    generation: 3,
    now: T0,
    previous: undefined,
    spec: resolved,
    desired: desiredStateOf(WORKSPACE, resolved),
    ...extra,
  };
}

const condition = (status: SecureWorkspaceStatus, type: string): Condition | undefined =>
  status.conditions?.find((c) => c.type === type);
const brief = (c: Condition | undefined): [string, string, string] | undefined =>
  c && [c.type, c.status, c.reason];
const control = (status: SecureWorkspaceStatus, id: string): ControlStatus | undefined =>
  status.controls?.find((c) => c.id === id);
/** The evidence `sws audit` shows for a control of a workspace with `spec` and `status`. */
const shown = (status: SecureWorkspaceStatus, spec: SecureWorkspaceSpec, id: string): string | undefined => {
  const c = control(status, id);
  return (
    c &&
    derivedEvidence(c, {
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: WORKSPACE.name, uid: WORKSPACE.uid },
      spec,
      status,
    })
  );
};

function find(desired: readonly DesiredObject[] | undefined, kind: string, name: string): DesiredObject {
  const found = desired?.find((d) => d.kind === kind && d.metadata.name === name);
  if (!found) throw new Error(`no desired ${kind}/${name}`);
  return found;
}

const MINIMAL: SecureWorkspaceSpec = { namespaces: [{ name: "team-a-dev" }] };

describe("setCondition", () => {
  const ready = (status: "True" | "False", message: string) => ({
    type: "Ready",
    status,
    reason: status === "True" ? "Enforced" : "NamespaceConflict",
    message,
  });

  it("adds a new condition with the current time and generation", () => {
    expect(setCondition([], ready("True", "1/1"), 2, T0)).to.deep.equal([
      {
        type: "Ready",
        status: "True",
        reason: "Enforced",
        message: "1/1",
        lastTransitionTime: T0,
        observedGeneration: 2,
      },
    ]);
  });

  it("keeps lastTransitionTime when the status is unchanged, even if the message changes", () => {
    const list = setCondition([], ready("True", "1/1"), 2, T0);
    expect(setCondition(list, ready("True", "2/2"), 3, T1)).to.deep.equal([
      {
        type: "Ready",
        status: "True",
        reason: "Enforced",
        message: "2/2",
        lastTransitionTime: T0,
        observedGeneration: 3,
      },
    ]);
  });

  it("moves lastTransitionTime when the status changes", () => {
    const list = setCondition([], ready("True", "1/1"), 2, T0);
    const next = setCondition(list, ready("False", "conflict"), 2, T1);
    expect(next[0]).to.include({ status: "False", reason: "NamespaceConflict", lastTransitionTime: T1 });
  });

  it("replaces the condition in place, leaving the others and the input list alone", () => {
    const other: Condition = {
      type: "Stalled",
      status: "False",
      reason: "Progressing",
      message: "",
      lastTransitionTime: T0,
    };
    const list = [...setCondition([], ready("True", "1/1"), 1, T0), other];
    const before = structuredClone(list);
    const next = setCondition(list, ready("False", "x"), 2, T1);
    expect(next.map((c) => c.type)).to.deep.equal(["Ready", "Stalled"]);
    expect(next[1]).to.equal(other);
    expect(list).to.deep.equal(before);
  });

  it("gives an identical list for an identical input: no status write", () => {
    const list = setCondition([], ready("True", "1/1"), 2, T0);
    expect(setCondition(list, ready("True", "1/1"), 2, T1)).to.deep.equal(list);
  });
});

describe("computeStatus", () => {
  it("reports a minimal enforced workspace as Ready, with every control condition", () => {
    const status = computeStatus(outcome(MINIMAL));
    const at = { lastTransitionTime: T0, observedGeneration: 3 };
    expect(status.observedGeneration).to.equal(3);
    expect(status.conditions).to.deep.equal([
      {
        type: "Ready",
        status: "True",
        reason: "Enforced",
        message: "1/1 namespaces hold the baseline",
        ...at,
      },
      { type: "Reconciling", status: "False", reason: "ReconcileSucceeded", message: "", ...at },
      { type: "Stalled", status: "False", reason: "Progressing", message: "", ...at },
      {
        type: "NetworkPolicyEnforced",
        status: "True",
        reason: "Enforced",
        message: "NetworkPolicies in place in 1/1 namespaces",
        ...at,
      },
      {
        type: "RBACEnforced",
        status: "True",
        reason: "NotRequested",
        message: "no RoleBindings requested",
        ...at,
      },
      {
        type: "QuotaEnforced",
        status: "True",
        reason: "NotRequested",
        message: "no ResourceQuota/LimitRange requested",
        ...at,
      },
      {
        type: "PodSecurityEnforced",
        status: "True",
        reason: "Enforced",
        message: "Pod Security labels in place in 1/1 namespaces",
        ...at,
      },
      {
        type: "MeshMTLSEnforced",
        status: "True",
        reason: "NotRequested",
        message: "no service mesh requested",
        ...at,
      },
      {
        type: "MeshAuthorizationEnforced",
        status: "True",
        reason: "NotRequested",
        message: "no service mesh requested",
        ...at,
      },
      {
        type: "TenantGuardrails",
        status: "True",
        reason: "Enforced",
        message:
          "tenants may only add objects that stay inside the workspace (networkPolicy: WithinWorkspace, rbac: Strict, mesh: Strict)",
        ...at,
      },
    ]);
    expect(status.namespaces).to.deep.equal([{ name: "team-a-dev", ready: true, managedObjects: 3 }]);
    expect(status.namespaceCount).to.equal(1);
    expect(status.driftCorrections).to.equal(0);
    expect(status).to.not.have.property("drift");
    expect(status).to.not.have.property("lastDriftCorrection");
  });

  it("lists the compliance controls with their states, and no evidence where they comply", () => {
    const status = computeStatus(outcome(MINIMAL));
    const notRequested = { state: "NotApplicable" };
    expect(status.controls).to.deep.equal([
      { id: "NIST-800-53:SC-7", title: "Boundary Protection", state: "Compliant" },
      { id: "NIST-800-53:AC-4", title: "Information Flow Enforcement", state: "Compliant" },
      { id: "NIST-800-53:AC-3", title: "Access Enforcement", ...notRequested },
      { id: "NIST-800-53:AC-6", title: "Least Privilege", ...notRequested },
      { id: "NIST-800-53:AC-5", title: "Separation of Duties", ...notRequested },
      { id: "NIST-800-53:SC-6", title: "Resource Availability", ...notRequested },
      { id: "NIST-800-53:CM-7", title: "Least Functionality", state: "Compliant" },
      { id: "NIST-800-53:CM-6", title: "Configuration Settings", state: "Compliant" },
      { id: "NIST-800-53:SC-8", title: "Transmission Confidentiality and Integrity", ...notRequested },
      { id: "NIST-800-53:IA-9", title: "Service Identification and Authentication", ...notRequested },
      { id: "NIST-800-53:SI-4", title: "System Monitoring", state: "Compliant" },
      { id: "NIST-800-53:CM-3", title: "Configuration Change Control", state: "Compliant" },
    ]);
  });

  it("derives the evidence sws audit shows for complying controls: the objects, as status used to carry them", () => {
    const status = computeStatus(outcome(MINIMAL));
    const policies =
      "NetworkPolicy/sws-default-deny, NetworkPolicy/sws-allow-same-namespace, NetworkPolicy/sws-allow-dns";
    expect(shown(status, MINIMAL, "NIST-800-53:SC-7")).to.equal(policies);
    expect(shown(status, MINIMAL, "NIST-800-53:AC-4")).to.equal(policies);
    expect(shown(status, MINIMAL, "NIST-800-53:AC-3")).to.equal("not requested by the spec");
    expect(shown(status, MINIMAL, "NIST-800-53:CM-7")).to.equal("Namespace labels");
    expect(shown(status, MINIMAL, "NIST-800-53:SI-4")).to.equal(
      "watches every managed object; drift is reported in status and Events",
    );
    expect(shown(status, MINIMAL, "NIST-800-53:CM-3")).to.equal(
      "unauthorised changes are reverted and recorded as Events (driftCorrections: 0)",
    );
  });

  it("writes evidence into status only for NonCompliant controls, for any outcome", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<SecureWorkspaceSpec>(MINIMAL, { ...MINIMAL, enforcement: "Audit" }),
        fc.boolean(),
        (spec, drifted) => {
          const o = outcome(spec);
          const deny = find(o.desired, "NetworkPolicy", "sws-default-deny");
          const status = computeStatus(
            drifted ? { ...o, pending: [{ object: deny, reason: "Differs", drift: true }] } : o,
          );
          for (const c of status.controls ?? [])
            expect(c.evidence !== undefined).to.equal(c.state === "NonCompliant");
        },
      ),
    );
  });

  it("marks RBAC and quota controls Compliant, naming the objects, when the spec asks for them", () => {
    const spec: SecureWorkspaceSpec = {
      ...MINIMAL,
      rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "auditors" }] }] },
      resourceQuota: { hard: { pods: "10" } },
      limitRange: { max: { cpu: "2" } },
    };
    const status = computeStatus(outcome(spec));
    expect(control(status, "NIST-800-53:AC-3")?.state).to.equal("Compliant");
    expect(control(status, "NIST-800-53:SC-6")?.state).to.equal("Compliant");
    expect(shown(status, spec, "NIST-800-53:AC-3")).to.equal("RoleBinding/sws-view-0");
    expect(shown(status, spec, "NIST-800-53:SC-6")).to.equal(
      "ResourceQuota/sws-quota, LimitRange/sws-limits",
    );
    expect(brief(condition(status, "QuotaEnforced"))).to.deep.equal(["QuotaEnforced", "True", "Enforced"]);
  });

  it("reports a namespace owned by another workspace as a Stalled conflict", () => {
    const o = outcome(
      { namespaces: [{ name: "team-a-dev" }, { name: "shared" }] },
      {
        conflicts: [
          {
            namespace: "shared",
            reason: "OwnedByAnotherWorkspace",
            message: 'namespace "shared" belongs to workspace team-b',
          },
        ],
      },
    );
    const status = computeStatus({
      ...o,
      desired: o.desired?.filter((d) => (d.metadata.namespace ?? d.metadata.name) !== "shared"),
    });
    expect(condition(status, "Ready")).to.deep.include({
      status: "False",
      reason: "NamespaceConflict",
      message: '1/2 namespaces hold the baseline; namespace "shared" belongs to workspace team-b',
    });
    expect(brief(condition(status, "Reconciling"))).to.deep.equal([
      "Reconciling",
      "False",
      "NamespaceConflict",
    ]);
    expect(condition(status, "Stalled")).to.deep.include({
      status: "True",
      reason: "NamespaceConflict",
      message: 'namespace "shared" belongs to workspace team-b',
    });
    expect(condition(status, "NetworkPolicyEnforced")).to.deep.include({
      status: "False",
      reason: "NamespaceConflict",
      message: "NetworkPolicies in place in 1/2 namespaces",
    });
    expect(status.namespaces).to.deep.equal([
      { name: "team-a-dev", ready: true, managedObjects: 3 },
      {
        name: "shared",
        ready: false,
        managedObjects: 0,
        message: 'namespace "shared" belongs to workspace team-b',
      },
    ]);
    expect(status.namespaceCount, "the refused namespace is not held").to.equal(1);
    expect(control(status, "NIST-800-53:SC-7")?.state).to.equal("NonCompliant");
  });

  it("reports an invalid spec as Stalled with every problem, and keeps the rest of the previous status", () => {
    const previous = computeStatus(outcome(MINIMAL));
    const status = computeStatus({
      generation: 4,
      now: T1,
      previous,
      invalid: [
        { path: "spec.namespaces[1].name", message: 'duplicate namespace "a"' },
        { path: "spec.resourceQuota.hard[pods]", message: '"many" is not a valid quantity' },
      ],
    });
    const problems =
      'spec.namespaces[1].name: duplicate namespace "a"; spec.resourceQuota.hard[pods]: "many" is not a valid quantity';
    expect(status.observedGeneration).to.equal(4);
    expect(condition(status, "Ready")).to.deep.equal({
      type: "Ready",
      status: "False",
      reason: "InvalidSpec",
      message: `nothing was changed: ${problems}`,
      lastTransitionTime: T1,
      observedGeneration: 4,
    });
    expect(brief(condition(status, "Reconciling"))).to.deep.equal(["Reconciling", "False", "InvalidSpec"]);
    expect(condition(status, "Stalled")).to.deep.include({
      status: "True",
      reason: "InvalidSpec",
      message: problems,
      lastTransitionTime: T1,
    });
    expect(status.namespaces).to.deep.equal(previous.namespaces);
    expect(status.namespaceCount).to.equal(previous.namespaceCount);
    expect(status.controls).to.deep.equal(previous.controls);
  });

  it("needs the resolved spec for a valid outcome", () => {
    expect(() => computeStatus({ generation: 1, now: T0, previous: undefined })).to.throw(/resolved spec/);
  });

  it("reports MeshNotInstalled when Istio is asked for and its security API is not served", () => {
    const status = computeStatus(
      outcome({ ...MINIMAL, serviceMesh: { provider: "istio" } }, { meshInstalled: false }),
    );
    expect(condition(status, "Ready")).to.deep.include({ status: "False", reason: "MeshNotInstalled" });
    expect(brief(condition(status, "Reconciling"))).to.deep.equal(["Reconciling", "True", "WaitingForMesh"]);
    expect(brief(condition(status, "Stalled"))).to.deep.equal(["Stalled", "False", "Progressing"]);
    expect(brief(condition(status, "MeshMTLSEnforced"))).to.deep.equal([
      "MeshMTLSEnforced",
      "False",
      "MeshNotInstalled",
    ]);
    expect(brief(condition(status, "MeshAuthorizationEnforced"))).to.deep.equal([
      "MeshAuthorizationEnforced",
      "False",
      "MeshNotInstalled",
    ]);
    expect(brief(condition(status, "NetworkPolicyEnforced"))).to.deep.equal([
      "NetworkPolicyEnforced",
      "True",
      "Enforced",
    ]);
    expect(control(status, "NIST-800-53:SC-8")?.state).to.equal("NonCompliant");
    expect(control(status, "NIST-800-53:IA-9")?.state).to.equal("NonCompliant");
  });

  it("reports Istio mTLS and authorization enforced once the mesh is installed", () => {
    const status = computeStatus(
      outcome({ ...MINIMAL, serviceMesh: { provider: "istio" } }, { meshInstalled: true }),
    );
    expect(brief(condition(status, "Ready"))).to.deep.equal(["Ready", "True", "Enforced"]);
    expect(brief(condition(status, "MeshMTLSEnforced"))).to.deep.equal([
      "MeshMTLSEnforced",
      "True",
      "Enforced",
    ]);
    expect(brief(condition(status, "MeshAuthorizationEnforced"))).to.deep.equal([
      "MeshAuthorizationEnforced",
      "True",
      "Enforced",
    ]);
    expect(control(status, "NIST-800-53:SC-8")?.state).to.equal("Compliant");
    expect(shown(status, { ...MINIMAL, serviceMesh: { provider: "istio" } }, "NIST-800-53:SC-8")).to.equal(
      "PeerAuthentication/sws-mtls",
    );
  });

  it("says Linkerd cannot enforce WorkspaceOnly authorization yet, while its mTLS counts as enforced", () => {
    const status = computeStatus(outcome({ ...MINIMAL, serviceMesh: { provider: "linkerd" } }));
    expect(brief(condition(status, "MeshAuthorizationEnforced"))).to.deep.equal([
      "MeshAuthorizationEnforced",
      "False",
      "NotSupportedByProvider",
    ]);
    expect(brief(condition(status, "MeshMTLSEnforced"))).to.deep.equal([
      "MeshMTLSEnforced",
      "True",
      "Enforced",
    ]);
    expect(control(status, "NIST-800-53:AC-4")?.state).to.equal("NonCompliant");
  });

  it("reports audit-mode drift: Ready but NonCompliant, the differing objects named", () => {
    const o = outcome({ ...MINIMAL, enforcement: "Audit" });
    const deny = find(o.desired, "NetworkPolicy", "sws-default-deny");
    const dns = find(o.desired, "NetworkPolicy", "sws-allow-dns");
    const pending: PlannedApply[] = [
      { object: deny, reason: "Differs", drift: true },
      { object: dns, reason: "Missing", drift: true },
    ];
    const status = computeStatus({ ...o, pending });
    expect(condition(status, "Ready")).to.deep.include({
      status: "True",
      reason: "Audited",
      message: "audit mode: 2 objects differ from the baseline in 1 namespaces",
    });
    expect(condition(status, "NetworkPolicyEnforced")).to.deep.include({
      status: "False",
      reason: "DriftDetected",
      message:
        "audit mode, differs from the baseline: team-a-dev/NetworkPolicy/sws-default-deny, team-a-dev/NetworkPolicy/sws-allow-dns",
    });
    expect(brief(condition(status, "PodSecurityEnforced"))).to.deep.equal([
      "PodSecurityEnforced",
      "True",
      "Compliant",
    ]);
    expect(status.drift).to.deep.equal([
      { namespace: "team-a-dev", object: "NetworkPolicy/sws-default-deny", reason: "Differs" },
      { namespace: "team-a-dev", object: "NetworkPolicy/sws-allow-dns", reason: "Missing" },
    ]);
    expect(status.namespaces).to.deep.equal([
      { name: "team-a-dev", ready: false, managedObjects: 3, message: "2 objects differ from the baseline" },
    ]);
    expect(control(status, "NIST-800-53:SC-7")).to.deep.include({ state: "NonCompliant" });
    expect(control(status, "NIST-800-53:SC-7")?.evidence).to.include("NetworkPolicy/sws-default-deny");
    expect(control(status, "NIST-800-53:CM-3")?.state).to.equal("NotApplicable");
    expect(shown(status, { ...MINIMAL, enforcement: "Audit" }, "NIST-800-53:CM-3")).to.equal(
      "enforcement: Audit (changes are reported, not reverted)",
    );
  });

  it("reports an audited workspace without drift as Compliant", () => {
    const status = computeStatus(outcome({ ...MINIMAL, enforcement: "Audit" }, { pending: [] }));
    expect(condition(status, "Ready")).to.deep.include({
      status: "True",
      reason: "Audited",
      message: "audit mode: all objects match the baseline in 1 namespaces",
    });
    expect(brief(condition(status, "NetworkPolicyEnforced"))).to.deep.equal([
      "NetworkPolicyEnforced",
      "True",
      "Compliant",
    ]);
    expect(status).to.not.have.property("drift");
    expect(control(status, "NIST-800-53:SC-7")?.state).to.equal("Compliant");
  });

  it("names PSA label drift on the Namespace under PodSecurityEnforced", () => {
    const o = outcome({ ...MINIMAL, enforcement: "Audit" });
    const ns = find(o.desired, "Namespace", "team-a-dev");
    const status = computeStatus({ ...o, pending: [{ object: ns, reason: "Differs", drift: true }] });
    expect(condition(status, "PodSecurityEnforced")).to.deep.include({
      status: "False",
      reason: "DriftDetected",
      message: "audit mode, differs from the baseline: team-a-dev/Namespace/team-a-dev",
    });
    expect(control(status, "NIST-800-53:CM-7")?.state).to.equal("NonCompliant");
  });

  it("counts corrected drift on top of the previous count and records the latest correction", () => {
    const o = outcome(MINIMAL);
    const previous: SecureWorkspaceStatus = { ...computeStatus(o), driftCorrections: 4 };
    const deny = find(o.desired, "NetworkPolicy", "sws-default-deny");
    const dns = find(o.desired, "NetworkPolicy", "sws-allow-dns");
    const status = computeStatus({
      ...o,
      now: T1,
      previous,
      corrected: [
        { object: dns, reason: "Missing", drift: true },
        { object: deny, reason: "Differs", drift: true },
      ],
    });
    expect(status.driftCorrections).to.equal(6);
    expect(status.lastDriftCorrection).to.deep.equal({
      time: T1,
      namespace: "team-a-dev",
      object: "NetworkPolicy/sws-default-deny",
    });
    expect(shown(status, MINIMAL, "NIST-800-53:CM-3")).to.equal(
      "unauthorised changes are reverted and recorded as Events (driftCorrections: 6)",
    );
    const quiet = computeStatus({ ...o, now: T2, previous: status });
    expect(quiet.driftCorrections).to.equal(6);
    expect(quiet.lastDriftCorrection).to.deep.equal(status.lastDriftCorrection);
  });

  it("moves lastTransitionTime only for conditions whose status changed", () => {
    const first = computeStatus(outcome({ namespaces: [{ name: "team-a-dev" }, { name: "shared" }] }));
    const second = computeStatus(
      outcome(
        { namespaces: [{ name: "team-a-dev" }, { name: "shared" }] },
        {
          now: T1,
          previous: first,
          conflicts: [{ namespace: "shared", reason: "OwnedByAnotherWorkspace", message: "taken" }],
        },
      ),
    );
    expect(condition(second, "Ready")?.lastTransitionTime).to.equal(T1);
    expect(condition(second, "Stalled")?.lastTransitionTime).to.equal(T1);
    // Reconciling was False and stays False: only its reason and message change.
    expect(condition(second, "Reconciling")).to.deep.include({
      status: "False",
      reason: "NamespaceConflict",
      lastTransitionTime: T0,
    });
    expect(condition(second, "RBACEnforced")?.lastTransitionTime).to.equal(T0);
  });

  describe("no churn: the same findings at a later time change nothing", () => {
    const cases: Array<[string, () => ReconcileOutcome]> = [
      ["an enforced workspace", () => outcome(MINIMAL)],
      [
        "a full workspace",
        () =>
          outcome(
            {
              namespaces: [{ name: "a" }, { name: "b" }],
              rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "g" }] }] },
              resourceQuota: { hard: { pods: "10" } },
              serviceMesh: { provider: "istio" },
            },
            { meshInstalled: true },
          ),
      ],
      [
        "a namespace conflict",
        () =>
          outcome(
            { namespaces: [{ name: "a" }, { name: "b" }] },
            {
              conflicts: [{ namespace: "b", reason: "SystemNamespace", message: "b is a system namespace" }],
            },
          ),
      ],
      [
        "namespaces refused, being deleted and unwritten",
        () =>
          outcome(
            { namespaces: [{ name: "a" }, { name: "b" }, { name: "c" }, { name: "d" }] },
            {
              conflicts: [{ namespace: "b", reason: "SystemNamespace", message: "b is a system namespace" }],
              terminating: ["c"],
              failures: [
                {
                  namespace: "d",
                  object: "Namespace/d",
                  control: "podSecurity",
                  reason: "Forbidden",
                  message: "create: forbidden",
                },
              ],
            },
          ),
      ],
      [
        "an invalid spec",
        () => ({
          generation: 2,
          now: T0,
          previous: undefined,
          invalid: [{ path: "spec.namespaces", message: "must list at least one namespace" }],
        }),
      ],
      [
        "Istio not installed",
        () => outcome({ ...MINIMAL, serviceMesh: { provider: "istio" } }, { meshInstalled: false }),
      ],
      [
        "audit drift",
        () => {
          const o = outcome({ ...MINIMAL, enforcement: "Audit" });
          return {
            ...o,
            pending: [
              {
                object: find(o.desired, "NetworkPolicy", "sws-default-deny"),
                reason: "Differs",
                drift: true,
              },
            ],
          };
        },
      ],
    ];

    for (const [name, make] of cases) {
      it(name, () => {
        const first = computeStatus(make());
        const again = computeStatus({ ...make(), now: T2, previous: first });
        expect(statusChanged(first, again), JSON.stringify(again)).to.be.false;
        expect(again).to.deep.equal(first);
      });
    }

    it("after a correction, the next quiet pass writes nothing", () => {
      const o = outcome(MINIMAL);
      const corrected = computeStatus({
        ...o,
        corrected: [
          { object: find(o.desired, "NetworkPolicy", "sws-default-deny"), reason: "Differs", drift: true },
        ],
      });
      const quiet1 = computeStatus({ ...o, now: T1, previous: corrected });
      const quiet2 = computeStatus({ ...o, now: T2, previous: quiet1 });
      expect(statusChanged(corrected, quiet1)).to.be.false;
      expect(statusChanged(quiet1, quiet2)).to.be.false;
    });
  });

  describe("statusChanged", () => {
    it("sees a difference in any field, and none between equal statuses", () => {
      const status = computeStatus(outcome(MINIMAL));
      expect(statusChanged(status, structuredClone(status))).to.be.false;
      expect(statusChanged(status, { ...status, driftCorrections: 1 })).to.be.true;
      expect(statusChanged(undefined, status)).to.be.true;
      expect(statusChanged(undefined, {})).to.be.false;
    });
  });
});

describe("computeStatus: failures and objects in the way", () => {
  it("a refused write: Ready=False with the reason and message, Stalled, the control and its NIST ids failing", () => {
    const status = computeStatus(
      outcome(
        { ...MINIMAL, limitRange: { default: { cpu: "500m" } } },
        {
          failures: [
            {
              namespace: "team-a-dev",
              object: "LimitRange/sws-limits",
              control: "quota",
              reason: "AdmissionRefused",
              message: "apply: limit ranges are frozen",
            },
          ],
        },
      ),
    );
    expect(brief(condition(status, "Ready"))).to.deep.equal(["Ready", "False", "AdmissionRefused"]);
    expect(condition(status, "Ready")?.message).to.contain(
      "team-a-dev/LimitRange/sws-limits: apply: limit ranges are frozen",
    );
    expect(brief(condition(status, "Stalled"))).to.deep.equal(["Stalled", "True", "AdmissionRefused"]);
    expect(brief(condition(status, "QuotaEnforced"))).to.deep.equal([
      "QuotaEnforced",
      "False",
      "AdmissionRefused",
    ]);
    expect(control(status, "NIST-800-53:SC-6")?.state).to.equal("NonCompliant");
    expect(brief(condition(status, "NetworkPolicyEnforced"))?.[1]).to.equal("True");
    expect(status.observedGeneration).to.equal(3);
  });

  it("a transient failure (a conflict) keeps Reconciling=True and is not Stalled", () => {
    const status = computeStatus(
      outcome(MINIMAL, {
        failures: [
          {
            namespace: "team-a-dev",
            object: "Namespace/team-a-dev",
            control: "podSecurity",
            reason: "Conflict",
            message: "apply: changed",
          },
        ],
      }),
    );
    expect(brief(condition(status, "Reconciling"))).to.deep.equal(["Reconciling", "True", "Conflict"]);
    expect(brief(condition(status, "Stalled"))?.[1]).to.equal("False");
  });

  it("a foreign object at a desired name: ForeignObjectConflict on Ready and its control, named", () => {
    const o = outcome(MINIMAL);
    const deny = find(o.desired, "NetworkPolicy", "sws-default-deny");
    const status = computeStatus({ ...o, foreign: [{ object: deny }] });
    expect(brief(condition(status, "Ready"))).to.deep.equal(["Ready", "False", "ForeignObjectConflict"]);
    expect(condition(status, "NetworkPolicyEnforced")?.message).to.contain(
      "team-a-dev/NetworkPolicy/sws-default-deny",
    );
    expect(control(status, "NIST-800-53:SC-7")?.state).to.equal("NonCompliant");
  });

  it("a malformed stored status (null or junk conditions, a string counter) does not break the computation", () => {
    const previous = { conditions: null, driftCorrections: "many" } as unknown as SecureWorkspaceStatus;
    const status = computeStatus(outcome(MINIMAL, { previous }));
    expect(brief(condition(status, "Ready"))).to.deep.equal(["Ready", "True", "Enforced"]);
    expect(status.driftCorrections).to.equal(0);
    const junk = {
      conditions: [null, 7, { type: "Ready", status: "True" }],
    } as unknown as SecureWorkspaceStatus;
    expect(brief(condition(computeStatus(outcome(MINIMAL, { previous: junk })), "Ready"))?.[1]).to.equal(
      "True",
    );
  });
});

describe("computeStatus: namespaceCount (the NAMESPACES column)", () => {
  const FOUR: SecureWorkspaceSpec = {
    namespaces: [{ name: "a" }, { name: "b" }, { name: "c" }, { name: "d" }],
  };
  const failure = (namespace: string, object: string): WriteFailure => ({
    namespace,
    object,
    control: object.startsWith("Namespace/") ? "podSecurity" : "networkPolicy",
    reason: "Forbidden",
    message: "apply: forbidden",
  });

  it("counts every listed namespace when none is refused", () => {
    expect(computeStatus(outcome(FOUR)).namespaceCount).to.equal(4);
  });

  it("does not count a refused namespace, one being deleted, or one whose Namespace object could not be written", () => {
    const status = computeStatus(
      outcome(FOUR, {
        conflicts: [{ namespace: "a", reason: "ProtectedNamespace", message: "a is protected" }],
        terminating: ["b"],
        failures: [failure("c", "Namespace/c")],
      }),
    );
    expect(status.namespaceCount).to.equal(1);
    expect(brief(condition(status, "Ready"))?.[1], "Ready tells the rest").to.equal("False");
  });

  it("still counts a held namespace where another object's write failed (Ready says the baseline is not whole)", () => {
    const status = computeStatus(
      outcome(FOUR, { failures: [failure("d", "NetworkPolicy/sws-default-deny")] }),
    );
    expect(status.namespaceCount).to.equal(4);
    expect(status.namespaces?.find((n) => n.name === "d")?.ready).to.equal(false);
  });

  it("in Audit mode, counts a namespace it only reads but not one that does not exist", () => {
    const o = outcome({ ...FOUR, enforcement: "Audit" });
    const pending: PlannedApply[] = [
      { object: find(o.desired, "Namespace", "a"), reason: "Missing", drift: false },
      { object: find(o.desired, "Namespace", "b"), reason: "Differs", drift: true },
    ];
    expect(computeStatus({ ...o, pending }).namespaceCount).to.equal(3);
  });

  it("is the listed namespaces minus those with a reason not to be held, whatever the mix", () => {
    const fates = ["held", "conflict", "terminating", "unwritten", "otherWriteFailed"] as const;
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fates), { minLength: 1, maxLength: 12 }), (mix) => {
        const names = mix.map((_, i) => `ns-${i}`);
        const where = (fate: (typeof fates)[number]): string[] => names.filter((_, i) => mix[i] === fate);
        const status = computeStatus(
          outcome(
            { namespaces: names.map((name) => ({ name })) },
            {
              conflicts: where("conflict").map((namespace) => ({
                namespace,
                reason: "NotOptedIn" as const,
                message: `${namespace} is not opted in`,
              })),
              terminating: where("terminating"),
              failures: [
                ...where("unwritten").map((n) => failure(n, `Namespace/${n}`)),
                ...where("otherWriteFailed").map((n) => failure(n, "RoleBinding/sws-edit-0")),
              ],
            },
          ),
        );
        const held = where("held").length + where("otherWriteFailed").length;
        expect(status.namespaceCount).to.equal(held);
        const ready = status.conditions?.find((c) => c.type === "Ready")?.status;
        expect(ready === "True").to.equal(held === names.length && where("otherWriteFailed").length === 0);
      }),
    );
  });
});

describe("guardrailsCondition", () => {
  it("is False (Relaxed) naming every guardrail switched Off, True otherwise", () => {
    const relaxed = guardrailsCondition(
      applyDefaults({ ...MINIMAL, guardrails: { networkPolicy: "Off", mesh: "Off" } }),
    );
    expect(relaxed).to.include({ type: "TenantGuardrails", status: "False", reason: "Relaxed" });
    expect(relaxed.message).to.contain("guardrails off for networkPolicy, mesh");
    const same = guardrailsCondition(
      applyDefaults({ ...MINIMAL, guardrails: { networkPolicy: "SameNamespace" } }),
    );
    expect(same).to.include({ status: "True", reason: "Enforced" });
  });
});

describe("computeStatus: the effective posture", () => {
  it("a foreign binding to a broad group makes RBAC NonCompliant even when the spec binds nobody", () => {
    const status = computeStatus(
      outcome(MINIMAL, {
        findings: [
          {
            control: "rbac",
            kind: "RoleBinding",
            namespace: "team-a-dev",
            name: "everyone-admin",
            opens: "role admin to group system:authenticated",
          },
        ],
      }),
    );
    expect(brief(condition(status, "Ready"))).to.deep.equal(["Ready", "False", "ForeignPolicyWidensAccess"]);
    expect(brief(condition(status, "RBACEnforced"))).to.deep.equal([
      "RBACEnforced",
      "False",
      "ForeignPolicyWidensAccess",
    ]);
    expect(condition(status, "RBACEnforced")?.message).to.contain(
      "team-a-dev/RoleBinding/everyone-admin opens role admin to group system:authenticated",
    );
    for (const id of ["NIST-800-53:AC-3", "NIST-800-53:AC-6"]) {
      expect(control(status, id)?.state).to.equal("NonCompliant");
      expect(control(status, id)?.evidence).to.contain("everyone-admin");
    }
    expect(control(status, "NIST-800-53:SC-7")?.state).to.equal("Compliant");
  });
});
