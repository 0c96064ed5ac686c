/**
 * reachable(): whether a cluster's NetworkPolicies admit one connection
 * (src/baseline/reachability.ts). Examples; the properties (against a plainly written oracle, and
 * against posture()) are in reachability.properties.test.ts; the real node compares it with packets
 * (test/node/network-policy.test.ts).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import { repoRoot } from "../../../src/api/schema.js";
import type { SecureWorkspace } from "../../../src/api/types.js";
import { desiredState } from "../../../src/baseline/index.js";
import type { DesiredObject } from "../../../src/baseline/objects.js";
import type { NetworkPolicySpecInput } from "../../../src/baseline/posture.js";
import {
  reachable,
  type ClusterPolicies,
  type Connection,
  type Endpoint,
  type NetworkPolicyInput,
  type PodEndpoint,
} from "../../../src/baseline/reachability.js";

const NAMESPACES: ClusterPolicies["namespaces"] = [
  { name: "app", labels: { team: "a" } },
  { name: "other", labels: { team: "b" } },
  { name: "kube-system", labels: {} },
];

const pod = (namespace: string, labels: Record<string, string> = {}, ip = "10.244.0.10"): PodEndpoint => ({
  kind: "pod",
  namespace,
  labels,
  ip,
});
const address = (ip: string): Endpoint => ({ kind: "address", ip });
const web = pod("app", { app: "web" }, "10.244.0.2");
const client = pod("other", { app: "client" }, "10.244.0.3");

function tcp(from: Endpoint, to: Endpoint, port: number): Connection {
  return { from, to, protocol: "TCP", port };
}

function policy(namespace: string, name: string, spec: NetworkPolicySpecInput): NetworkPolicyInput {
  return { namespace, name, spec };
}

const cluster = (...networkPolicies: NetworkPolicyInput[]): ClusterPolicies => ({
  networkPolicies,
  namespaces: NAMESPACES,
});

const DENY_INGRESS = policy("app", "deny-ingress", { podSelector: {}, policyTypes: ["Ingress"] });
const DENY_EGRESS = policy("other", "deny-egress", { podSelector: {}, policyTypes: ["Egress"] });

describe("reachable", () => {
  it("admits every connection when no policy selects either end", () => {
    const verdict = reachable(cluster(), tcp(client, web, 8080));
    expect(verdict).to.deep.equal({
      allowed: true,
      egress: { admitted: true, isolatedBy: [], admittedBy: [] },
      ingress: { admitted: true, isolatedBy: [], admittedBy: [] },
    });
  });

  it("blocks what a default deny isolates and names the policy that isolates it", () => {
    const verdict = reachable(cluster(DENY_INGRESS), tcp(client, web, 8080));
    expect(verdict.allowed).to.equal(false);
    expect(verdict.ingress).to.deep.equal({
      admitted: false,
      isolatedBy: ["app/deny-ingress"],
      admittedBy: [],
    });
    expect(verdict.egress.admitted).to.equal(true);
  });

  it("needs both the source's egress and the destination's ingress", () => {
    const allowIn = policy("app", "from-other", {
      podSelector: {},
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: "b" } } }] }],
    });
    const allowOut = policy("other", "to-app", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ to: [{ namespaceSelector: { matchLabels: { team: "a" } } }] }],
    });
    const c = tcp(client, web, 8080);
    expect(reachable(cluster(DENY_INGRESS, allowIn), c).allowed).to.equal(true);
    expect(reachable(cluster(DENY_INGRESS, allowIn, DENY_EGRESS), c).allowed).to.equal(false);
    const both = reachable(cluster(DENY_INGRESS, allowIn, DENY_EGRESS, allowOut), c);
    expect(both.allowed).to.equal(true);
    expect(both.egress.admittedBy).to.deep.equal(["other/to-app"]);
    expect(both.ingress.admittedBy).to.deep.equal(["app/from-other"]);
    // The other way round, nothing isolates app's egress, but other's ingress is open too.
    expect(reachable(cluster(DENY_INGRESS, allowIn, DENY_EGRESS), tcp(web, client, 80)).allowed).to.equal(
      true,
    );
  });

  it("reads a podSelector alone as pods of the policy's own namespace", () => {
    const sameNamespace = policy("app", "same-ns", {
      podSelector: {},
      ingress: [{ from: [{ podSelector: {} }] }],
    });
    const neighbour = pod("app", { app: "job" }, "10.244.0.4");
    expect(reachable(cluster(sameNamespace), tcp(neighbour, web, 8080)).allowed).to.equal(true);
    expect(reachable(cluster(sameNamespace), tcp(client, web, 8080)).allowed).to.equal(false);
  });

  it("matches kubernetes.io/metadata.name by the namespace's name, labels or not", () => {
    const byName = policy("app", "by-name", {
      podSelector: {},
      ingress: [
        { from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "other" } } }] },
      ],
    });
    expect(reachable(cluster(byName), tcp(client, web, 8080)).allowed).to.equal(true);
    expect(reachable(cluster(byName), tcp(pod("kube-system"), web, 8080)).allowed).to.equal(false);
  });

  it("selects only the pods the podSelector matches", () => {
    const onlyDb = policy("app", "db-only", { podSelector: { matchLabels: { app: "db" } } });
    expect(reachable(cluster(onlyDb), tcp(client, web, 8080)).allowed).to.equal(true);
    expect(reachable(cluster(onlyDb), tcp(client, pod("app", { app: "db" }), 5432)).allowed).to.equal(false);
  });

  it("defaults policyTypes as Kubernetes does: egress rules make a policy isolate egress too", () => {
    const withEgress = policy("other", "egress-rules", {
      podSelector: {},
      egress: [{ to: [{ ipBlock: { cidr: "192.0.2.0/24" } }] }],
    });
    const v = reachable(cluster(withEgress), tcp(client, web, 8080));
    expect(v.egress.isolatedBy).to.deep.equal(["other/egress-rules"]);
    expect(v.ingress.admitted).to.equal(true);
    expect(v.allowed).to.equal(false);
    const ingressOnly = policy("other", "no-egress-rules", { podSelector: {}, ingress: [{}] });
    expect(reachable(cluster(ingressOnly), tcp(client, web, 8080)).allowed).to.equal(true);
  });

  it("admits addresses in an ipBlock outside its except ranges, pods included by their IP", () => {
    const toDatabases = policy("app", "to-databases", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [
        {
          to: [{ ipBlock: { cidr: "10.20.0.0/16", except: ["10.20.99.0/24"] } }],
          ports: [{ protocol: "TCP", port: 5432 }],
        },
      ],
    });
    const c = cluster(toDatabases);
    expect(reachable(c, tcp(web, address("10.20.1.10"), 5432)).allowed).to.equal(true);
    expect(reachable(c, tcp(web, address("10.20.99.10"), 5432)).allowed).to.equal(false);
    expect(reachable(c, tcp(web, address("10.21.0.1"), 5432)).allowed).to.equal(false);
    expect(reachable(c, tcp(web, address("10.20.1.10"), 5433)).allowed).to.equal(false);
    expect(reachable(c, tcp(web, pod("other", {}, "10.20.3.4"), 5432)).allowed).to.equal(true);
    expect(reachable(c, tcp(web, pod("other", {}, "10.244.0.9"), 5432)).allowed).to.equal(false);
    // IPv6 addresses are never in an IPv4 block.
    expect(reachable(c, tcp(web, address("::ffff:10.20.1.10"), 5432)).allowed).to.equal(false);
  });

  it("resolves a named port against the destination pod's container ports, protocol included", () => {
    const named = policy("app", "named", {
      podSelector: {},
      ingress: [{ ports: [{ protocol: "TCP", port: "http" }] }],
    });
    const server: PodEndpoint = {
      ...web,
      ports: [
        { name: "http", containerPort: 8080 },
        { name: "dns", containerPort: 53, protocol: "UDP" },
      ],
    };
    const c = cluster(named);
    expect(reachable(c, tcp(client, server, 8080)).allowed).to.equal(true);
    expect(reachable(c, tcp(client, server, 8081)).allowed).to.equal(false);
    expect(reachable(c, { from: client, to: server, protocol: "UDP", port: 8080 }).allowed).to.equal(false);
    expect(
      reachable(c, tcp(client, web, 8080)).allowed,
      "no container ports: the name resolves nowhere",
    ).to.equal(false);
    const egressNamed = policy("other", "named-out", {
      podSelector: {},
      policyTypes: ["Egress"],
      egress: [{ ports: [{ protocol: "UDP", port: "dns" }] }],
    });
    const out = cluster(egressNamed);
    expect(reachable(out, { from: client, to: server, protocol: "UDP", port: 53 }).allowed).to.equal(true);
    expect(
      reachable(out, { from: client, to: address("192.0.2.1"), protocol: "UDP", port: 53 }).allowed,
    ).to.equal(false);
  });

  it("never isolates an address: neither as a source's egress nor as a destination's ingress", () => {
    const c = cluster(DENY_INGRESS, DENY_EGRESS);
    expect(reachable(c, tcp(address("192.0.2.1"), client, 80)).allowed).to.equal(true);
    expect(reachable(c, tcp(web, address("192.0.2.1"), 80)).allowed).to.equal(true);
    expect(reachable(c, tcp(address("192.0.2.1"), web, 80)).allowed).to.equal(false);
  });

  it("refuses a pod whose namespace it was not given, and an IP that is not an address, saying which", () => {
    expect(() => reachable(cluster(), tcp(client, pod("nowhere"), 80))).to.throw(
      "the destination pod's namespace nowhere is not among the namespaces given",
    );
    expect(() => reachable(cluster(), tcp(address("10.0.0.0/8"), web, 80))).to.throw(
      'the source\'s IP "10.0.0.0/8" is not an IP address',
    );
  });

  it("judges the ingress-controller example as its comments say", () => {
    const file = path.join(repoRoot(), "examples", "ingress-controller.yaml");
    const ws = parse(readFileSync(file, "utf8")) as SecureWorkspace;
    const c: ClusterPolicies = {
      networkPolicies: desiredState(ws)
        .filter((o) => o.kind === "NetworkPolicy")
        .map(policyInput),
      namespaces: [
        { name: "web-frontend", labels: { "secureworkspace.io/workspace": ws.metadata.name } },
        { name: "ingress-nginx", labels: {} },
        { name: "kube-system", labels: {} },
      ],
    };
    const app = pod("web-frontend", { app: "web" }, "10.244.0.20");
    const controller = pod("ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx" }, "10.244.0.21");
    const dns = pod("kube-system", { "k8s-app": "kube-dns" }, "10.244.0.22");
    const verdicts = {
      controllerTo8080: reachable(c, tcp(controller, app, 8080)).allowed,
      controllerTo9090: reachable(c, tcp(controller, app, 9090)).allowed,
      otherPodTo8080: reachable(c, tcp(pod("ingress-nginx"), app, 8080)).allowed,
      dns: reachable(c, { from: app, to: dns, protocol: "UDP", port: 53 }).allowed,
      database: reachable(c, tcp(app, address("10.20.1.10"), 5432)).allowed,
      exceptedDatabase: reachable(c, tcp(app, address("10.20.99.10"), 5432)).allowed,
      databaseOtherPort: reachable(c, tcp(app, address("10.20.1.10"), 8080)).allowed,
    };
    expect(verdicts).to.deep.equal({
      controllerTo8080: true,
      controllerTo9090: false,
      otherPodTo8080: false,
      dns: true,
      database: true,
      exceptedDatabase: false,
      databaseOtherPort: false,
    });
  });
});

/** A rendered NetworkPolicy as the evaluator reads it (the baseline's own objects: a known shape). */
function policyInput(obj: DesiredObject): NetworkPolicyInput {
  return {
    namespace: obj.metadata.namespace ?? "",
    name: obj.metadata.name,
    spec: obj["spec"] as NetworkPolicySpecInput,
  };
}
