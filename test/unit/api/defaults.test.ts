/** applyDefaults (src/api/defaults.ts): every default of the API contract, in one place. */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults, defaultControlPlaneNamespace } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import { GUARDRAIL_VALUES } from "../../../src/api/validation.js";
import { validSpec } from "../../support/arbitraries.js";

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object") {
    for (const child of Object.values(value as Record<string, unknown>)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

describe("applyDefaults", () => {
  it("fills in every default of the contract for a spec that only lists namespaces", () => {
    expect(applyDefaults({ namespaces: [{ name: "team-a-dev" }] })).to.deep.equal({
      namespaces: [{ name: "team-a-dev", labels: {}, annotations: {} }],
      enforcement: "Enforce",
      deletionPolicy: "Retain",
      podSecurity: {
        enforce: "restricted",
        enforceVersion: "latest",
        audit: "restricted",
        auditVersion: "latest",
        warn: "restricted",
        warnVersion: "latest",
      },
      networkPolicy: {
        defaultDeny: ["Egress", "Ingress"],
        allowSameNamespace: true,
        allowDNS: true,
        allowIngressFrom: [],
        allowEgressTo: [],
      },
      rbac: { bindings: [] },
      serviceMesh: {
        provider: "none",
        mtls: "STRICT",
        injection: true,
        controlPlaneNamespace: "istio-system",
        authorization: { mode: "Off", allowFromNamespaces: [] },
      },
      guardrails: { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" },
    });
  });

  describe("guardrails", () => {
    const guardrails = (g: unknown): unknown =>
      applyDefaults({ namespaces: [{ name: "a" }], guardrails: g } as SecureWorkspaceSpec).guardrails;
    const STRICT = { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" };

    it("are strict when the spec says nothing, an empty object or null (as stored by a client that skipped defaulting)", () => {
      expect(guardrails(undefined)).to.deep.equal(STRICT);
      expect(guardrails({})).to.deep.equal(STRICT);
      expect(guardrails(null)).to.deep.equal(STRICT);
      expect(guardrails({ networkPolicy: null, rbac: null, mesh: null })).to.deep.equal(STRICT);
    });

    it("keep each relaxation the spec writes and default the others to strict", () => {
      expect(guardrails({ networkPolicy: "Off" })).to.deep.equal({ ...STRICT, networkPolicy: "Off" });
      expect(guardrails({ networkPolicy: "SameNamespace", mesh: "Off" })).to.deep.equal({
        networkPolicy: "SameNamespace",
        rbac: "Strict",
        mesh: "Off",
      });
      expect(guardrails({ rbac: "Off" })).to.deep.equal({ ...STRICT, rbac: "Off" });
      expect(guardrails({ networkPolicy: "Off", rbac: "Off", mesh: "Off" })).to.deep.equal({
        networkPolicy: "Off",
        rbac: "Off",
        mesh: "Off",
      });
    });

    it("default to the first value of each list in GUARDRAIL_VALUES (the CRD's default)", () => {
      expect(guardrails(undefined)).to.deep.equal({
        networkPolicy: GUARDRAIL_VALUES.networkPolicy[0],
        rbac: GUARDRAIL_VALUES.rbac[0],
        mesh: GUARDRAIL_VALUES.mesh[0],
      });
    });

    it("resolve any valid spec to values of the lists, kept as the spec wrote them", () => {
      fc.assert(
        fc.property(validSpec, (spec) => {
          const resolved = applyDefaults(spec).guardrails;
          for (const field of ["networkPolicy", "rbac", "mesh"] as const) {
            expect(GUARDRAIL_VALUES[field]).to.include(resolved[field]);
            if (spec.guardrails?.[field] !== undefined)
              expect(resolved[field]).to.equal(spec.guardrails[field]);
            else expect(resolved[field]).to.equal(GUARDRAIL_VALUES[field][0]);
          }
        }),
        { numRuns: 200 },
      );
    });
  });

  it("asks for no quota and no limits unless the spec does", () => {
    const resolved = applyDefaults({ namespaces: [{ name: "a" }] });
    expect(resolved).to.not.have.property("resourceQuota");
    expect(resolved).to.not.have.property("limitRange");
    const asked = applyDefaults({
      namespaces: [{ name: "a" }],
      resourceQuota: { hard: { pods: "10" } },
      limitRange: { max: { cpu: "2" } },
    });
    expect(asked.resourceQuota).to.deep.equal({ hard: { pods: "10" } });
    expect(asked.limitRange).to.deep.equal({ max: { cpu: "2" } });
  });

  it("audit and warn default to the enforce level, and their versions to the enforce version", () => {
    expect(
      applyDefaults({
        namespaces: [{ name: "a" }],
        podSecurity: { enforce: "baseline", enforceVersion: "v1.30" },
      }).podSecurity,
    ).to.deep.equal({
      enforce: "baseline",
      enforceVersion: "v1.30",
      audit: "baseline",
      auditVersion: "v1.30",
      warn: "baseline",
      warnVersion: "v1.30",
    });
  });

  it("keeps audit and warn levels that the spec sets", () => {
    const ps = applyDefaults({
      namespaces: [{ name: "a" }],
      podSecurity: { enforce: "privileged", audit: "restricted", warn: "baseline", warnVersion: "v1.29" },
    }).podSecurity;
    expect(ps).to.deep.equal({
      enforce: "privileged",
      enforceVersion: "latest",
      audit: "restricted",
      auditVersion: "latest",
      warn: "baseline",
      warnVersion: "v1.29",
    });
  });

  it("keeps the spec's choices over every default", () => {
    const resolved = applyDefaults({
      namespaces: [{ name: "a", labels: { tier: "web" }, annotations: { "example.com/x": "y" } }],
      enforcement: "Audit",
      deletionPolicy: "Delete",
      networkPolicy: { defaultDeny: ["Ingress"], allowSameNamespace: false, allowDNS: false },
      rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "g" }] }] },
      serviceMesh: { provider: "istio", mtls: "PERMISSIVE", injection: false, controlPlaneNamespace: "mesh" },
    });
    expect(resolved.namespaces).to.deep.equal([
      { name: "a", labels: { tier: "web" }, annotations: { "example.com/x": "y" } },
    ]);
    expect(resolved.enforcement).to.equal("Audit");
    expect(resolved.deletionPolicy).to.equal("Delete");
    expect(resolved.networkPolicy).to.deep.equal({
      defaultDeny: ["Ingress"],
      allowSameNamespace: false,
      allowDNS: false,
      allowIngressFrom: [],
      allowEgressTo: [],
    });
    expect(resolved.rbac).to.deep.equal({
      bindings: [{ role: "view", subjects: [{ kind: "Group", name: "g" }] }],
    });
    expect(resolved.serviceMesh).to.deep.equal({
      provider: "istio",
      mtls: "PERMISSIVE",
      injection: false,
      controlPlaneNamespace: "mesh",
      authorization: { mode: "WorkspaceOnly", allowFromNamespaces: [] },
    });
  });

  it("sorts and de-duplicates the default-deny directions; an empty list stays empty", () => {
    const dd = (defaultDeny: Array<"Ingress" | "Egress">): string[] =>
      applyDefaults({ namespaces: [{ name: "a" }], networkPolicy: { defaultDeny } }).networkPolicy
        .defaultDeny;
    expect(dd(["Ingress", "Egress", "Ingress"])).to.deep.equal(["Egress", "Ingress"]);
    expect(dd(["Egress"])).to.deep.equal(["Egress"]);
    expect(dd([])).to.deep.equal([]);
  });

  it("mesh authorization defaults to WorkspaceOnly only when a provider is set", () => {
    const mode = (serviceMesh: SecureWorkspaceSpec["serviceMesh"]): string =>
      applyDefaults({ namespaces: [{ name: "a" }], ...(serviceMesh ? { serviceMesh } : {}) }).serviceMesh
        .authorization.mode;
    expect(mode(undefined)).to.equal("Off");
    expect(mode({ provider: "none" })).to.equal("Off");
    expect(mode({ provider: "istio" })).to.equal("WorkspaceOnly");
    expect(mode({ provider: "linkerd" })).to.equal("WorkspaceOnly");
    expect(mode({ provider: "istio", authorization: { mode: "Off" } })).to.equal("Off");
    expect(mode({ provider: "istio", authorization: { allowFromNamespaces: ["gw"] } })).to.equal(
      "WorkspaceOnly",
    );
  });

  it("defaults controlPlaneNamespace per provider: istio-system for istio, linkerd for linkerd", () => {
    const cp = (provider: "none" | "istio" | "linkerd"): string =>
      applyDefaults({ namespaces: [{ name: "a" }], serviceMesh: { provider } }).serviceMesh
        .controlPlaneNamespace;
    expect(cp("istio")).to.equal("istio-system");
    expect(cp("linkerd")).to.equal("linkerd");
    expect(cp("none")).to.equal("istio-system");
    expect(defaultControlPlaneNamespace("linkerd")).to.equal("linkerd");
    expect(defaultControlPlaneNamespace("istio")).to.equal("istio-system");
  });

  it("gives a binding without subjects an empty list", () => {
    const spec = {
      namespaces: [{ name: "a" }],
      rbac: { bindings: [{ role: "edit" }] },
    } as unknown as SecureWorkspaceSpec;
    expect(applyDefaults(spec).rbac.bindings).to.deep.equal([{ role: "edit", subjects: [] }]);
  });

  it("does not mutate its input, even a frozen one", () => {
    const spec: SecureWorkspaceSpec = {
      namespaces: [{ name: "a", labels: { tier: "web" } }],
      podSecurity: { enforce: "baseline" },
      networkPolicy: { defaultDeny: ["Ingress", "Egress", "Ingress"] },
      rbac: { bindings: [{ role: "view", subjects: [{ kind: "Group", name: "g" }] }] },
      resourceQuota: { hard: { pods: "10" } },
      limitRange: { max: { cpu: "2" } },
      serviceMesh: { provider: "istio" },
      guardrails: { networkPolicy: "SameNamespace" },
    };
    const before = structuredClone(spec);
    expect(() => applyDefaults(deepFreeze(spec))).to.not.throw();
    expect(spec).to.deep.equal(before);
  });

  it("returns labels and quota maps that are copies: editing the result leaves the spec alone", () => {
    const spec: SecureWorkspaceSpec = {
      namespaces: [{ name: "a", labels: { tier: "web" } }],
      resourceQuota: { hard: { pods: "10" } },
    };
    const resolved = applyDefaults(spec);
    resolved.namespaces[0].labels["tier"] = "changed";
    resolved.resourceQuota!.hard["pods"] = "99";
    expect(spec).to.deep.equal({
      namespaces: [{ name: "a", labels: { tier: "web" } }],
      resourceQuota: { hard: { pods: "10" } },
    });
  });

  it("is idempotent over any valid spec: defaults applied to a resolved spec change nothing", () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const once = applyDefaults(spec);
        expect(applyDefaults(once)).to.deep.equal(once);
      }),
      { numRuns: 300 },
    );
  });
});
