/**
 * The Namespace object (src/baseline/namespace.ts) and the order desiredState() (src/baseline/index.ts)
 * hands objects to the applier in.
 */
import { expect } from "chai";
import { applyDefaults } from "../../../src/api/defaults.js";
import type { SecureWorkspace, SecureWorkspaceSpec } from "../../../src/api/types.js";
import { controlOf, desiredState, desiredStateOf, objectRef } from "../../../src/baseline/index.js";
import { namespaceObject } from "../../../src/baseline/namespace.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";

const WORKSPACE = { name: "team-a", uid: "uid-team-a" };

function namespaceFor(spec: SecureWorkspaceSpec, index = 0): DesiredObject {
  const resolved = applyDefaults(spec);
  const ns = resolved.namespaces[index];
  if (!ns) throw new Error(`no namespace #${index} in the spec`);
  return namespaceObject({ workspace: WORKSPACE, spec: resolved }, ns);
}

const refs = (objs: readonly DesiredObject[]): string[] =>
  objs.map((o) => `${o.metadata.namespace ?? o.metadata.name}/${objectRef(o)}`);

describe("baseline: Namespace", () => {
  it("a default spec labels the namespace with restricted Pod Security at latest and the ownership labels", () => {
    expect(namespaceFor({ namespaces: [{ name: "team-a-dev" }] })).to.deep.equal({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "team-a-dev",
        labels: {
          "pod-security.kubernetes.io/enforce": "restricted",
          "pod-security.kubernetes.io/enforce-version": "latest",
          "pod-security.kubernetes.io/audit": "restricted",
          "pod-security.kubernetes.io/audit-version": "latest",
          "pod-security.kubernetes.io/warn": "restricted",
          "pod-security.kubernetes.io/warn-version": "latest",
          "app.kubernetes.io/managed-by": "secure-workspace-operator",
          "secureworkspace.io/workspace": "team-a",
        },
        // What the tenant guardrails (an admission policy) read from the request's namespace.
        annotations: {
          "secureworkspace.io/workspace-namespaces": "team-a-dev",
          "secureworkspace.io/guardrail-networkpolicy": "WithinWorkspace",
          "secureworkspace.io/guardrail-rbac": "Strict",
          "secureworkspace.io/guardrail-mesh": "Strict",
        },
      },
    });
  });

  it("has no ownerReferences: deleting the workspace must never garbage-collect a namespace", () => {
    const ns = namespaceFor({ namespaces: [{ name: "team-a-dev" }], deletionPolicy: "Delete" });
    expect(ns.metadata).to.not.have.property("ownerReferences");
    expect(ns.metadata).to.not.have.property("namespace");
  });

  it("keeps the user's extra labels and annotations next to the operator's", () => {
    const ns = namespaceFor({
      namespaces: [
        {
          name: "team-a-dev",
          labels: { "cost-center": "42" },
          annotations: { "example.com/owner": "team-a" },
        },
      ],
    });
    expect(ns.metadata.labels).to.deep.equal({
      "cost-center": "42",
      "pod-security.kubernetes.io/enforce": "restricted",
      "pod-security.kubernetes.io/enforce-version": "latest",
      "pod-security.kubernetes.io/audit": "restricted",
      "pod-security.kubernetes.io/audit-version": "latest",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/warn-version": "latest",
      "app.kubernetes.io/managed-by": "secure-workspace-operator",
      "secureworkspace.io/workspace": "team-a",
    });
    expect(ns.metadata.annotations).to.deep.include({ "example.com/owner": "team-a" });
  });

  it("each namespace gets only its own extra labels", () => {
    const spec: SecureWorkspaceSpec = {
      namespaces: [
        { name: "team-a-dev", labels: { environment: "dev" } },
        { name: "team-a-prod", labels: { environment: "prod" } },
      ],
    };
    expect(namespaceFor(spec, 0).metadata.labels).to.include({ environment: "dev" });
    expect(namespaceFor(spec, 1).metadata.labels).to.include({ environment: "prod" });
  });

  it("the operator's labels win over a user label of the same key, even in a spec that skipped admission", () => {
    const ns = namespaceFor({
      namespaces: [
        {
          name: "team-a-dev",
          labels: {
            "pod-security.kubernetes.io/enforce": "privileged",
            "secureworkspace.io/workspace": "someone-else",
            "istio-injection": "disabled",
          },
        },
      ],
      serviceMesh: { provider: "istio" },
    });
    expect(ns.metadata.labels).to.include({
      "pod-security.kubernetes.io/enforce": "restricted",
      "secureworkspace.io/workspace": "team-a",
      "istio-injection": "enabled",
    });
  });

  it("merges linkerd annotations with the user's, the operator's keys last", () => {
    const ns = namespaceFor({
      namespaces: [
        {
          name: "team-a-dev",
          annotations: { "example.com/owner": "team-a", "linkerd.io/inject": "disabled" },
        },
      ],
      serviceMesh: { provider: "linkerd" },
    });
    expect(ns.metadata.annotations).to.deep.include({
      "example.com/owner": "team-a",
      "linkerd.io/inject": "enabled",
      "config.linkerd.io/default-inbound-policy": "all-authenticated",
    });
  });
});

describe("baseline: desiredState", () => {
  const full: SecureWorkspaceSpec = {
    namespaces: [{ name: "team-a-dev" }, { name: "team-a-prod" }],
    networkPolicy: {
      allowIngressFrom: [{ podSelector: { matchLabels: { app: "gateway" } } }],
      allowEgressTo: [{ ipBlock: { cidr: "10.0.0.0/8" } }],
    },
    rbac: { bindings: [{ role: "edit", subjects: [{ kind: "Group", name: "team-a" }] }] },
    resourceQuota: { hard: { pods: "10" } },
    limitRange: { default: { cpu: "500m" } },
    serviceMesh: { provider: "istio" },
  };

  it("orders objects per namespace: the Namespace first, default deny before allows, then RBAC, quota and mesh", () => {
    const perNamespace = (ns: string): string[] => [
      `${ns}/Namespace/${ns}`,
      `${ns}/NetworkPolicy/sws-default-deny`,
      `${ns}/NetworkPolicy/sws-allow-same-namespace`,
      `${ns}/NetworkPolicy/sws-allow-dns`,
      `${ns}/NetworkPolicy/sws-allow-ingress`,
      `${ns}/NetworkPolicy/sws-allow-egress`,
      `${ns}/NetworkPolicy/sws-allow-mesh-control-plane`,
      `${ns}/RoleBinding/sws-edit-0`,
      `${ns}/ResourceQuota/sws-quota`,
      `${ns}/LimitRange/sws-limits`,
      `${ns}/PeerAuthentication/sws-mtls`,
      `${ns}/AuthorizationPolicy/sws-allow-workspace`,
    ];
    expect(refs(desiredStateOf(WORKSPACE, applyDefaults(full)))).to.deep.equal([
      ...perNamespace("team-a-dev"),
      ...perNamespace("team-a-prod"),
    ]);
  });

  it("a minimal workspace holds a Namespace and three NetworkPolicies per namespace", () => {
    expect(refs(desiredStateOf(WORKSPACE, applyDefaults({ namespaces: [{ name: "solo" }] })))).to.deep.equal([
      "solo/Namespace/solo",
      "solo/NetworkPolicy/sws-default-deny",
      "solo/NetworkPolicy/sws-allow-same-namespace",
      "solo/NetworkPolicy/sws-allow-dns",
    ]);
  });

  it("desiredState() applies the defaults itself and takes name and uid from the workspace's metadata", () => {
    const ws: SecureWorkspace = {
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: "team-a", uid: "uid-team-a" },
      spec: full,
    };
    expect(desiredState(ws)).to.deep.equal(desiredStateOf(WORKSPACE, applyDefaults(full)));
  });

  it("renders an empty owner uid offline, when the server has not assigned one yet", () => {
    const objs = desiredState({
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: "offline" },
      spec: { namespaces: [{ name: "offline" }] },
    });
    expect(objs[1]?.metadata.ownerReferences).to.deep.equal([
      {
        apiVersion: "secureworkspace.io/v1alpha1",
        kind: "SecureWorkspace",
        name: "offline",
        uid: "",
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  });

  it("maps each kind to the control (status condition) it evidences", () => {
    const kinds = [
      "Namespace",
      "NetworkPolicy",
      "RoleBinding",
      "ResourceQuota",
      "LimitRange",
      "PeerAuthentication",
      "AuthorizationPolicy",
      "ConfigMap",
    ];
    expect(kinds.map((kind) => controlOf({ apiVersion: "v1", kind }))).to.deep.equal([
      "podSecurity",
      "networkPolicy",
      "rbac",
      "quota",
      "quota",
      "meshMTLS",
      "meshAuthorization",
      "namespace",
    ]);
  });
});

describe("baseline: guardrail annotations", () => {
  it("name the workspace's namespaces (sorted), each guardrail's mode and, with Istio, the mTLS mode", () => {
    const ns = namespaceFor({
      namespaces: [{ name: "team-a-dev" }, { name: "team-a-api" }],
      guardrails: { networkPolicy: "SameNamespace", rbac: "Off" },
      serviceMesh: { provider: "istio", mtls: "PERMISSIVE" },
    });
    expect(ns.metadata.annotations).to.deep.equal({
      "secureworkspace.io/workspace-namespaces": "team-a-api,team-a-dev",
      "secureworkspace.io/guardrail-networkpolicy": "SameNamespace",
      "secureworkspace.io/guardrail-rbac": "Off",
      "secureworkspace.io/guardrail-mesh": "Strict",
      "secureworkspace.io/mesh-mtls": "PERMISSIVE",
    });
  });
});
