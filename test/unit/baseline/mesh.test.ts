/**
 * Service mesh baseline (src/baseline/mesh.ts, the mesh parts of namespace.ts and networkpolicy.ts):
 * Istio objects, Linkerd annotations and the control-plane egress policy.
 */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec, ServiceMeshSpec } from "../../../src/api/types.js";
import { desiredStateOf } from "../../../src/baseline/index.js";
import { authorizationPolicy, ISTIO_SECURITY_API, peerAuthentication } from "../../../src/baseline/mesh.js";
import { meshAnnotations, meshLabels } from "../../../src/baseline/namespace.js";
import { MESH_CONTROL_PLANE_PORTS } from "../../../src/baseline/networkpolicy.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";

const WORKSPACE = { name: "payments", uid: "uid-payments" };

function managedMeta(name: string, namespace: string): Record<string, unknown> {
  return {
    name,
    namespace,
    labels: {
      "app.kubernetes.io/managed-by": "secure-workspace-operator",
      "secureworkspace.io/workspace": "payments",
    },
    ownerReferences: [
      {
        apiVersion: "secureworkspace.io/v1alpha1",
        kind: "SecureWorkspace",
        name: "payments",
        uid: "uid-payments",
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  };
}

function spec(
  serviceMesh: ServiceMeshSpec | undefined,
  extra: Omit<SecureWorkspaceSpec, "namespaces"> = {},
): SecureWorkspaceSpec {
  return {
    namespaces: [{ name: "payments-api" }, { name: "payments-worker" }],
    ...(serviceMesh ? { serviceMesh } : {}),
    ...extra,
  };
}

const render = (s: SecureWorkspaceSpec): DesiredObject[] => desiredStateOf(WORKSPACE, applyDefaults(s));
const istioObjects = (objs: readonly DesiredObject[]): DesiredObject[] =>
  objs.filter((o) => o.apiVersion === "security.istio.io/v1");
const find = (objs: readonly DesiredObject[], namespace: string, name: string): DesiredObject | undefined =>
  objs.find((o) => o.metadata.namespace === namespace && o.metadata.name === name);

describe("baseline: service mesh", () => {
  it("with no mesh requested, renders no Istio object, no mesh label or annotation, no control-plane policy", () => {
    const objs = render(spec(undefined));
    expect(istioObjects(objs)).to.deep.equal([]);
    expect(objs.map((o) => o.metadata.name)).to.not.include("sws-allow-mesh-control-plane");
    const ns = objs.find((o) => o.kind === "Namespace");
    expect(ns?.metadata.labels).to.not.have.property("istio-injection");
    expect(
      Object.keys(ns?.metadata.annotations ?? {}).filter((k) => !k.startsWith("secureworkspace.io/")),
    ).to.deep.equal([]);
  });

  it("istio adds PeerAuthentication sws-mtls and AuthorizationPolicy sws-allow-workspace listing the workspace's namespaces plus allowFromNamespaces", () => {
    const objs = render(
      spec({
        provider: "istio",
        authorization: { mode: "WorkspaceOnly", allowFromNamespaces: ["istio-ingress"] },
      }),
    );
    expect(istioObjects(objs)).to.deep.equal([
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: managedMeta("sws-mtls", "payments-api"),
        spec: { mtls: { mode: "STRICT" } },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: managedMeta("sws-allow-workspace", "payments-api"),
        spec: {
          action: "DENY",
          rules: [
            { from: [{ source: { notNamespaces: ["payments-api", "payments-worker", "istio-ingress"] } }] },
          ],
        },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: managedMeta("sws-mtls", "payments-worker"),
        spec: { mtls: { mode: "STRICT" } },
      },
      {
        apiVersion: "security.istio.io/v1",
        kind: "AuthorizationPolicy",
        metadata: managedMeta("sws-allow-workspace", "payments-worker"),
        spec: {
          action: "DENY",
          rules: [
            { from: [{ source: { notNamespaces: ["payments-api", "payments-worker", "istio-ingress"] } }] },
          ],
        },
      },
    ]);
    expect(ISTIO_SECURITY_API).to.equal("security.istio.io/v1");
  });

  it("istio with defaults means STRICT mTLS and WorkspaceOnly authorization", () => {
    const objs = render(spec({ provider: "istio" }));
    expect(find(objs, "payments-api", "sws-mtls")?.["spec"]).to.deep.equal({ mtls: { mode: "STRICT" } });
    expect(find(objs, "payments-api", "sws-allow-workspace")?.["spec"]).to.deep.equal({
      action: "DENY",
      rules: [{ from: [{ source: { notNamespaces: ["payments-api", "payments-worker"] } }] }],
    });
  });

  it("istio PERMISSIVE sets the PeerAuthentication mode to PERMISSIVE", () => {
    const ctx = {
      workspace: WORKSPACE,
      spec: applyDefaults(spec({ provider: "istio", mtls: "PERMISSIVE" })),
    };
    expect(peerAuthentication(ctx, "payments-api")).to.deep.equal([
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: managedMeta("sws-mtls", "payments-api"),
        spec: { mtls: { mode: "PERMISSIVE" } },
      },
    ]);
  });

  it("istio with authorization Off keeps mTLS but renders no AuthorizationPolicy", () => {
    const objs = render(spec({ provider: "istio", authorization: { mode: "Off" } }));
    expect(
      istioObjects(objs).map((o) => `${o.metadata.namespace}/${o.kind}/${o.metadata.name}`),
    ).to.deep.equal([
      "payments-api/PeerAuthentication/sws-mtls",
      "payments-worker/PeerAuthentication/sws-mtls",
    ]);
  });

  it("lists a namespace once when allowFromNamespaces repeats a workspace namespace", () => {
    const ctx = {
      workspace: WORKSPACE,
      spec: applyDefaults(
        spec({
          provider: "istio",
          authorization: { allowFromNamespaces: ["payments-worker", "gateways", "gateways"] },
        }),
      ),
    };
    const [policy] = authorizationPolicy(ctx, "payments-api");
    expect(policy?.["spec"]).to.deep.equal({
      action: "DENY",
      rules: [{ from: [{ source: { notNamespaces: ["payments-api", "payments-worker", "gateways"] } }] }],
    });
  });

  it("istio labels each namespace istio-injection=enabled, or disabled when injection is false", () => {
    expect(meshLabels(applyDefaults(spec({ provider: "istio" })))).to.deep.equal({
      "istio-injection": "enabled",
    });
    expect(meshLabels(applyDefaults(spec({ provider: "istio", injection: false })))).to.deep.equal({
      "istio-injection": "disabled",
    });
    expect(meshAnnotations(applyDefaults(spec({ provider: "istio" })))).to.deep.equal({});
  });

  it("linkerd sets linkerd.io/inject and config.linkerd.io/default-inbound-policy annotations", () => {
    expect(meshAnnotations(applyDefaults(spec({ provider: "linkerd" })))).to.deep.equal({
      "linkerd.io/inject": "enabled",
      "config.linkerd.io/default-inbound-policy": "all-authenticated",
    });
    expect(
      meshAnnotations(applyDefaults(spec({ provider: "linkerd", mtls: "PERMISSIVE", injection: false }))),
    ).to.deep.equal({
      "linkerd.io/inject": "disabled",
      "config.linkerd.io/default-inbound-policy": "all-unauthenticated",
    });
    expect(meshLabels(applyDefaults(spec({ provider: "linkerd" })))).to.deep.equal({});
  });

  it("linkerd renders no Istio objects: it is configured through the namespace annotations", () => {
    const objs = render(spec({ provider: "linkerd" }));
    expect(istioObjects(objs)).to.deep.equal([]);
    const namespaces = objs.filter((o) => o.kind === "Namespace");
    const meshOnly = (a: Record<string, string> | undefined): Record<string, string> =>
      Object.fromEntries(Object.entries(a ?? {}).filter(([k]) => !k.startsWith("secureworkspace.io/")));
    expect(namespaces.map((o) => meshOnly(o.metadata.annotations))).to.deep.equal([
      { "linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-authenticated" },
      { "linkerd.io/inject": "enabled", "config.linkerd.io/default-inbound-policy": "all-authenticated" },
    ]);
  });

  it("the mesh control-plane egress policy has exactly the istiod ports", () => {
    const objs = render(spec({ provider: "istio" }));
    expect(find(objs, "payments-api", "sws-allow-mesh-control-plane")).to.deep.equal({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: managedMeta("sws-allow-mesh-control-plane", "payments-api"),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        ingress: [],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "istio-system" } } }],
            ports: [
              { protocol: "TCP", port: 15012 },
              { protocol: "TCP", port: 15017 },
            ],
          },
        ],
      },
    });
  });

  it("the mesh control-plane egress policy has exactly the linkerd ports", () => {
    const objs = render(spec({ provider: "linkerd" }));
    expect(find(objs, "payments-worker", "sws-allow-mesh-control-plane")).to.deep.equal({
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: managedMeta("sws-allow-mesh-control-plane", "payments-worker"),
      spec: {
        podSelector: {},
        policyTypes: ["Egress"],
        ingress: [],
        egress: [
          {
            to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "linkerd" } } }],
            ports: [
              { protocol: "TCP", port: 8080 },
              { protocol: "TCP", port: 8086 },
              { protocol: "TCP", port: 8090 },
            ],
          },
        ],
      },
    });
    expect(MESH_CONTROL_PLANE_PORTS).to.deep.equal({ istio: [15012, 15017], linkerd: [8080, 8086, 8090] });
  });

  it("the control-plane policy targets a custom controlPlaneNamespace", () => {
    const objs = render(spec({ provider: "istio", controlPlaneNamespace: "mesh-cp" }));
    const egress = (
      find(objs, "payments-api", "sws-allow-mesh-control-plane")?.["spec"] as { egress: unknown[] }
    ).egress;
    expect(egress).to.deep.equal([
      {
        to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mesh-cp" } } }],
        ports: [
          { protocol: "TCP", port: 15012 },
          { protocol: "TCP", port: 15017 },
        ],
      },
    ]);
  });

  it("without default-deny egress no control-plane policy is needed, so none is rendered", () => {
    const objs = render(spec({ provider: "istio" }, { networkPolicy: { defaultDeny: ["Ingress"] } }));
    expect(objs.map((o) => o.metadata.name)).to.not.include("sws-allow-mesh-control-plane");
    expect(istioObjects(objs)).to.have.length(4);
  });
});
