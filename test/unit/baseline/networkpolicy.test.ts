/**
 * NetworkPolicies of an owned namespace (src/baseline/networkpolicy.ts). Expected objects are
 * written out in full: they document what `sws render` shows a reviewer.
 */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import { networkPolicies } from "../../../src/baseline/networkpolicy.js";

const WORKSPACE = { name: "team-a", uid: "0b9d2f4e-uid" };

/** The metadata every managed NetworkPolicy of workspace team-a carries. */
function managedMeta(name: string, namespace = "team-a-dev"): Record<string, unknown> {
  return {
    name,
    namespace,
    labels: {
      "app.kubernetes.io/managed-by": "secure-workspace-operator",
      "secureworkspace.io/workspace": "team-a",
    },
    ownerReferences: [
      {
        apiVersion: "secureworkspace.io/v1alpha1",
        kind: "SecureWorkspace",
        name: "team-a",
        uid: "0b9d2f4e-uid",
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

/** The NetworkPolicies rendered for the first namespace of a spec. */
function policiesFor(spec: Omit<SecureWorkspaceSpec, "namespaces">): DesiredObject[] {
  const resolved = applyDefaults({ namespaces: [{ name: "team-a-dev" }], ...spec });
  return networkPolicies({ workspace: WORKSPACE, spec: resolved }, "team-a-dev");
}

const names = (objs: readonly DesiredObject[]): string[] => objs.map((o) => o.metadata.name);
const specOf = (o: DesiredObject): { policyTypes: string[]; ingress: unknown[]; egress: unknown[] } =>
  o["spec"] as { policyTypes: string[]; ingress: unknown[]; egress: unknown[] };

describe("baseline: NetworkPolicies", () => {
  it("a default spec gets default deny for both directions, same-namespace and DNS policies", () => {
    expect(policiesFor({})).to.deep.equal([
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: managedMeta("sws-default-deny"),
        spec: { podSelector: {}, policyTypes: ["Egress", "Ingress"], ingress: [], egress: [] },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: managedMeta("sws-allow-same-namespace"),
        spec: {
          podSelector: {},
          policyTypes: ["Egress", "Ingress"],
          ingress: [{ from: [{ podSelector: {} }] }],
          egress: [{ to: [{ podSelector: {} }] }],
        },
      },
      {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: managedMeta("sws-allow-dns"),
        spec: {
          podSelector: {},
          policyTypes: ["Egress"],
          ingress: [],
          egress: [
            {
              to: [
                {
                  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                },
              ],
              ports: [
                { protocol: "UDP", port: 53 },
                { protocol: "TCP", port: 53 },
              ],
            },
          ],
        },
      },
    ]);
  });

  it("Ingress-only default deny never names Egress in any policy", () => {
    const objs = policiesFor({
      networkPolicy: {
        defaultDeny: ["Ingress"],
        allowIngressFrom: [{ namespaceSelector: { matchLabels: { team: "b" } } }],
        allowEgressTo: [{ ipBlock: { cidr: "10.20.0.0/16" } }],
      },
      serviceMesh: { provider: "istio" },
    });
    expect(names(objs)).to.deep.equal(["sws-default-deny", "sws-allow-same-namespace", "sws-allow-ingress"]);
    for (const o of objs) {
      expect(specOf(o).policyTypes, o.metadata.name).to.deep.equal(["Ingress"]);
      expect(specOf(o).egress, o.metadata.name).to.deep.equal([]);
    }
    expect(objs[1]).to.deep.equal({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: managedMeta("sws-allow-same-namespace"),
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [{ from: [{ podSelector: {} }] }],
        egress: [],
      },
    });
  });

  it("Egress-only default deny never names Ingress in any policy", () => {
    const objs = policiesFor({
      networkPolicy: {
        defaultDeny: ["Egress"],
        allowIngressFrom: [{ namespaceSelector: { matchLabels: { team: "b" } } }],
        allowEgressTo: [{ ipBlock: { cidr: "10.20.0.0/16" } }],
      },
    });
    expect(names(objs)).to.deep.equal([
      "sws-default-deny",
      "sws-allow-same-namespace",
      "sws-allow-dns",
      "sws-allow-egress",
    ]);
    for (const o of objs) {
      expect(specOf(o).policyTypes, o.metadata.name).to.deep.equal(["Egress"]);
      expect(specOf(o).ingress, o.metadata.name).to.deep.equal([]);
    }
  });

  it("allowances are rendered only for a denied direction", () => {
    const allowances: SecureWorkspaceSpec["networkPolicy"] = {
      allowIngressFrom: [{ podSelector: { matchLabels: { app: "gateway" } } }],
      allowEgressTo: [{ ipBlock: { cidr: "192.168.0.0/24" } }],
    };
    expect(names(policiesFor({ networkPolicy: { ...allowances, defaultDeny: ["Ingress"] } })))
      .to.include("sws-allow-ingress")
      .and.not.include("sws-allow-egress");
    expect(names(policiesFor({ networkPolicy: { ...allowances, defaultDeny: ["Egress"] } })))
      .to.include("sws-allow-egress")
      .and.not.include("sws-allow-ingress");
    expect(
      names(policiesFor({ networkPolicy: { ...allowances, defaultDeny: ["Ingress", "Egress"] } })),
    ).to.include.members(["sws-allow-ingress", "sws-allow-egress"]);
  });

  it("an empty defaultDeny leaves the namespace open: no NetworkPolicy at all, allowances included", () => {
    const objs = policiesFor({
      networkPolicy: {
        defaultDeny: [],
        allowIngressFrom: [{ podSelector: { matchLabels: { app: "gateway" } } }],
        allowEgressTo: [{ ipBlock: { cidr: "192.168.0.0/24" } }],
      },
      serviceMesh: { provider: "linkerd" },
    });
    expect(objs).to.deep.equal([]);
  });

  it("allowIngressFrom becomes sws-allow-ingress with one rule per allowance, protocol defaulting to TCP", () => {
    const objs = policiesFor({
      networkPolicy: {
        allowIngressFrom: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
            ports: [{ port: 8080 }],
          },
          { podSelector: { matchExpressions: [{ key: "role", operator: "In", values: ["probe"] }] } },
        ],
      },
    });
    expect(objs.find((o) => o.metadata.name === "sws-allow-ingress")).to.deep.equal({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: managedMeta("sws-allow-ingress"),
      spec: {
        podSelector: {},
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
                podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx" } },
              },
            ],
            ports: [{ protocol: "TCP", port: 8080 }],
          },
          // No ports given: the rule admits every port, so the key is absent (not an empty list).
          {
            from: [
              { podSelector: { matchExpressions: [{ key: "role", operator: "In", values: ["probe"] }] } },
            ],
          },
        ],
        egress: [],
      },
    });
  });

  it("allowEgressTo becomes sws-allow-egress, keeping ipBlock exceptions, port ranges and named ports", () => {
    const objs = policiesFor({
      networkPolicy: {
        allowEgressTo: [
          {
            ipBlock: { cidr: "10.20.0.0/16", except: ["10.20.99.0/24"] },
            ports: [{ protocol: "TCP", port: 5432 }],
          },
          { ipBlock: { cidr: "172.16.0.0/12" }, ports: [{ protocol: "UDP", port: 30000, endPort: 30100 }] },
          { namespaceSelector: { matchLabels: { team: "data" } }, ports: [{ port: "metrics" }] },
        ],
      },
    });
    expect(objs.find((o) => o.metadata.name === "sws-allow-egress")).to.deep.equal({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: managedMeta("sws-allow-egress"),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        ingress: [],
        egress: [
          {
            to: [{ ipBlock: { cidr: "10.20.0.0/16", except: ["10.20.99.0/24"] } }],
            ports: [{ protocol: "TCP", port: 5432 }],
          },
          {
            to: [{ ipBlock: { cidr: "172.16.0.0/12" } }],
            ports: [{ protocol: "UDP", port: 30000, endPort: 30100 }],
          },
          {
            to: [{ namespaceSelector: { matchLabels: { team: "data" } } }],
            ports: [{ protocol: "TCP", port: "metrics" }],
          },
        ],
      },
    });
  });

  it("an allowance with an empty ports list admits every port (no ports key)", () => {
    const objs = policiesFor({
      networkPolicy: { allowEgressTo: [{ ipBlock: { cidr: "10.0.0.0/8" }, ports: [] }] },
    });
    const egress = objs.find((o) => o.metadata.name === "sws-allow-egress");
    expect(specOf(egress!).egress).to.deep.equal([{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }]);
  });

  it("allowSameNamespace: false drops only the same-namespace policy", () => {
    expect(names(policiesFor({ networkPolicy: { allowSameNamespace: false } }))).to.deep.equal([
      "sws-default-deny",
      "sws-allow-dns",
    ]);
  });

  it("allowDNS: false drops only the DNS policy", () => {
    expect(names(policiesFor({ networkPolicy: { allowDNS: false } }))).to.deep.equal([
      "sws-default-deny",
      "sws-allow-same-namespace",
    ]);
  });

  it("renders the policies in a fixed order, default deny first", () => {
    const objs = policiesFor({
      networkPolicy: {
        allowIngressFrom: [{ podSelector: { matchLabels: { app: "a" } } }],
        allowEgressTo: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
      },
      serviceMesh: { provider: "istio" },
    });
    expect(names(objs)).to.deep.equal([
      "sws-default-deny",
      "sws-allow-same-namespace",
      "sws-allow-dns",
      "sws-allow-ingress",
      "sws-allow-egress",
      "sws-allow-mesh-control-plane",
    ]);
  });

  it("every policy selects all pods of its namespace and carries both rule lists", () => {
    const objs = policiesFor({
      networkPolicy: {
        allowIngressFrom: [{ podSelector: { matchLabels: { app: "a" } } }],
        allowEgressTo: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
      },
      serviceMesh: { provider: "linkerd" },
    });
    expect(objs).to.have.length(6);
    for (const o of objs) {
      const spec = o["spec"] as Record<string, unknown>;
      expect(spec["podSelector"], o.metadata.name).to.deep.equal({});
      expect(spec["ingress"], o.metadata.name).to.be.an("array");
      expect(spec["egress"], o.metadata.name).to.be.an("array");
    }
  });

  it("renders the same policies into each owned namespace, each in its own namespace", () => {
    const spec = applyDefaults({ namespaces: [{ name: "team-a-dev" }, { name: "team-a-prod" }] });
    const objs = desiredStateOf(WORKSPACE, spec).filter((o) => o.kind === "NetworkPolicy");
    expect(objs.map((o) => `${o.metadata.namespace}/${o.metadata.name}`)).to.deep.equal([
      "team-a-dev/sws-default-deny",
      "team-a-dev/sws-allow-same-namespace",
      "team-a-dev/sws-allow-dns",
      "team-a-prod/sws-default-deny",
      "team-a-prod/sws-allow-same-namespace",
      "team-a-prod/sws-allow-dns",
    ]);
    expect(objs[3]).to.deep.equal({ ...objs[0], metadata: managedMeta("sws-default-deny", "team-a-prod") });
  });
});
