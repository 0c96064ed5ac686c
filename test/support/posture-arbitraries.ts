/**
 * fast-check generators for posture() properties: a small universe (a few namespaces with labels
 * from a tiny alphabet, some of them the workspace's), specs whose allowances and foreign objects
 * whose peers, ports and CIDRs all come from the same small pools, so a brute-force oracle can
 * enumerate every connection that matters (see posture.properties.test.ts).
 */
import fc from "fast-check";
import { WORKSPACE_LABEL } from "../../src/api/constants.js";
import type { PolicyPort, SecureWorkspaceSpec, Subject } from "../../src/api/types.js";
import type {
  ForeignNetworkPolicy,
  ForeignPeerAuthentication,
  ForeignRoleBinding,
  NamespaceInfo,
  PolicyPeerInput,
  PolicyPortInput,
  SelectorInput,
} from "../../src/baseline/posture.js";

export const WS = "ws";
export const OTHER_WS = "other-ws";
export const NAME_LABEL = "kubernetes.io/metadata.name";
/** Names a namespace may have or a selector may pin; the workspace holds some of the n* ones. */
export const NAME_POOL = ["n0", "n1", "n2", "n3", "kube-system", "istio-system"] as const;
/** Label values selectors use, per key: namespaces (a, b, the name, the workspace label) and pods. */
export const NS_VALUES: Readonly<Record<string, readonly string[]>> = {
  a: ["x", "y"],
  b: ["x", "y"],
  [NAME_LABEL]: NAME_POOL,
  [WORKSPACE_LABEL]: [WS, OTHER_WS],
};
export const POD_VALUES: Readonly<Record<string, readonly string[]>> = {
  a: ["x", "y"],
  "k8s-app": ["kube-dns"],
};
export const PORT_NUMBERS = [1, 53, 80, 81, 8080, 15012] as const;
export const END_PORTS = [81, 8090, 15017, 65535] as const;
export const PORT_NAMES = ["http", "dns"] as const;
/** CIDRs, each with the CIDRs strictly inside it that an `except` may name. */
export const CIDRS: Readonly<Record<string, readonly string[]>> = {
  "0.0.0.0/0": ["10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16"],
  "10.0.0.0/8": ["10.1.0.0/16", "10.1.2.0/24", "10.2.0.0/16"],
  "10.1.0.0/16": ["10.1.2.0/24", "10.1.2.3/32"],
  "10.1.2.0/24": ["10.1.2.3/32"],
  "10.1.2.3/32": [],
  "10.2.0.0/16": [],
  "192.168.0.0/16": [],
  "::/0": ["fd00::/8"],
  "fd00::/8": ["fd00:1::/32"],
  "fd00:1::/32": ["fd00:1::1/128"],
  "fd00:1::1/128": [],
};
/** One address in every region the CIDRs above cut the address space into (and a few more). */
export const IP_POINTS = [
  "0.0.0.0",
  "9.255.255.255",
  "10.0.0.0",
  "10.1.0.0",
  "10.1.2.0",
  "10.1.2.3",
  "10.1.2.4",
  "10.1.3.0",
  "10.2.0.0",
  "10.3.0.0",
  "11.0.0.0",
  "192.168.0.0",
  "192.168.255.255",
  "255.255.255.255",
  "::",
  "::1",
  "fd00::1",
  "fd00:1::",
  "fd00:1::1",
  "fd00:1::2",
  "fd00:2::",
  "fe80::1",
  "ffff::1",
] as const;

function selectorOf(values: Readonly<Record<string, readonly string[]>>): fc.Arbitrary<SelectorInput> {
  const keys = Object.keys(values);
  const valuesOf = (key: string): readonly string[] => values[key] ?? [];
  const pair = fc
    .constantFrom(...keys)
    .chain((key) => fc.constantFrom(...valuesOf(key)).map((value) => [key, value] as const));
  const expression = fc.constantFrom(...keys).chain((key) =>
    fc.oneof(
      fc.record({
        key: fc.constant(key),
        operator: fc.constantFrom("In", "NotIn"),
        values: fc.subarray([...valuesOf(key)], { minLength: 1 }),
      }),
      fc.record({ key: fc.constant(key), operator: fc.constantFrom("Exists", "DoesNotExist") }),
    ),
  );
  return fc.record(
    {
      matchLabels: fc.array(pair, { maxLength: 2 }).map((pairs) => Object.fromEntries(pairs)),
      matchExpressions: fc.array(expression, { minLength: 1, maxLength: 1 }),
    },
    { requiredKeys: [] },
  );
}

export const nsSelector = selectorOf(NS_VALUES);
export const podSelector = selectorOf(POD_VALUES);

const protocol = fc.option(fc.constantFrom("TCP" as const, "UDP" as const, "SCTP" as const), {
  nil: undefined,
});

export const port: fc.Arbitrary<PolicyPort> = fc.oneof(
  fc
    .tuple(
      protocol,
      fc.constantFrom(...PORT_NUMBERS),
      fc.option(fc.constantFrom(...END_PORTS), { nil: undefined }),
    )
    .map(([p, n, end]) => ({
      ...(p ? { protocol: p } : {}),
      port: n,
      ...(end !== undefined && end >= n ? { endPort: end } : {}),
    })),
  fc
    .tuple(protocol, fc.constantFrom(...PORT_NAMES))
    .map(([p, name]) => ({ ...(p ? { protocol: p } : {}), port: name })),
  protocol.map((p) => (p ? { protocol: p } : {})),
  // Every port of a protocol, written as a range: it covers named ports too.
  protocol.map((p) => ({ ...(p ? { protocol: p } : {}), port: 1, endPort: 65535 })),
);

export const ipBlock = fc
  .constantFrom(...Object.keys(CIDRS))
  .chain((cidr) =>
    fc.subarray([...(CIDRS[cidr] ?? [])]).map((except) => (except.length > 0 ? { cidr, except } : { cidr })),
  );

/** A peer, in the shape both an allowance and a NetworkPolicy rule use. */
export const peer: fc.Arbitrary<PolicyPeerInput> = fc.oneof(
  fc.record({ podSelector }),
  {
    arbitrary: fc.record(
      { namespaceSelector: nsSelector, podSelector },
      { requiredKeys: ["namespaceSelector"] },
    ),
    weight: 2,
  },
  fc.record({ ipBlock }),
);

const ports = fc.array(port, { maxLength: 2 });

/** A valid allowance (one peer and optional ports). */
export const allowance = fc
  .tuple(peer, fc.option(ports, { nil: undefined }))
  .map(([p, ps]) => ({ ...p, ...(ps ? { ports: ps } : {}) })) as fc.Arbitrary<
  NonNullable<NonNullable<SecureWorkspaceSpec["networkPolicy"]>["allowIngressFrom"]>[number]
>;

/** The cluster: 3-5 namespaces from the pool, the workspace holding 1-3 of the n* ones. */
export interface Cluster {
  readonly existing: readonly NamespaceInfo[];
  readonly held: readonly string[];
}

export const cluster: fc.Arbitrary<Cluster> = fc
  .uniqueArray(fc.constantFrom(...NAME_POOL), { minLength: 3, maxLength: 5 })
  .filter((names) => names.some((n) => n.startsWith("n")))
  .chain((names) => {
    const candidates = names.filter((n) => n.startsWith("n"));
    return fc.tuple(
      fc.constant(names),
      fc.subarray(candidates, { minLength: 1 }),
      fc.array(
        fc.record(
          {
            a: fc.constantFrom("x", "y"),
            b: fc.constantFrom("x", "y"),
            ws: fc.constantFrom(OTHER_WS, OTHER_WS, OTHER_WS, WS),
          },
          { requiredKeys: [] },
        ),
        { minLength: names.length, maxLength: names.length },
      ),
    );
  })
  .map(([names, held, labelSets]) => ({
    held,
    existing: names.map((name, i) => {
      const { ws, ...rest } = labelSets[i] ?? {};
      // The operator labels what it holds; a namespace outside rarely carries a workspace label
      // (this one's only if someone bypassed admission).
      const wsLabel = held.includes(name) ? WS : ws;
      return { name, labels: { ...rest, ...(wsLabel ? { [WORKSPACE_LABEL]: wsLabel } : {}) } };
    }),
  }));

const mesh = fc.oneof(
  fc.constant({ provider: "none" as const }),
  fc.record(
    {
      provider: fc.constantFrom("istio" as const, "linkerd" as const),
      controlPlaneNamespace: fc.constantFrom("istio-system", "n3"),
    },
    { requiredKeys: ["provider"] },
  ),
);

/** A spec over the cluster's held namespaces with allowances from the pools. */
export function specFor(held: readonly string[]): fc.Arbitrary<SecureWorkspaceSpec> {
  return fc.record({
    namespaces: fc.constant(held.map((name) => ({ name }))),
    networkPolicy: fc.record({
      // Mostly both directions denied: a direction left open has nothing to widen.
      defaultDeny: fc.constantFrom<Array<"Ingress" | "Egress">>(
        ["Ingress", "Egress"],
        ["Ingress", "Egress"],
        ["Ingress"],
        ["Egress"],
        [],
      ),
      allowSameNamespace: fc.boolean(),
      allowDNS: fc.boolean(),
      allowIngressFrom: fc.array(allowance, { maxLength: 2 }),
      allowEgressTo: fc.array(allowance, { maxLength: 2 }),
    }),
    serviceMesh: mesh,
  });
}

type Rule = { peers?: PolicyPeerInput[]; ports?: PolicyPortInput[] };

/** Another peer of the same kind as `p` (an ipBlock for an ipBlock, ...): a near miss of a copy. */
function samePeerKind(p: PolicyPeerInput): fc.Arbitrary<PolicyPeerInput> {
  if (p.ipBlock) return fc.record({ ipBlock });
  if (p.namespaceSelector)
    return fc.record({ namespaceSelector: nsSelector, podSelector }, { requiredKeys: ["namespaceSelector"] });
  return fc.record({ podSelector });
}

/**
 * A rule: random, or a copy of a declared allowance with its ports kept, dropped or replaced, or
 * its ports kept and its peer replaced by another of the same kind (near misses are where the
 * evaluator can go wrong).
 */
function ruleFor(declared: readonly PolicyPeerInput[]): fc.Arbitrary<Rule> {
  const random = fc.record(
    { peers: fc.array(peer, { maxLength: 2 }), ports: fc.array(port, { maxLength: 2 }) },
    { requiredKeys: [] },
  );
  if (declared.length === 0) return random;
  const copy = fc.constantFrom(...declared).chain((d) => {
    const { ports: own, ...p } = d as PolicyPeerInput & { ports?: PolicyPortInput[] };
    const keep = own ? { ports: own } : {};
    return fc.oneof(
      fc.constant<Rule>({ peers: [p], ...keep }),
      fc.constant<Rule>({ peers: [p] }),
      ports.map((other): Rule => ({ peers: [p], ports: other })),
      samePeerKind(p).map((other): Rule => ({ peers: [other], ...keep })),
      samePeerKind(p).map((other): Rule => ({ peers: [other], ...keep })),
    );
  });
  return fc.oneof(random, copy, copy);
}

const direction = (
  rules: fc.Arbitrary<Rule>,
  key: "from" | "to",
): fc.Arbitrary<Array<Record<string, unknown>>> =>
  fc.array(
    rules.map((r) => ({ ...(r.peers ? { [key]: r.peers } : {}), ...(r.ports ? { ports: r.ports } : {}) })),
    { minLength: 1, maxLength: 2 },
  );

/** 1-3 foreign NetworkPolicies, mostly in held namespaces. */
export function policiesFor(c: Cluster, spec: SecureWorkspaceSpec): fc.Arbitrary<ForeignNetworkPolicy[]> {
  const np = spec.networkPolicy ?? {};
  const ingressRules = ruleFor(np.allowIngressFrom ?? []);
  const egressRules = ruleFor(np.allowEgressTo ?? []);
  const where = fc.constantFrom(...c.held, ...c.held, ...c.held, ...c.existing.map((n) => n.name));
  const policy = fc.record(
    {
      namespace: where,
      spec: fc.record(
        {
          podSelector,
          policyTypes: fc.subarray(["Ingress", "Egress"]),
          ingress: direction(ingressRules, "from"),
          egress: direction(egressRules, "to"),
        },
        { requiredKeys: ["podSelector", "ingress", "egress"] },
      ),
    },
    { requiredKeys: ["namespace", "spec"] },
  );
  return fc
    .array(policy, { minLength: 1, maxLength: 3 })
    .map((ps) => ps.map((p, i): ForeignNetworkPolicy => ({ ...p, name: `foreign-${i}` })));
}

/** A generated cluster, spec and foreign NetworkPolicies. */
export interface World {
  readonly cluster: Cluster;
  readonly spec: SecureWorkspaceSpec;
  readonly policies: readonly ForeignNetworkPolicy[];
}

export const world: fc.Arbitrary<World> = cluster.chain((c) =>
  specFor(c.held).chain((spec) => policiesFor(c, spec).map((policies) => ({ cluster: c, spec, policies }))),
);

// ---------------------------------------------------------------------------------------------
// RBAC and Istio

export const GROUPS = [
  "system:authenticated",
  "system:unauthenticated",
  "system:serviceaccounts",
  "system:masters",
  "system:serviceaccounts:n0",
  "system:serviceaccounts:elsewhere",
  "devs",
  "system:nodes",
] as const;
export const USERS = [
  "alice",
  "system:anonymous",
  "system:serviceaccount:n0:ci",
  "system:serviceaccount:elsewhere:ci",
  "system:serviceaccount:elsewhere:bot",
] as const;
const SA_NAMESPACES = ["n0", "n1", "elsewhere", "kube-system"] as const;
const SA_NAMES = ["ci", "bot"] as const;

const saSubject = fc.record(
  {
    kind: fc.constant("ServiceAccount" as const),
    name: fc.constantFrom(...SA_NAMES),
    namespace: fc.constantFrom(...SA_NAMESPACES),
  },
  { requiredKeys: ["kind", "name"] },
);
export const subject = fc.oneof(
  fc.record({ kind: fc.constant("Group" as const), name: fc.constantFrom(...GROUPS) }),
  fc.record({ kind: fc.constant("User" as const), name: fc.constantFrom(...USERS) }),
  saSubject,
);

/** A workspace's held namespaces, the ServiceAccounts its spec binds, and foreign RoleBindings. */
export interface RbacWorld {
  readonly held: readonly string[];
  readonly declared: readonly Subject[];
  readonly bindings: readonly ForeignRoleBinding[];
}

export const rbacWorld: fc.Arbitrary<RbacWorld> = fc.record({
  held: fc.subarray(["n0", "n1", "n2"], { minLength: 1 }),
  declared: fc.array(
    fc.oneof(
      saSubject.map((s) => ({ ...s, namespace: s.namespace ?? "elsewhere" })),
      fc.constant({ kind: "User" as const, name: "system:serviceaccount:elsewhere:ci" }),
    ),
    { maxLength: 3 },
  ),
  bindings: fc
    .array(
      fc.record({
        namespace: fc.constantFrom("n0", "n1", "n2"),
        roleRef: fc.record({
          kind: fc.constantFrom("ClusterRole", "Role"),
          name: fc.constantFrom("admin", "view"),
        }),
        subjects: fc.array(subject, { maxLength: 3 }),
      }),
      { minLength: 1, maxLength: 3 },
    )
    .map((bs) => bs.map((b, i) => ({ ...b, name: `rb-${i}` }))),
});

const mode = fc.option(fc.constantFrom("UNSET", "DISABLE", "PERMISSIVE", "STRICT"), { nil: undefined });

/** Foreign PeerAuthentications in n0. */
export const peerAuthentications: fc.Arbitrary<ForeignPeerAuthentication[]> = fc
  .array(
    fc.record(
      {
        selector: fc.record({ matchLabels: fc.constant({ app: "web" }) }),
        mtls: mode.map((m) => (m ? { mode: m } : {})),
        portLevelMtls: fc.dictionary(
          fc.constantFrom("80", "8080", "9090"),
          mode.map((m) => (m ? { mode: m } : {})),
          {
            maxKeys: 2,
          },
        ),
      },
      { requiredKeys: [] },
    ),
    { minLength: 1, maxLength: 3 },
  )
  .map((specs) => specs.map((spec, i) => ({ namespace: "n0", name: `pa-${i}`, spec })));
