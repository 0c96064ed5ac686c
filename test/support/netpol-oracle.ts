/**
 * NetworkPolicy semantics written plainly, for brute-force oracles: the posture properties
 * (test/unit/baseline/posture.properties.test.ts) and the reachability properties
 * (test/unit/baseline/reachability.properties.test.ts) judge the evaluators against it. It shares
 * no code with src/baseline/policy-rules.ts: selectors are matched key by key, CIDRs by node's
 * BlockList, ports by comparing numbers.
 */
import { BlockList, isIPv4 } from "node:net";
import type {
  NamespaceInfo,
  NetworkPolicySpecInput,
  PolicyPeerInput,
  PolicyPortInput,
  SelectorInput,
} from "../../src/baseline/posture.js";

/** A label set. */
export type Labels = Readonly<Record<string, string>>;

/**
 * One end of a connection: a pod (its namespace's labels must include `kubernetes.io/metadata.name`)
 * or an address. A pod with an `ip` is matched by ipBlocks too; without one, only by selectors.
 */
export type Conn = { kind: "pod"; ns: NamespaceInfo; pod: Labels; ip?: string } | { kind: "ip"; ip: string };

/** A port a connection goes to: a number, a name (of a container port), or both. */
export interface PortPoint {
  protocol: string;
  num?: number;
  name?: string;
}

/** One rule of a direction, as written. */
export interface OracleRule {
  peers?: readonly PolicyPeerInput[];
  ports?: readonly PolicyPortInput[];
}

const has = (labels: Labels, key: string): boolean => Object.prototype.hasOwnProperty.call(labels, key);

/** Whether a label set matches a selector (absent: everything). */
export function matches(sel: SelectorInput | undefined, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {}))
    if (!has(labels, k) || labels[k] !== v) return false;
  return (sel?.matchExpressions ?? []).every((e) => {
    const present = has(labels, e.key);
    const inValues = present && (e.values ?? []).includes(labels[e.key] ?? "");
    if (e.operator === "In") return inValues;
    if (e.operator === "NotIn") return !inValues;
    if (e.operator === "Exists") return present;
    return !present;
  });
}

const blocks = new Map<string, BlockList>();
/** Whether an address is in a CIDR of its own family (BlockList alone would match IPv4 in ::/0, mapped). */
export function inCidr(cidr: string, ip: string): boolean {
  if (isIPv4(cidr.split("/")[0] ?? "") !== isIPv4(ip)) return false;
  let list = blocks.get(cidr);
  if (!list) {
    const [net = "", prefix = "0"] = cidr.split("/");
    list = new BlockList();
    list.addSubnet(net, Number(prefix), isIPv4(net) ? "ipv4" : "ipv6");
    blocks.set(cidr, list);
  }
  return list.check(ip, isIPv4(ip) ? "ipv4" : "ipv6");
}

/** Whether a peer of a policy in `policyNamespace` admits one end. */
export function peerAdmits(p: PolicyPeerInput, policyNamespace: string, c: Conn): boolean {
  if (p.ipBlock)
    return (
      c.ip !== undefined &&
      inCidr(p.ipBlock.cidr, c.ip) &&
      !(p.ipBlock.except ?? []).some((e) => inCidr(e, c.ip ?? ""))
    );
  if (c.kind !== "pod") return false;
  if (p.namespaceSelector) return matches(p.namespaceSelector, c.ns.labels) && matches(p.podSelector, c.pod);
  return c.ns.name === policyNamespace && matches(p.podSelector, c.pod);
}

/** Whether a port list (absent or empty: every port) admits a port. */
export function portAdmits(ports: readonly PolicyPortInput[] | undefined, pt: PortPoint): boolean {
  if (!ports || ports.length === 0) return true;
  return ports.some((e) => {
    if ((e.protocol ?? "TCP") !== pt.protocol) return false;
    if (e.port === undefined) return true;
    if (typeof e.port === "string") return pt.name === e.port;
    const end = e.endPort ?? e.port;
    // A named port is some number: only a range of every number is sure to hold it.
    if (pt.num === undefined) return e.port <= 1 && end >= 65535;
    return e.port <= pt.num && pt.num <= end;
  });
}

/** The directions a policy isolates. */
export function typesOf(spec: NetworkPolicySpecInput): readonly string[] {
  if (spec.policyTypes?.length) return spec.policyTypes;
  return (spec.egress ?? []).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

/** A policy's rules of one direction (none when it does not isolate that direction). */
export function rulesOf(spec: NetworkPolicySpecInput, direction: "Ingress" | "Egress"): OracleRule[] {
  if (!typesOf(spec).includes(direction)) return [];
  return direction === "Ingress"
    ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
    : (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
}

/** Whether a rule's peers (none: everything) admit one end. */
export const peersAdmit = (r: OracleRule, ns: string, c: Conn): boolean =>
  !r.peers || r.peers.length === 0 || r.peers.some((p) => peerAdmits(p, ns, c));
