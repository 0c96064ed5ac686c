/**
 * Properties of posture() against a brute-force oracle. The oracle enumerates every connection of
 * a small universe: existing namespaces at their labels, and the namespaces that could be created
 * later (every combination of the label alphabet, plus a value no selector names, under every
 * free name, never carrying this workspace's label), every pod label combination, every port that
 * matters (each port or range bound of the pools, its neighbours, 1, 65535, every name and one
 * more), one address in every region the CIDR pool cuts the address space into. A connection
 * widens when a foreign rule of a default-denied direction admits it, it is not inside the
 * workspace, and no rule of the baseline's own NetworkPolicies (networkPolicies()) admits it.
 */
import { expect } from "chai";
import fc from "fast-check";
import { WORKSPACE_LABEL } from "../../../src/api/constants.js";
import { applyDefaults, type ResolvedSpec } from "../../../src/api/defaults.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import { networkPolicies } from "../../../src/baseline/networkpolicy.js";
import {
  posture,
  type ForeignNetworkPolicy,
  type NamespaceInfo,
  type NetworkPolicySpecInput,
  type PostureInput,
} from "../../../src/baseline/posture.js";
import {
  END_PORTS,
  IP_POINTS,
  NAME_LABEL,
  NAME_POOL,
  OTHER_WS,
  PORT_NAMES,
  PORT_NUMBERS,
  WS,
  peerAuthentications,
  rbacWorld,
  world,
  type World,
} from "../../support/posture-arbitraries.js";
import {
  matches,
  peersAdmit,
  portAdmits,
  rulesOf,
  type Conn,
  type Labels,
  type OracleRule,
  type PortPoint,
} from "../../support/netpol-oracle.js";

const RUNS = 500;

// ---------------------------------------------------------------------------------------------
// The universe

/** Values of each key: absent, the generators' values, and one no selector names. */
const combos = (values: Readonly<Record<string, ReadonlyArray<string | undefined>>>): Labels[] =>
  Object.entries(values).reduce<Labels[]>(
    (acc, [key, vs]) => acc.flatMap((l) => vs.map((v) => (v === undefined ? l : { ...l, [key]: v }))),
    [{}],
  );
const POD_LABELS = combos({ a: [undefined, "x", "y", "z"], "k8s-app": [undefined, "kube-dns", "z"] });
const FUTURE_LABELS = combos({
  a: [undefined, "x", "y", "z"],
  b: [undefined, "x", "y", "z"],
  [WORKSPACE_LABEL]: [undefined, OTHER_WS, "third-ws"],
});
const PORT_POINTS: PortPoint[] = (() => {
  const bounds = [...PORT_NUMBERS, ...END_PORTS, 53, 15012, 15017, 8080, 8086, 8090];
  const nums = [...new Set([1, 65535, ...bounds.flatMap((n) => [n - 1, n, n + 1])])].filter(
    (n) => n >= 1 && n <= 65535,
  );
  return ["TCP", "UDP", "SCTP"].flatMap((protocol) => [
    ...nums.map((num) => ({ protocol, num })),
    ...[...PORT_NAMES, "other-name"].map((name) => ({ protocol, name })),
  ]);
})();

function namespacesOf(w: World, spec: ResolvedSpec): NamespaceInfo[] {
  const existing = w.cluster.existing.map((n) => ({
    name: n.name,
    labels: { ...n.labels, [NAME_LABEL]: n.name },
  }));
  const taken = new Set([...w.cluster.held, ...existing.map((n) => n.name)]);
  const free = [
    ...new Set([...NAME_POOL, spec.serviceMesh.controlPlaneNamespace, "linkerd", "fresh-ns"]),
  ].filter((n) => !taken.has(n));
  const future = free.flatMap((name) =>
    FUTURE_LABELS.map((labels) => ({ name, labels: { ...labels, [NAME_LABEL]: name } })),
  );
  return [...existing, ...future];
}

function connectionsOf(w: World, spec: ResolvedSpec): Conn[] {
  return [
    ...namespacesOf(w, spec).flatMap((ns) => POD_LABELS.map((pod): Conn => ({ kind: "pod", ns, pod }))),
    ...IP_POINTS.map((ip): Conn => ({ kind: "ip", ip })),
  ];
}

// ---------------------------------------------------------------------------------------------
// The oracle (NetworkPolicy semantics written plainly: test/support/netpol-oracle.ts)

/** The baseline's own NetworkPolicies in one namespace, as rules of one direction. */
function baselineRules(spec: ResolvedSpec, namespace: string, direction: "Ingress" | "Egress"): OracleRule[] {
  return networkPolicies({ workspace: { name: WS, uid: "" }, spec }, namespace).flatMap((p) =>
    rulesOf(p["spec"] as NetworkPolicySpecInput, direction),
  );
}

/** Whether some connection a policy admits is neither inside the workspace nor declared. */
function oracleWidens(
  w: World,
  spec: ResolvedSpec,
  conns: readonly Conn[],
  policy: ForeignNetworkPolicy,
): boolean {
  const held = new Set(w.cluster.held);
  const n = policy.namespace;
  if (!held.has(n) || !POD_LABELS.some((l) => matches(policy.spec.podSelector, l))) return false;
  for (const direction of spec.networkPolicy.defaultDeny) {
    const declared = baselineRules(spec, n, direction);
    for (const rule of rulesOf(policy.spec, direction)) {
      const ports = PORT_POINTS.filter((pt) => portAdmits(rule.ports, pt));
      for (const c of conns) {
        if (ports.length === 0 || !peersAdmit(rule, n, c)) continue;
        if (c.kind === "pod" && held.has(c.ns.name)) continue;
        const covering = declared.filter((r) => peersAdmit(r, n, c));
        if (ports.some((pt) => !covering.some((r) => portAdmits(r.ports, pt)))) return true;
      }
    }
  }
  return false;
}

/** One policy per rule of `policy`, each isolating only that rule's direction. */
function singleRules(policy: ForeignNetworkPolicy): ForeignNetworkPolicy[] {
  return (["Ingress", "Egress"] as const).flatMap((direction) => {
    const key = direction === "Ingress" ? "ingress" : "egress";
    return rulesOf(policy.spec, direction).map((_r, j) => ({
      namespace: policy.namespace,
      name: `${policy.name}.${key}.${j}`,
      spec: {
        ...(policy.spec.podSelector ? { podSelector: policy.spec.podSelector } : {}),
        policyTypes: [direction],
        [key]: [policy.spec[key]?.[j] ?? {}],
      },
    }));
  });
}

function inputOf(w: World, spec: ResolvedSpec, policies = w.policies): PostureInput {
  return {
    workspace: WS,
    namespaces: w.cluster.held,
    spec,
    clusterNamespaces: w.cluster.existing,
    networkPolicies: policies,
    roleBindings: [],
  };
}

describe("posture properties", function () {
  // The oracle enumerates every connection: seconds, not milliseconds (and mocha's default is 2 s).
  this.timeout(60_000);

  it(`reports a NetworkPolicy, and each of its rules alone, exactly when it admits an undeclared connection (brute force, ${RUNS} runs)`, () => {
    let widening = 0;
    let total = 0;
    fc.assert(
      fc.property(world, (w) => {
        const spec = applyDefaults(w.spec);
        const conns = connectionsOf(w, spec);
        // Each rule alone too: in a whole policy, one wide rule would hide a mistake on another.
        const all = [...w.policies, ...w.policies.flatMap(singleRules)];
        const found = new Set(posture(inputOf(w, spec, all)).map((f) => f.name));
        for (const policy of all) {
          const expected = oracleWidens(w, spec, conns, policy);
          total++;
          if (expected) widening++;
          expect(found.has(policy.name), `${policy.name}: ${JSON.stringify(policy)}`).to.equal(expected);
        }
      }),
      { numRuns: RUNS },
    );
    // The generators must exercise both answers, or the property says little.
    expect(widening / total).to.be.within(0.2, 0.8);
  });

  it("never reports a copy of the baseline's own NetworkPolicies", () => {
    fc.assert(
      fc.property(world, (w) => {
        const spec = applyDefaults(w.spec);
        const copies = w.cluster.held.flatMap((ns) =>
          networkPolicies({ workspace: { name: WS, uid: "" }, spec }, ns).map((p): ForeignNetworkPolicy => ({
            namespace: ns,
            name: `copy-${p.metadata.name}`,
            spec: p["spec"] as NetworkPolicySpecInput,
          })),
        );
        expect(posture(inputOf(w, spec, copies))).to.deep.equal([]);
      }),
      { numRuns: 300 },
    );
  });

  it("gives the same findings whatever the order of its input", () => {
    fc.assert(
      fc.property(world, (w) => {
        const spec = applyDefaults(w.spec);
        const reversed: PostureInput = {
          ...inputOf(w, spec, [...w.policies].reverse()),
          clusterNamespaces: [...w.cluster.existing].reverse(),
        };
        expect(posture(reversed)).to.deep.equal(posture(inputOf(w, spec)));
      }),
      { numRuns: 200 },
    );
  });

  it("reports a RoleBinding exactly when a subject is a broad group, anonymous, or an undeclared ServiceAccount outside", () => {
    const broad = new Set([
      "system:authenticated",
      "system:unauthenticated",
      "system:serviceaccounts",
      "system:masters",
    ]);
    fc.assert(
      fc.property(rbacWorld, (w) => {
        const accountOf = (
          kind: string,
          name: string,
          namespace: string | undefined,
          at: string,
        ): string | undefined => {
          if (kind === "ServiceAccount") return `${namespace ?? at}/${name}`;
          const m = kind === "User" ? /^system:serviceaccount:(.+):(.+)$/.exec(name) : null;
          return m ? `${m[1]}/${m[2]}` : undefined;
        };
        const declared = new Set(w.declared.map((s) => accountOf(s.kind, s.name, s.namespace, "")));
        const spec: SecureWorkspaceSpec = {
          namespaces: w.held.map((name) => ({ name })),
          rbac: { bindings: w.declared.length ? [{ role: "view", subjects: [...w.declared] }] : [] },
        };
        const found = new Set(
          posture({
            workspace: WS,
            namespaces: w.held,
            spec: applyDefaults(spec),
            clusterNamespaces: [],
            networkPolicies: [],
            roleBindings: w.bindings,
          }).map((f) => f.name),
        );
        for (const b of w.bindings) {
          const widens =
            w.held.includes(b.namespace) &&
            (b.subjects ?? []).some((s) => {
              if (s.kind === "Group")
                return broad.has(s.name) || s.name.startsWith("system:serviceaccounts:");
              if (s.kind === "User" && s.name === "system:anonymous") return true;
              const account = accountOf(s.kind, s.name, s.namespace, b.namespace);
              return (
                account !== undefined &&
                !declared.has(account) &&
                !w.held.includes(account.split("/")[0] ?? "")
              );
            });
          expect(found.has(b.name), JSON.stringify(b)).to.equal(widens);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("reports a PeerAuthentication exactly when some mode is weaker than the workspace's", () => {
    const strength: Record<string, number> = { DISABLE: 0, PERMISSIVE: 1, STRICT: 2 };
    fc.assert(
      fc.property(
        peerAuthentications,
        fc.constantFrom("STRICT" as const, "PERMISSIVE" as const),
        (pas, mtls) => {
          const spec = applyDefaults({
            namespaces: [{ name: "n0" }],
            serviceMesh: { provider: "istio", mtls },
          });
          const found = new Set(
            posture({
              workspace: WS,
              namespaces: ["n0"],
              spec,
              clusterNamespaces: [],
              networkPolicies: [],
              roleBindings: [],
              peerAuthentications: pas,
            }).map((f) => f.name),
          );
          for (const pa of pas) {
            const modes = [
              pa.spec.mtls?.mode,
              ...Object.values(pa.spec.portLevelMtls ?? {}).map((m) => m.mode),
            ];
            const weaker = modes.some(
              (m) => m !== undefined && m in strength && (strength[m] ?? 0) < (strength[mtls] ?? 0),
            );
            expect(found.has(pa.name), JSON.stringify(pa)).to.equal(weaker);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
