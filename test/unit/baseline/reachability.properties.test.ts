/**
 * Properties of reachable() (src/baseline/reachability.ts), on the worlds the posture properties
 * generate (test/support/posture-arbitraries.ts: namespaces with labels, a workspace's spec and
 * foreign NetworkPolicies in and out of it), with the workspace's own policies (networkPolicies())
 * added, and connections between generated pods (namespace, labels, an IP from the CIDR pool's
 * regions, sometimes named container ports) and addresses:
 * - it agrees with the plainly written NetworkPolicy semantics of test/support/netpol-oracle.ts
 *   (the posture oracle's), pods being matched by ipBlocks through their IP;
 * - it agrees with posture(): foreign policies that posture() does not report, added to the
 *   workspace's own, admit no connection across the workspace's boundary that its own policies
 *   alone do not.
 */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults, type ResolvedSpec } from "../../../src/api/defaults.js";
import { networkPolicies } from "../../../src/baseline/networkpolicy.js";
import { posture, type NetworkPolicySpecInput } from "../../../src/baseline/posture.js";
import {
  reachable,
  type ClusterPolicies,
  type Connection,
  type ContainerPortInput,
  type Endpoint,
  type NetworkPolicyInput,
} from "../../../src/baseline/reachability.js";
import {
  matches,
  peersAdmit,
  portAdmits,
  rulesOf,
  typesOf,
  type Conn,
  type PortPoint,
} from "../../support/netpol-oracle.js";
import {
  END_PORTS,
  IP_POINTS,
  NAME_LABEL,
  PORT_NUMBERS,
  WS,
  world,
  type Cluster,
  type World,
} from "../../support/posture-arbitraries.js";

const RUNS = 400;
const CONNECTIONS_PER_WORLD = 40;

// ---------------------------------------------------------------------------------------------
// Connections

/** Each port or range bound of the pools, its neighbours, 1 and 65535. */
const PORTS = [
  ...new Set([1, 65535, ...[...PORT_NUMBERS, ...END_PORTS, 53].flatMap((n) => [n - 1, n, n + 1])]),
].filter((n) => n >= 1 && n <= 65535);

/** Container port sets a destination pod may have (for named ports in rules: http, dns). */
const CONTAINER_PORTS: ReadonlyArray<readonly ContainerPortInput[]> = [
  [],
  [
    { name: "http", containerPort: 8080 },
    { name: "dns", containerPort: 53, protocol: "UDP" },
  ],
  [
    { name: "http", containerPort: 81, protocol: "UDP" },
    { name: "dns", containerPort: 53 },
  ],
];

const podLabels = fc.record(
  { a: fc.constantFrom("x", "y", "z"), "k8s-app": fc.constantFrom("kube-dns", "z") },
  { requiredKeys: [] },
);

const address = fc.constantFrom(...IP_POINTS).map((ip): Endpoint => ({ kind: "address", ip }));

function podIn(namespaces: readonly string[]): fc.Arbitrary<Endpoint> {
  return fc
    .record({
      namespace: fc.constantFrom(...namespaces),
      labels: podLabels,
      ip: fc.constantFrom(...IP_POINTS),
      ports: fc.constantFrom(...CONTAINER_PORTS),
    })
    .map((p): Endpoint => ({ kind: "pod", ...p }));
}

const protocol = fc.constantFrom("TCP" as const, "UDP" as const, "SCTP" as const);

function connections(from: fc.Arbitrary<Endpoint>, to: fc.Arbitrary<Endpoint>): fc.Arbitrary<Connection[]> {
  return fc.array(fc.record({ from, to, protocol, port: fc.constantFrom(...PORTS) }), {
    minLength: CONNECTIONS_PER_WORLD,
    maxLength: CONNECTIONS_PER_WORLD,
  });
}

/** Any pod of the cluster, or an address, at either end. */
function anyConnections(c: Cluster): fc.Arbitrary<Connection[]> {
  const end = fc.oneof(
    { weight: 4, arbitrary: podIn(c.existing.map((n) => n.name)) },
    { weight: 1, arbitrary: address },
  );
  return connections(end, end);
}

/** One end a pod of the workspace, the other a pod outside it or an address, either way round. */
function boundaryConnections(c: Cluster): fc.Arbitrary<Connection[]> {
  const outsideNames = c.existing.map((n) => n.name).filter((n) => !c.held.includes(n));
  const inside = podIn(c.held);
  const outside = outsideNames.length > 0 ? fc.oneof(podIn(outsideNames), address) : address;
  return fc.oneof(connections(inside, outside), connections(outside, inside));
}

// ---------------------------------------------------------------------------------------------
// The cluster's policies

/** The workspace's own NetworkPolicies in every namespace it holds. */
function baselineOf(w: World, spec: ResolvedSpec): NetworkPolicyInput[] {
  return w.cluster.held.flatMap((ns) =>
    networkPolicies({ workspace: { name: WS, uid: "" }, spec }, ns).map((p) => ({
      namespace: ns,
      name: p.metadata.name,
      spec: p["spec"] as NetworkPolicySpecInput,
    })),
  );
}

function clusterOf(w: World, policies: readonly NetworkPolicyInput[]): ClusterPolicies {
  return { networkPolicies: policies, namespaces: w.cluster.existing };
}

// ---------------------------------------------------------------------------------------------
// The oracle

function oracleEnd(e: Endpoint, w: World): Conn {
  if (e.kind === "address") return { kind: "ip", ip: e.ip };
  const labels = w.cluster.existing.find((n) => n.name === e.namespace)?.labels ?? {};
  return {
    kind: "pod",
    ns: { name: e.namespace, labels: { ...labels, [NAME_LABEL]: e.namespace } },
    pod: e.labels,
    ip: e.ip,
  };
}

/** Whether one end's policies (those selecting it for `direction`) admit the other end on the port. */
function oracleSide(
  policies: readonly NetworkPolicyInput[],
  direction: "Ingress" | "Egress",
  self: Endpoint,
  other: Conn,
  point: PortPoint,
): boolean {
  if (self.kind !== "pod") return true;
  const isolating = policies.filter(
    (p) =>
      p.namespace === self.namespace &&
      typesOf(p.spec).includes(direction) &&
      matches(p.spec.podSelector, self.labels),
  );
  return (
    isolating.length === 0 ||
    isolating.some((p) =>
      rulesOf(p.spec, direction).some((r) => peersAdmit(r, p.namespace, other) && portAdmits(r.ports, point)),
    )
  );
}

function oracleAllows(w: World, policies: readonly NetworkPolicyInput[], c: Connection): boolean {
  const named =
    c.to.kind === "pod"
      ? (c.to.ports ?? []).find((p) => (p.protocol ?? "TCP") === c.protocol && p.containerPort === c.port)
          ?.name
      : undefined;
  const point: PortPoint = { protocol: c.protocol, num: c.port, ...(named ? { name: named } : {}) };
  return (
    oracleSide(policies, "Egress", c.from, oracleEnd(c.to, w), point) &&
    oracleSide(policies, "Ingress", c.to, oracleEnd(c.from, w), point)
  );
}

// ---------------------------------------------------------------------------------------------

describe("reachable properties", function () {
  this.timeout(60_000);

  it(`admits a connection exactly when the plainly written semantics do (${RUNS} worlds x ${CONNECTIONS_PER_WORLD} connections)`, () => {
    let allowed = 0;
    let total = 0;
    fc.assert(
      fc.property(
        world.chain((w) => anyConnections(w.cluster).map((conns) => ({ w, conns }))),
        ({ w, conns }) => {
          const policies = [...baselineOf(w, applyDefaults(w.spec)), ...w.policies];
          const cluster = clusterOf(w, policies);
          for (const c of conns) {
            const expected = oracleAllows(w, policies, c);
            total++;
            if (expected) allowed++;
            expect(reachable(cluster, c).allowed, JSON.stringify(c)).to.equal(expected);
          }
        },
      ),
      { numRuns: RUNS },
    );
    // The generators must exercise both answers, or the property says little.
    expect(allowed / total).to.be.within(0.15, 0.85);
  });

  it(`lets foreign policies that posture() does not report add no connection across the workspace's boundary (${RUNS} worlds)`, () => {
    let widenedByForeign = 0;
    let admitted = 0;
    fc.assert(
      fc.property(
        world.chain((w) => boundaryConnections(w.cluster).map((conns) => ({ w, conns }))),
        ({ w, conns }) => {
          const spec = applyDefaults(w.spec);
          const reported = new Set(
            posture({
              workspace: WS,
              namespaces: w.cluster.held,
              spec,
              clusterNamespaces: w.cluster.existing,
              networkPolicies: w.policies,
              roleBindings: [],
            }).map((f) => `${f.namespace}/${f.name}`),
          );
          const unreported = w.policies.filter((p) => !reported.has(`${p.namespace}/${p.name}`));
          const own = clusterOf(w, baselineOf(w, spec));
          const withForeign = clusterOf(w, [...own.networkPolicies, ...unreported]);
          for (const c of conns) {
            const verdict = reachable(withForeign, c);
            if (!verdict.allowed) continue;
            admitted++;
            const byOwn = reachable(own, c);
            expect(byOwn.allowed, `${JSON.stringify(c)} admitted by ${JSON.stringify(verdict)}`).to.equal(
              true,
            );
            // The workspace's end of the connection: does a foreign policy admit it there too?
            const inside =
              c.from.kind === "pod" && w.cluster.held.includes(c.from.namespace)
                ? verdict.egress
                : verdict.ingress;
            if (inside.admittedBy.some((p) => p.includes("/foreign-"))) widenedByForeign++;
          }
        },
      ),
      { numRuns: RUNS },
    );
    // Unreported foreign policies must often admit connections too, or the property says little.
    // ~6000 admitted, ~300-600 of them also by a foreign policy on the workspace's side.
    expect(admitted).to.be.greaterThan(RUNS * 4);
    expect(widenedByForeign).to.be.greaterThan(RUNS / 4);
  });
});
