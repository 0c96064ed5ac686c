/**
 * NetworkPolicy rules as data, shared by the evaluators that read them (posture.ts: does a policy
 * widen a workspace; reachability.ts: does the cluster admit one connection), so both read
 * NetworkPolicies the same way:
 * - label selectors as conjunctions of per-key tests (an operator the API server would refuse is
 *   read as no constraint, the wider reading);
 * - ports as entries: a range, a name, or every port of a protocol (protocol absent: TCP; no
 *   ports: every port of every protocol);
 * - ipBlocks as ranges of integers per address family, `except` cut out;
 * - rules of a direction, as Kubernetes reads them: policyTypes defaulted, a rule without peers
 *   admits every pod of every namespace and every address, a podSelector alone means the policy's
 *   own namespace.
 * Pure: no I/O.
 */
import { isIP } from "node:net";

// ---------------------------------------------------------------------------------------------
// Input: objects as read from the API server or built by the baseline

/** A namespace the cache knows, with its labels. */
export interface NamespaceInfo {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
}

/** A label selector as read from any object (operators as strings: the API server checks them). */
export interface SelectorInput {
  readonly matchLabels?: Readonly<Record<string, string>>;
  readonly matchExpressions?: ReadonlyArray<{
    readonly key: string;
    readonly operator: string;
    readonly values?: readonly string[];
  }>;
}

/** A NetworkPolicy port (protocol absent: TCP). */
export interface PolicyPortInput {
  readonly protocol?: string;
  readonly port?: number | string;
  readonly endPort?: number;
}

/** A NetworkPolicy peer. */
export interface PolicyPeerInput {
  readonly namespaceSelector?: SelectorInput;
  readonly podSelector?: SelectorInput;
  readonly ipBlock?: { readonly cidr: string; readonly except?: readonly string[] };
}

/** The spec of a NetworkPolicy (networking.k8s.io/v1), as far as the evaluator reads it. */
export interface NetworkPolicySpecInput {
  readonly podSelector?: SelectorInput;
  readonly policyTypes?: readonly string[];
  readonly ingress?: ReadonlyArray<{
    readonly from?: readonly PolicyPeerInput[];
    readonly ports?: readonly PolicyPortInput[];
  }>;
  readonly egress?: ReadonlyArray<{
    readonly to?: readonly PolicyPeerInput[];
    readonly ports?: readonly PolicyPortInput[];
  }>;
}

/** A NetworkPolicy (networking.k8s.io/v1) as the evaluators read it. */
export interface NetworkPolicyInput {
  readonly namespace: string;
  readonly name: string;
  readonly spec: NetworkPolicySpecInput;
}

// ---------------------------------------------------------------------------------------------
// Label selectors as conjunctions of per-key tests

/** The label every namespace carries, its name (whatever a cache holds). */
export const NAME_LABEL = "kubernetes.io/metadata.name";

/** The values a key may take: present values in (or, negated, not in) `values`; absent if `absent`. */
export interface KeyTest {
  readonly absent: boolean;
  readonly negated: boolean;
  readonly values: ReadonlySet<string>;
}

/** A conjunction of key tests: a label set matches when every test passes. */
export type Conj = ReadonlyMap<string, KeyTest>;

/** The empty conjunction: every label set matches. */
export const EMPTY: Conj = new Map();

/** Whether a key test passes for a value (undefined: the key is absent; no test: anything passes). */
export function allows(test: KeyTest | undefined, value: string | undefined): boolean {
  if (test === undefined) return true;
  return value === undefined ? test.absent : test.negated !== test.values.has(value);
}

function intersectTests(a: KeyTest, b: KeyTest): KeyTest {
  const absent = a.absent && b.absent;
  if (a.negated && b.negated) return { absent, negated: true, values: new Set([...a.values, ...b.values]) };
  const [pos, other] = a.negated ? [b, a] : [a, b];
  const keep = [...pos.values].filter((v) => other.negated !== other.values.has(v));
  return { absent, negated: false, values: new Set(keep) };
}

function expressionTest(operator: string, values: readonly string[]): KeyTest | undefined {
  switch (operator) {
    case "In":
      return { absent: false, negated: false, values: new Set(values) };
    case "NotIn":
      return { absent: true, negated: true, values: new Set(values) };
    case "Exists":
      return { absent: false, negated: true, values: new Set() };
    case "DoesNotExist":
      return { absent: true, negated: false, values: new Set() };
    default:
      return undefined; // refused by the API server; read as no constraint (the wider reading)
  }
}

function addTest(out: Map<string, KeyTest>, key: string, test: KeyTest): void {
  const prev = out.get(key);
  out.set(key, prev ? intersectTests(prev, test) : test);
}

/** A selector as a conjunction, its keys prefixed (to put namespace and pod labels in one space). */
export function conjOf(selector: SelectorInput | undefined, prefix = ""): Conj {
  const out = new Map<string, KeyTest>();
  for (const [key, value] of Object.entries(selector?.matchLabels ?? {}))
    addTest(out, prefix + key, { absent: false, negated: false, values: new Set([value]) });
  for (const e of selector?.matchExpressions ?? []) {
    const test = expressionTest(e.operator, e.values ?? []);
    if (test) addTest(out, prefix + e.key, test);
  }
  return out;
}

/** The conjunction of several conjunctions (tests on the same key intersect). */
export function mergeConj(...parts: Conj[]): Conj {
  const out = new Map<string, KeyTest>();
  for (const part of parts) for (const [key, test] of part) addTest(out, key, test);
  return out;
}

/** The same tests with every key prefixed. */
export function prefixConj(conj: Conj, prefix: string): Conj {
  return new Map([...conj].map(([key, test]) => [prefix + key, test]));
}

/** A label's value, undefined when absent (never a property of Object.prototype). */
export function labelOf(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.prototype.hasOwnProperty.call(labels, key) ? labels[key] : undefined;
}

/** Whether a namespace's labels match, `kubernetes.io/metadata.name` being its name whatever the cache holds. */
export function matchesNamespace(conj: Conj, ns: NamespaceInfo): boolean {
  for (const [key, test] of conj)
    if (!allows(test, key === NAME_LABEL ? ns.name : labelOf(ns.labels, key))) return false;
  return true;
}

/** Whether a label set (a pod's) matches. */
export function matchesLabels(conj: Conj, labels: Readonly<Record<string, string>>): boolean {
  for (const [key, test] of conj) if (!allows(test, labelOf(labels, key))) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Ports

/** The protocols a NetworkPolicy port may name. */
export const PROTOCOLS = ["TCP", "UDP", "SCTP"] as const;
/** The highest port number. */
export const MAX_PORT = 65535;

/** One port entry: a range, a name, or (neither) every port of its protocol. */
export interface PortEntry {
  readonly protocol: string;
  readonly range?: { readonly lo: number; readonly hi: number };
  readonly name?: string;
}

/** A port list: "any" for every port of every protocol. */
export type Ports = "any" | readonly PortEntry[];

/** A rule's port list as entries (none or empty: "any"). */
export function portsOf(list: readonly PolicyPortInput[] | undefined): Ports {
  return !list || list.length === 0 ? "any" : list.map(portEntryOf);
}

function portEntryOf(p: PolicyPortInput): PortEntry {
  const protocol = p.protocol ?? "TCP";
  if (typeof p.port === "string") return { protocol, name: p.port };
  if (typeof p.port !== "number") return { protocol };
  const lo = Math.max(1, p.port);
  const hi = Math.min(MAX_PORT, p.endPort !== undefined && p.endPort >= p.port ? p.endPort : p.port);
  return lo <= 1 && hi >= MAX_PORT ? { protocol } : { protocol, range: { lo, hi } };
}

// ---------------------------------------------------------------------------------------------
// Addresses: CIDRs as ranges of integers per family

/** A range of addresses of one family, as integers (both ends included). */
export interface IpRange {
  readonly family: 4 | 6;
  readonly lo: bigint;
  readonly hi: bigint;
}

/** Every IPv4 and every IPv6 address. */
export const ALL_ADDRESSES: readonly IpRange[] = [
  { family: 4, lo: 0n, hi: (1n << 32n) - 1n },
  { family: 6, lo: 0n, hi: (1n << 128n) - 1n },
];

function ipv4Bits(ip: string): bigint {
  return ip.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Bits(ip: string): bigint {
  // A trailing dotted quad ("::ffff:1.2.3.4") is two 16-bit groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(ip);
  const quad = dotted ? ipv4Bits(dotted[2] ?? "") : 0n;
  const hex = dotted
    ? `${dotted[1] ?? ""}${(quad >> 16n).toString(16)}:${(quad & 0xffffn).toString(16)}`
    : ip;
  const [head = "", tail] = hex.split("::");
  const groups = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t];
  return all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** A CIDR's range (host bits ignored), or undefined when it is not one. */
export function rangeOf(cidr: string): IpRange | undefined {
  const [ip = "", prefixText, extra] = cidr.split("/");
  const family = isIP(ip);
  if ((family !== 4 && family !== 6) || extra !== undefined || ip.includes("%")) return undefined;
  const width = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? width : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? "0") || prefix > width) return undefined;
  const bits = family === 4 ? ipv4Bits(ip) : ipv6Bits(ip);
  const host = (1n << BigInt(width - prefix)) - 1n;
  const lo = bits - (bits & host);
  return { family, lo, hi: lo + host };
}

function cutRange(r: IpRange, cut: IpRange): IpRange[] {
  if (r.family !== cut.family || cut.hi < r.lo || cut.lo > r.hi) return [r];
  const out: IpRange[] = [];
  if (cut.lo > r.lo) out.push({ family: r.family, lo: r.lo, hi: cut.lo - 1n });
  if (cut.hi < r.hi) out.push({ family: r.family, lo: cut.hi + 1n, hi: r.hi });
  return out;
}

/** The addresses of `from` that no range of `cuts` holds. */
export function subtract(from: readonly IpRange[], cuts: readonly IpRange[]): IpRange[] {
  let rest = [...from];
  for (const cut of cuts) rest = rest.flatMap((r) => cutRange(r, cut));
  return rest;
}

/**
 * The addresses of an ipBlock. An unreadable CIDR (the API server refuses it) admits every address
 * in a foreign policy and none in the baseline; an unreadable `except` narrows nothing.
 */
export function blockRanges(block: NonNullable<PolicyPeerInput["ipBlock"]>, foreign: boolean): IpRange[] {
  const range = rangeOf(block.cidr);
  if (!range) return foreign ? [...ALL_ADDRESSES] : [];
  const excepts = (block.except ?? []).flatMap((c) => {
    const r = rangeOf(c);
    return r ? [r] : [];
  });
  return subtract([range], excepts);
}

/** One address (IPv4 or IPv6, no prefix) as a range of one, or undefined when it is not an address. */
export function addressOf(ip: string): IpRange | undefined {
  return ip.includes("/") ? undefined : rangeOf(ip);
}

/** Whether an address (from addressOf) is in one of the ranges. */
export function holdsAddress(ranges: readonly IpRange[], address: IpRange): boolean {
  return ranges.some((r) => r.family === address.family && r.lo <= address.lo && address.lo <= r.hi);
}

// ---------------------------------------------------------------------------------------------
// Rules of a direction

/** A direction of traffic, as policyTypes names it. */
export type Direction = "Ingress" | "Egress";

/** Pods whose namespace matches `ns` ("own": the policy's namespace) and whose labels match `pod`. */
export interface PodsPeerRule {
  readonly kind: "pods";
  readonly ns: Conj | "own";
  readonly pod: Conj;
  /** The peer as written; undefined when it stands for a rule without peers. */
  readonly written?: PolicyPeerInput;
}

/** The addresses of an ipBlock (or every address, for a rule without peers). */
export interface AddressPeerRule {
  readonly kind: "addresses";
  readonly ranges: readonly IpRange[];
  /** The peer as written; undefined when it stands for a rule without peers. */
  readonly written?: PolicyPeerInput;
}

/** One peer of a rule. */
export type PeerRule = PodsPeerRule | AddressPeerRule;

/** One rule of a direction: it admits a connection when one of its peers and one of its ports do. */
export interface PolicyRule {
  readonly peers: readonly PeerRule[];
  readonly ports: Ports;
}

/** What a rule without peers (or a peer with no field, which the API server refuses) admits. */
const EVERYWHERE: readonly PeerRule[] = [
  { kind: "pods", ns: EMPTY, pod: EMPTY },
  { kind: "addresses", ranges: ALL_ADDRESSES },
];

function peerRules(p: PolicyPeerInput, foreign: boolean): readonly PeerRule[] {
  if (p.ipBlock) return [{ kind: "addresses", ranges: blockRanges(p.ipBlock, foreign), written: p }];
  if (p.namespaceSelector)
    return [{ kind: "pods", ns: conjOf(p.namespaceSelector), pod: conjOf(p.podSelector), written: p }];
  if (p.podSelector) return [{ kind: "pods", ns: "own", pod: conjOf(p.podSelector), written: p }];
  return EVERYWHERE; // the widest reading
}

/** The directions a policy isolates, as Kubernetes defaults policyTypes. */
export function policyTypesOf(spec: NetworkPolicySpecInput): readonly string[] {
  if (spec.policyTypes && spec.policyTypes.length > 0) return spec.policyTypes;
  return (spec.egress ?? []).length > 0 ? ["Ingress", "Egress"] : ["Ingress"];
}

/**
 * A policy's rules of one direction (none when its policyTypes leave that direction out).
 * `foreign` decides how an unreadable CIDR reads (see blockRanges).
 */
export function rulesOf(spec: NetworkPolicySpecInput, direction: Direction, foreign: boolean): PolicyRule[] {
  if (!policyTypesOf(spec).includes(direction)) return [];
  const rules =
    direction === "Ingress"
      ? (spec.ingress ?? []).map((r) => ({ peers: r.from, ports: r.ports }))
      : (spec.egress ?? []).map((r) => ({ peers: r.to, ports: r.ports }));
  return rules.map((r) => ({
    peers: !r.peers || r.peers.length === 0 ? EVERYWHERE : r.peers.flatMap((p) => peerRules(p, foreign)),
    ports: portsOf(r.ports),
  }));
}
