/**
 * Effective posture: what objects the operator does not own open beyond what a workspace declares.
 * NetworkPolicies, RoleBindings and Istio PeerAuthentications add up, so an object that predates
 * adoption, or was made by an exempt identity or under a relaxed guardrail, can widen what the
 * workspace's baseline allows. `posture()` is pure: the caller passes what its caches hold (only
 * objects it does not own, in the workspace's namespaces) and puts the findings in status.
 *
 * NetworkPolicy (one finding per policy). A policy in a namespace the workspace holds widens when,
 * for a direction the spec default-denies (a direction left open has nothing to widen), one of its
 * rules admits a connection (peer, port) that is neither inside the workspace nor admitted by the
 * baseline's own policies for that namespace (src/baseline/networkpolicy.ts: allowIngressFrom /
 * allowEgressTo with their ports, DNS to kube-system k8s-app=kube-dns on UDP/TCP 53, the mesh
 * control plane). Exactly:
 * - Peers are pods (a namespace and a pod label set) or addresses, two disjoint kinds: an ipBlock
 *   admits addresses only (CIDR containment, IPv4 and IPv6, `except` narrows), a selector admits
 *   pods only. A rule without `from`/`to` (or a peer with no field, which the API server refuses)
 *   admits every pod of every namespace and every address.
 * - Inside the workspace: every pod of a namespace it holds (`namespaces`), on every port; so a
 *   podSelector-only peer (the policy's own namespace) never widens, whatever allowSameNamespace.
 * - Namespaces: those the cache knows, at their current labels (plus `kubernetes.io/metadata.name`),
 *   and every namespace that may be created later: any name not taken, any labels, except the
 *   workspace label `secureworkspace.io/workspace=<this workspace>` (reserved to the operator at
 *   admission). So an unpinned selector widens even if no namespace matches it today, unless the
 *   declared allowances cover every namespace it could match; a selector pinned by name (matchLabels
 *   or `In` on `kubernetes.io/metadata.name`) or by the workspace label reaches only those.
 * - Pods are not known: any pod label set may exist; podSelectors narrow.
 * - Ports: no ports means every port of every protocol (TCP, UDP, SCTP); protocol defaults to TCP;
 *   `endPort` makes a range; a numeric entry 1-65535 is every port of its protocol. A named port is
 *   covered only by the same name or by every port of its protocol (its number is not known).
 * - A policy whose podSelector can select no pod (contradictory expressions) widens nothing.
 *   Rules of a direction missing from its effective policyTypes (Ingress, plus Egress when it has
 *   egress rules, if policyTypes is unset) are ignored, as Kubernetes does.
 * - Policies in namespaces the workspace does not hold are ignored. An unreadable CIDR (refused by
 *   the API server) admits every address in a foreign policy; an unreadable `except` narrows nothing.
 * - "Inside" is the whole workspace whatever spec.guardrails says (a SameNamespace guardrail is
 *   enforced at admission, not reported here).
 * The check is exact (a search over label values, port and address ranges, not sampling); a label
 * search that exceeds a fixed step budget (selectors with very many keys) counts as widening and
 * says so.
 *
 * RoleBinding (one finding per binding): a subject that is a broad group (isBroadGroup), the user
 * `system:anonymous`, or a ServiceAccount (kind ServiceAccount, its namespace defaulting to the
 * binding's, or a user `system:serviceaccount:<ns>:<name>`) of a namespace the workspace does not
 * hold that no subject of spec.rbac.bindings names (the role is not compared). Named users and
 * groups are not findings: nothing the operator can see says they are outside the workspace.
 *
 * PeerAuthentication (one finding per object, Istio only: provider istio): a mode weaker than the
 * workspace's mTLS mode (DISABLE; PERMISSIVE under STRICT), at workload level or in portLevelMtls
 * (reported with or without a selector). UNSET or absent inherits: not weaker.
 *
 * Istio AuthorizationPolicies are not evaluated (the workspace-only rule is a DENY policy, which no
 * ALLOW policy can widen).
 *
 * Findings are sorted by control (networkPolicy, rbac, meshMTLS), namespace, then name; `opens`
 * says what is admitted, e.g. `ingress from namespace other-team (not declared) on TCP 8080`, in at
 * most four pieces joined by "; " (then "and N more").
 */
import { isBroadGroup, WORKSPACE_LABEL } from "../api/constants.js";
import type { ResolvedSpec } from "../api/defaults.js";
import { networkPolicies } from "./networkpolicy.js";
import { BASELINE_CONTROLS, type KindOf } from "./controls.js";
import type { Control } from "./objects.js";
import {
  allows,
  conjOf,
  EMPTY,
  labelOf,
  MAX_PORT,
  matchesNamespace,
  mergeConj,
  NAME_LABEL,
  prefixConj,
  PROTOCOLS,
  rulesOf as policyRulesOf,
  subtract,
  type Conj,
  type Direction,
  type IpRange,
  type KeyTest,
  type NamespaceInfo,
  type NetworkPolicyInput,
  type NetworkPolicySpecInput,
  type PeerRule,
  type PortEntry,
  type Ports,
  type SelectorInput,
} from "./policy-rules.js";

export type {
  NamespaceInfo,
  NetworkPolicySpecInput,
  PolicyPeerInput,
  PolicyPortInput,
  SelectorInput,
} from "./policy-rules.js";

// ---------------------------------------------------------------------------------------------
// Input and output

/** A NetworkPolicy the operator does not own, in one of the workspace's namespaces. */
export type ForeignNetworkPolicy = NetworkPolicyInput;

/** An RBAC subject as read from a RoleBinding. */
export interface SubjectInput {
  readonly kind: string;
  readonly name: string;
  readonly namespace?: string;
}

/** A RoleBinding the operator does not own, in one of the workspace's namespaces. */
export interface ForeignRoleBinding {
  readonly namespace: string;
  readonly name: string;
  readonly roleRef: { readonly kind: string; readonly name: string };
  readonly subjects?: readonly SubjectInput[];
}

/** An Istio mTLS setting (mode UNSET or absent: inherited). */
export interface MtlsInput {
  readonly mode?: string;
}

/** An Istio PeerAuthentication the operator does not own, in one of the workspace's namespaces. */
export interface ForeignPeerAuthentication {
  readonly namespace: string;
  readonly name: string;
  readonly spec: {
    readonly selector?: { readonly matchLabels?: Readonly<Record<string, string>> };
    readonly mtls?: MtlsInput;
    readonly portLevelMtls?: Readonly<Record<string, MtlsInput>>;
  };
}

/** What the evaluator reads for one workspace. */
export interface PostureInput {
  /** The SecureWorkspace's name (the value of the workspace label on its namespaces). */
  readonly workspace: string;
  /** The namespaces the workspace holds: inside the workspace. */
  readonly namespaces: readonly string[];
  /** The workspace's spec with defaults applied. */
  readonly spec: ResolvedSpec;
  /** Every namespace the cache knows, with its current labels. */
  readonly clusterNamespaces: readonly NamespaceInfo[];
  /** NetworkPolicies in the workspace's namespaces that the operator does not own. */
  readonly networkPolicies: readonly ForeignNetworkPolicy[];
  /** RoleBindings in the workspace's namespaces that the operator does not own. */
  readonly roleBindings: readonly ForeignRoleBinding[];
  /** Istio PeerAuthentications in the workspace's namespaces that the operator does not own (default none). */
  readonly peerAuthentications?: readonly ForeignPeerAuthentication[];
}

/** The controls a foreign object can weaken. */
export type PostureControl = Extract<Control, "networkPolicy" | "rbac" | "meshMTLS">;

/** One object that widens what the workspace allows. */
export interface Finding {
  readonly control: PostureControl;
  /** The object's kind: one CONTROLS lists for the control. */
  readonly kind: KindOf<PostureControl>;
  readonly namespace: string;
  readonly name: string;
  /** What it admits, in words, e.g. `egress to 0.0.0.0/0 on any port`. */
  readonly opens: string;
}

/** Every foreign object that widens what the workspace declares, in a stable order (see the module doc). */
export function posture(input: PostureInput): Finding[] {
  const held = new Set(input.namespaces);
  return [
    ...networkPolicyFindings(input, held),
    ...roleBindingFindings(input, held),
    ...peerAuthenticationFindings(input, held),
  ].sort(compareFindings);
}

/** Findings are listed in the order of CONTROLS, as status lists the conditions. */
function compareFindings(a: Finding, b: Finding): number {
  return (
    BASELINE_CONTROLS.indexOf(a.control) - BASELINE_CONTROLS.indexOf(b.control) ||
    compareText(a.namespace, b.namespace) ||
    compareText(a.name, b.name)
  );
}

/** Code-unit order: the same everywhere, whatever the locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** At most this many pieces of `opens` per object; the rest are counted. */
const MAX_PIECES = 4;

function joinPieces(pieces: readonly string[]): string {
  const shown = pieces.slice(0, MAX_PIECES).join("; ");
  return pieces.length > MAX_PIECES ? `${shown}; and ${pieces.length - MAX_PIECES} more` : shown;
}

// ---------------------------------------------------------------------------------------------
// Label selectors as conjunctions of per-key tests, and the search for a label set

/** Stands for every label value (or port name) no selector mentions: label values cannot hold NUL. */
const FRESH = "\u0000";
/** Steps one label search may take before it gives up (and the peer counts as widening). */
const SEARCH_BUDGET = 50_000;

/** Whether a label set exists: "found", "none", or "unknown" when the step budget ran out. */
type Verdict = "found" | "none" | "unknown";

interface Search {
  readonly must: Conj;
  readonly mustNot: readonly Conj[];
  /** Per key: absent, every value some test mentions, and FRESH (all the others). */
  readonly domains: ReadonlyMap<string, ReadonlyArray<string | undefined>>;
  readonly assigned: Map<string, string | undefined>;
  readonly budget: { left: number };
}

/**
 * The value classes worth trying per key: absent, every value a test names, and FRESH. The values
 * a negated `must` test excludes are left out: a witness never takes them, and FRESH (a value no
 * test names) stays a valid stand-in for all the others. That keeps the "name not taken" test of
 * future namespaces from putting every namespace name in the domain.
 */
function domainsOf(must: Conj, mustNot: readonly Conj[]): Map<string, Array<string | undefined>> {
  const values = new Map<string, Set<string>>();
  const add = (key: string, named: Iterable<string>): void => {
    const set = values.get(key) ?? new Set<string>();
    for (const v of named) set.add(v);
    values.set(key, set);
  };
  for (const [key, test] of must) add(key, test.negated ? [] : test.values);
  for (const conj of mustNot) for (const [key, test] of conj) add(key, test.values);
  return new Map([...values].map(([key, set]) => [key, [undefined, ...[...set].sort(compareText), FRESH]]));
}

function violatedBy(conj: Conj, assigned: ReadonlyMap<string, string | undefined>): boolean {
  for (const [key, test] of conj) if (assigned.has(key) && !allows(test, assigned.get(key))) return true;
  return false;
}

/**
 * Whether some label set matches `must` and none of `mustNot`. Each excluded conjunction must fail
 * on some key: the search picks, for each in turn, a key and a value class that fails it (and
 * keeps `must`), backtracking. Complete, since values no test mentions all behave alike (FRESH).
 * Conjunctions with the fewest ways to fail go first (one with none ends the search at once).
 */
function someLabelsEscape(must: Conj, mustNot: readonly Conj[]): Verdict {
  const domains = domainsOf(must, mustNot);
  for (const [key, test] of must) if (!(domains.get(key) ?? []).some((v) => allows(test, v))) return "none";
  const ways = (conj: Conj): number =>
    [...conj].reduce(
      (n, [key, test]) =>
        n + (domains.get(key) ?? []).filter((v) => !allows(test, v) && allows(must.get(key), v)).length,
      0,
    );
  const ordered = mustNot
    .map((conj) => ({ conj, ways: ways(conj) }))
    .sort((a, b) => a.ways - b.ways)
    .map((x) => x.conj);
  return killFrom(
    { must, mustNot: ordered, domains, assigned: new Map(), budget: { left: SEARCH_BUDGET } },
    0,
  );
}

function killFrom(s: Search, index: number): Verdict {
  if (--s.budget.left < 0) return "unknown";
  const target = s.mustNot[index];
  if (target === undefined) return "found";
  if (violatedBy(target, s.assigned)) return killFrom(s, index + 1);
  for (const [key, test] of target) {
    if (s.assigned.has(key)) continue;
    for (const value of s.domains.get(key) ?? []) {
      if (allows(test, value) || !allows(s.must.get(key), value)) continue;
      s.assigned.set(key, value);
      const verdict = killFrom(s, index + 1);
      s.assigned.delete(key);
      if (verdict !== "none") return verdict;
    }
  }
  return "none";
}

/** kubectl's selector notation: `team=x,env in (a,b),!gone`; `any` for the empty selector. */
function selectorText(selector: SelectorInput | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    const values = (e.values ?? []).join(",");
    if (e.operator === "In") parts.push(`${e.key} in (${values})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${values})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(",") : "any";
}

// ---------------------------------------------------------------------------------------------
// Ports: the atoms (ranges and names no entry splits) that decide coverage

/** A set of ports that every entry involved admits whole or not at all. */
type PortAtom =
  | { readonly protocol: string; readonly lo: number; readonly hi: number }
  | { readonly protocol: string; readonly name: string };

function atomsOf(lists: readonly Ports[]): PortAtom[] {
  const entries = lists.flatMap((l) => (l === "any" ? [] : l));
  const protocols = [...new Set([...PROTOCOLS, ...entries.map((e) => e.protocol)])];
  return protocols.flatMap((p) =>
    protocolAtoms(
      p,
      entries.filter((e) => e.protocol === p),
    ),
  );
}

function protocolAtoms(protocol: string, entries: readonly PortEntry[]): PortAtom[] {
  const bounds = new Set([1, MAX_PORT + 1]);
  for (const e of entries) if (e.range) bounds.add(e.range.lo).add(e.range.hi + 1);
  const sorted = [...bounds].sort((a, b) => a - b);
  const numeric = sorted.slice(0, -1).map((lo, i) => ({ protocol, lo, hi: (sorted[i + 1] ?? lo + 1) - 1 }));
  const names = [...new Set(entries.flatMap((e) => (e.name === undefined ? [] : [e.name])))].sort(
    compareText,
  );
  return [...numeric, ...[...names, FRESH].map((name) => ({ protocol, name }))];
}

function entryCovers(e: PortEntry, atom: PortAtom): boolean {
  if (e.protocol !== atom.protocol) return false;
  if (!e.range && e.name === undefined) return true;
  if ("name" in atom) return e.name === atom.name;
  return e.range !== undefined && e.range.lo <= atom.lo && atom.hi <= e.range.hi;
}

function covers(ports: Ports, atom: PortAtom): boolean {
  return ports === "any" || ports.some((e) => entryCovers(e, atom));
}

function coversProtocol(ports: Ports, protocol: string): boolean {
  return ports === "any" || ports.some((e) => e.protocol === protocol && !e.range && e.name === undefined);
}

/** The open atoms in words: `any port`, `any UDP port`, `TCP 80, 8000-8080, http`. */
function portsText(open: readonly PortAtom[], admitted: readonly PortAtom[], rulePorts: Ports): string {
  if (rulePorts === "any" && open.length === admitted.length) return "any port";
  const protocols = [...new Set(open.map((a) => a.protocol))];
  return protocols
    .map((protocol) => {
      const mine = open.filter((a) => a.protocol === protocol);
      const all = admitted.filter((a) => a.protocol === protocol);
      if (mine.length === all.length && coversProtocol(rulePorts, protocol)) return `any ${protocol} port`;
      return `${protocol} ${atomWords(mine).join(", ")}`;
    })
    .join(", ");
}

function atomWords(atoms: readonly PortAtom[]): string[] {
  const words: string[] = [];
  let run: { lo: number; hi: number } | undefined;
  const flush = (): void => {
    if (run) words.push(run.lo === run.hi ? `${run.lo}` : `${run.lo}-${run.hi}`);
    run = undefined;
  };
  for (const atom of atoms) {
    if ("name" in atom) {
      flush();
      words.push(atom.name === FRESH ? "named ports" : atom.name);
    } else if (run && run.hi + 1 === atom.lo) run.hi = atom.hi;
    else {
      flush();
      run = { lo: atom.lo, hi: atom.hi };
    }
  }
  flush();
  return words;
}

// ---------------------------------------------------------------------------------------------
// NetworkPolicy rules as peers (in words) and ports

/** Pods matching `pod` in namespaces matching `ns` (both possibly empty: everything). */
interface PodsPeer {
  readonly kind: "pods";
  readonly ns: Conj;
  readonly pod: Conj;
  /** How the namespaces are written: every one (no list of undeclared ones), by name, or by labels. */
  readonly reach: "any" | "named" | "labels";
  readonly text: string;
}

interface AddressPeer {
  readonly kind: "addresses";
  readonly ranges: readonly IpRange[];
  readonly text: string;
}

type Peer = PodsPeer | AddressPeer;

interface Rule {
  readonly peers: readonly Peer[];
  readonly ports: Ports;
}

function isEmptySelector(s: SelectorInput | undefined): boolean {
  return Object.keys(s?.matchLabels ?? {}).length === 0 && (s?.matchExpressions ?? []).length === 0;
}

/** `namespace a` / `namespaces a, b` when the selector only pins names, else `namespaces matching …`. */
function namespacesOf(s: SelectorInput): { text: string; reach: PodsPeer["reach"] } {
  if (isEmptySelector(s)) return { text: "any namespace", reach: "any" };
  const keys = new Set([
    ...Object.keys(s.matchLabels ?? {}),
    ...(s.matchExpressions ?? []).map((e) => e.key),
  ]);
  const byLabel = labelOf(s.matchLabels ?? {}, NAME_LABEL);
  const byIn = (s.matchExpressions ?? []).find((e) => e.key === NAME_LABEL && e.operator === "In")?.values;
  const names = byLabel !== undefined ? [byLabel] : byIn;
  if (keys.size === 1 && names && (s.matchExpressions ?? []).every((e) => e.operator === "In"))
    return {
      text: names.length === 1 ? `namespace ${names[0] ?? ""}` : `namespaces ${names.join(", ")}`,
      reach: "named",
    };
  return { text: `namespaces matching ${selectorText(s)}`, reach: "labels" };
}

/**
 * A peer in words; none for pods of the policy's own namespace (a podSelector alone), which are
 * inside the workspace. A rule without peers reads as "any namespace" and "any address".
 */
function describedPeer(peer: PeerRule): Peer[] {
  const written = peer.written;
  if (peer.kind === "addresses") {
    const block = written?.ipBlock;
    const except = block?.except?.length ? ` except ${block.except.join(", ")}` : "";
    return [
      { kind: "addresses", ranges: peer.ranges, text: block ? `${block.cidr}${except}` : "any address" },
    ];
  }
  if (peer.ns === "own") return [];
  const selector = written?.namespaceSelector;
  if (!selector) return [{ kind: "pods", ns: peer.ns, pod: peer.pod, reach: "any", text: "any namespace" }];
  const where = namespacesOf(selector);
  const pods = isEmptySelector(written.podSelector) ? "" : `pods ${selectorText(written.podSelector)} in `;
  return [{ kind: "pods", ns: peer.ns, pod: peer.pod, reach: where.reach, text: `${pods}${where.text}` }];
}

function rulesOf(spec: NetworkPolicySpecInput, direction: Direction, foreign: boolean): Rule[] {
  return policyRulesOf(spec, direction, foreign).map((r) => ({
    peers: r.peers.flatMap(describedPeer),
    ports: r.ports,
  }));
}

// ---------------------------------------------------------------------------------------------
// What a foreign rule admits beyond the declared rules

/** The namespaces a peer can reach, seen from one workspace. */
interface Universe {
  /** Existing namespaces outside the workspace. */
  readonly outside: readonly NamespaceInfo[];
  /** What a namespace created later satisfies (namespace keys prefixed "n:"): a free name, not our label. */
  readonly future: Conj;
}

/** A declared pods peer with its ports, and its selectors in the combined label space. */
interface DeclaredPods {
  readonly peer: PodsPeer;
  readonly ports: Ports;
  readonly combined: Conj;
}

interface DeclaredAddresses {
  readonly ranges: readonly IpRange[];
  readonly ports: Ports;
}

interface Declared {
  readonly pods: readonly DeclaredPods[];
  readonly addresses: readonly DeclaredAddresses[];
}

const NS = "n:";
const POD = "p:";

function combined(peer: PodsPeer): Conj {
  return mergeConj(prefixConj(peer.ns, NS), prefixConj(peer.pod, POD));
}

function universeOf(input: PostureInput, held: ReadonlySet<string>): Universe {
  const taken = new Set([...held, ...input.clusterNamespaces.map((n) => n.name)]);
  const outside = input.clusterNamespaces.filter((n) => !held.has(n.name));
  const future = new Map<string, KeyTest>([
    [NS + NAME_LABEL, { absent: false, negated: true, values: taken }],
    [NS + WORKSPACE_LABEL, { absent: true, negated: true, values: new Set([input.workspace]) }],
  ]);
  return { outside, future };
}

/** What the baseline's own NetworkPolicies admit in one namespace and direction. */
function declaredOf(input: PostureInput, namespace: string, direction: Direction): Declared {
  const own = networkPolicies({ workspace: { name: input.workspace, uid: "" }, spec: input.spec }, namespace);
  const rules = own.flatMap((p) => rulesOf(p["spec"] as NetworkPolicySpecInput, direction, false));
  const pods: DeclaredPods[] = [];
  const addresses: DeclaredAddresses[] = [];
  for (const rule of rules)
    for (const peer of rule.peers)
      if (peer.kind === "pods") pods.push({ peer, ports: rule.ports, combined: combined(peer) });
      else addresses.push({ ranges: peer.ranges, ports: rule.ports });
  return { pods, addresses };
}

/** What one foreign peer admits beyond the declared rules. */
interface Exposure {
  readonly peer: Peer;
  readonly open: PortAtom[];
  readonly admitted: readonly PortAtom[];
  readonly namespaces: Set<string>;
  future: boolean;
  unknown: boolean;
}

function newExposure(peer: Peer, admitted: readonly PortAtom[]): Exposure {
  return { peer, open: [], admitted, namespaces: new Set(), future: false, unknown: false };
}

/**
 * Existing namespaces outside the workspace that a peer reaches, grouped by which declared peers
 * reach them too (what decides them): a few groups, however many namespaces.
 */
function reachedGroups(peer: PodsPeer, decl: readonly DeclaredPods[], u: Universe): ReachedGroup[] {
  const groups = new Map<number | string, ReachedGroup>();
  for (const ns of u.outside) {
    if (!matchesNamespace(peer.ns, ns)) continue;
    const declaredIn = decl.map((d) => matchesNamespace(d.peer.ns, ns));
    // A bit mask while it fits (it nearly always does: a handful of declared peers).
    const key =
      decl.length <= 30
        ? declaredIn.reduce((bits, b, i) => (b ? bits | (1 << i) : bits), 0)
        : declaredIn.map((b) => (b ? "1" : "0")).join("");
    const group = groups.get(key) ?? { declaredIn, names: [] };
    group.names.push(ns.name);
    groups.set(key, group);
  }
  return [...groups.values()];
}

interface ReachedGroup {
  readonly declaredIn: readonly boolean[];
  readonly names: string[];
}

function podsExposure(peer: PodsPeer, rule: Rule, declared: Declared, u: Universe): Exposure {
  const decl = declared.pods;
  const admitted = atomsOf([rule.ports, ...decl.map((d) => d.ports)]).filter((a) => covers(rule.ports, a));
  const exposure = newExposure(peer, admitted);
  const memo = new Map<string, Verdict>();
  const cached = (key: string, run: () => Verdict): Verdict => {
    const hit = memo.get(key) ?? run();
    memo.set(key, hit);
    return hit;
  };
  const activeOf = admitted.map((atom) => decl.map((d) => covers(d.ports, atom)));
  // Namespaces created later first: when they are open on every port and the peer is written as
  // "any namespace" (no list of names to show), the existing namespaces change nothing.
  const mustFuture = mergeConj(combined(peer), u.future);
  const future = activeOf.map((active) => {
    const which = decl.flatMap((_d, i) => (active[i] ? [i] : []));
    return cached(`f${which.join(",")}`, () =>
      someLabelsEscape(
        mustFuture,
        which.map((i) => decl[i]?.combined ?? EMPTY),
      ),
    );
  });
  const needExisting = peer.reach !== "any" || future.includes("none");
  const groups = needExisting ? reachedGroups(peer, decl, u) : [];
  const openGroups = new Set<ReachedGroup>();
  admitted.forEach((atom, a) => {
    const verdicts = groups.map((g) => {
      const which = decl.flatMap((_d, i) => (activeOf[a]?.[i] && g.declaredIn[i] ? [i] : []));
      const verdict = cached(`e${which.join(",")}`, () =>
        someLabelsEscape(
          peer.pod,
          which.map((i) => decl[i]?.peer.pod ?? EMPTY),
        ),
      );
      if (verdict !== "none") openGroups.add(g);
      return verdict;
    });
    const all = [...verdicts, future[a] ?? "none"];
    exposure.future ||= future[a] !== "none";
    exposure.unknown ||= all.includes("unknown");
    if (all.some((v) => v !== "none")) exposure.open.push(atom);
  });
  for (const g of openGroups) for (const name of g.names) exposure.namespaces.add(name);
  return exposure;
}

function addressExposure(peer: AddressPeer, rule: Rule, declared: Declared): Exposure {
  const decl = declared.addresses;
  const admitted = atomsOf([rule.ports, ...decl.map((d) => d.ports)]).filter((a) => covers(rule.ports, a));
  const exposure = newExposure(peer, admitted);
  for (const atom of admitted) {
    const cover = decl.filter((d) => covers(d.ports, atom)).flatMap((d) => d.ranges);
    if (subtract(peer.ranges, cover).length > 0) exposure.open.push(atom);
  }
  return exposure;
}

/**
 * The peer as written, and for a pods peer which undeclared namespaces it reaches:
 * `namespaces matching team=x (not declared: a, b and namespaces not created yet)`,
 * `namespace other (not declared)`.
 */
function peerWords(e: Exposure): string {
  const peer = e.peer;
  if (peer.kind === "addresses") return peer.text;
  const doubt = e.unknown ? " (too complex to check against the declared allowances)" : "";
  if (peer.reach === "any") return `${peer.text}${doubt}`;
  const names = [...e.namespaces].sort(compareText);
  const listed = names.slice(0, 3).join(", ") + (names.length > 3 ? ` and ${names.length - 3} more` : "");
  const future = e.future ? "namespaces not created yet" : "";
  const which =
    peer.reach === "named"
      ? names.length > 0
        ? ""
        : future
      : [listed, future].filter(Boolean).join(" and ");
  return `${peer.text} (not declared${which ? `: ${which}` : ""})${doubt}`;
}

/** The pieces of `opens` for one rule: peers opened on the same ports share one piece. */
function rulePieces(direction: Direction, rule: Rule, exposures: readonly Exposure[]): string[] {
  const verb = direction === "Ingress" ? "ingress from" : "egress to";
  const byPorts = new Map<string, string[]>();
  for (const e of exposures) {
    if (e.open.length === 0) continue;
    const ports = portsText(e.open, e.admitted, rule.ports);
    byPorts.set(ports, [...(byPorts.get(ports) ?? []), peerWords(e)]);
  }
  return [...byPorts].map(([ports, peers]) => `${verb} ${peers.join(" and ")} on ${ports}`);
}

function canSelectPods(spec: NetworkPolicySpecInput): boolean {
  return someLabelsEscape(conjOf(spec.podSelector), []) !== "none";
}

function policyPieces(
  input: PostureInput,
  policy: ForeignNetworkPolicy,
  universe: Universe,
  declared: (direction: Direction) => Declared,
): string[] {
  if (!canSelectPods(policy.spec)) return [];
  const directions = (["Ingress", "Egress"] as const).filter((d) =>
    input.spec.networkPolicy.defaultDeny.includes(d),
  );
  return directions.flatMap((direction) =>
    rulesOf(policy.spec, direction, true).flatMap((rule) => {
      const exposures = rule.peers.map((peer) =>
        peer.kind === "pods"
          ? podsExposure(peer, rule, declared(direction), universe)
          : addressExposure(peer, rule, declared(direction)),
      );
      return rulePieces(direction, rule, exposures);
    }),
  );
}

function networkPolicyFindings(input: PostureInput, held: ReadonlySet<string>): Finding[] {
  const policies = input.networkPolicies.filter((p) => held.has(p.namespace));
  // Most workspaces have no foreign policy, or deny nothing: skip building the universe then.
  if (policies.length === 0 || input.spec.networkPolicy.defaultDeny.length === 0) return [];
  const universe = universeOf(input, held);
  const cache = new Map<string, Declared>();
  const declaredIn =
    (namespace: string) =>
    (direction: Direction): Declared => {
      const key = `${namespace}/${direction}`;
      const found = cache.get(key) ?? declaredOf(input, namespace, direction);
      cache.set(key, found);
      return found;
    };
  return policies.flatMap((p) => {
    const pieces = policyPieces(input, p, universe, declaredIn(p.namespace));
    return pieces.length === 0
      ? []
      : [
          {
            control: "networkPolicy" as const,
            kind: "NetworkPolicy" as const,
            namespace: p.namespace,
            name: p.name,
            opens: joinPieces(pieces),
          },
        ];
  });
}

// ---------------------------------------------------------------------------------------------
// RoleBindings

const SERVICE_ACCOUNT_USER = /^system:serviceaccount:([^:]+):([^:]+)$/;

/** The ServiceAccount a subject names (`ns/name`), its namespace defaulting to the binding's. */
function serviceAccountOf(s: SubjectInput, bindingNamespace: string): string | undefined {
  if (s.kind === "ServiceAccount") return `${s.namespace || bindingNamespace}/${s.name}`;
  const user = s.kind === "User" ? SERVICE_ACCOUNT_USER.exec(s.name) : null;
  return user ? `${user[1] ?? ""}/${user[2] ?? ""}` : undefined;
}

function subjectWords(
  s: SubjectInput,
  bindingNamespace: string,
  held: ReadonlySet<string>,
  declared: ReadonlySet<string>,
): string | undefined {
  if (s.kind === "Group" && isBroadGroup(s.name)) return `group ${s.name}`;
  if (s.kind === "User" && s.name === "system:anonymous")
    return "user system:anonymous (every anonymous request)";
  const account = serviceAccountOf(s, bindingNamespace);
  if (account === undefined || declared.has(account)) return undefined;
  const namespace = account.slice(0, account.indexOf("/"));
  if (held.has(namespace)) return undefined;
  const written = s.kind === "ServiceAccount" ? "" : ` (user ${s.name})`;
  return `ServiceAccount ${account}${written} (outside the workspace, not declared)`;
}

function roleBindingFindings(input: PostureInput, held: ReadonlySet<string>): Finding[] {
  const declared = new Set(
    input.spec.rbac.bindings.flatMap((b) =>
      b.subjects.flatMap((s) => {
        const account = serviceAccountOf(s, "");
        return account ? [account] : [];
      }),
    ),
  );
  return input.roleBindings
    .filter((rb) => held.has(rb.namespace))
    .flatMap((rb) => {
      const pieces = (rb.subjects ?? []).flatMap((s) => {
        const words = subjectWords(s, rb.namespace, held, declared);
        return words ? [`${rb.roleRef.kind} ${rb.roleRef.name} to ${words}`] : [];
      });
      return pieces.length === 0
        ? []
        : [
            {
              control: "rbac" as const,
              kind: "RoleBinding" as const,
              namespace: rb.namespace,
              name: rb.name,
              opens: joinPieces(pieces),
            },
          ];
    });
}

// ---------------------------------------------------------------------------------------------
// Istio PeerAuthentications

const MTLS_STRENGTH: Readonly<Record<string, number>> = { DISABLE: 0, PERMISSIVE: 1, STRICT: 2 };

function weaker(mode: string | undefined, required: string): boolean {
  const strength = mode === undefined ? undefined : MTLS_STRENGTH[mode];
  return strength !== undefined && strength < (MTLS_STRENGTH[required] ?? 0);
}

function peerAuthenticationPieces(pa: ForeignPeerAuthentication, required: string): string[] {
  const labels = pa.spec.selector?.matchLabels ?? {};
  const target = isEmptySelector(pa.spec.selector)
    ? "every workload"
    : `workloads ${selectorText({ matchLabels: labels })}`;
  const tail = `for ${target} (workspace requires ${required})`;
  const pieces = weaker(pa.spec.mtls?.mode, required) ? [`mTLS ${pa.spec.mtls?.mode ?? ""} ${tail}`] : [];
  const ports = Object.entries(pa.spec.portLevelMtls ?? {}).sort(
    ([a], [b]) => Number(a) - Number(b) || compareText(a, b),
  );
  for (const [port, mtls] of ports)
    if (weaker(mtls?.mode, required)) pieces.push(`mTLS ${mtls?.mode ?? ""} on port ${port} ${tail}`);
  return pieces;
}

function peerAuthenticationFindings(input: PostureInput, held: ReadonlySet<string>): Finding[] {
  const mesh = input.spec.serviceMesh;
  if (mesh.provider !== "istio") return [];
  return (input.peerAuthentications ?? [])
    .filter((pa) => held.has(pa.namespace))
    .flatMap((pa) => {
      const pieces = peerAuthenticationPieces(pa, mesh.mtls);
      return pieces.length === 0
        ? []
        : [
            {
              control: "meshMTLS" as const,
              kind: "PeerAuthentication" as const,
              namespace: pa.namespace,
              name: pa.name,
              opens: joinPieces(pieces),
            },
          ];
    });
}
