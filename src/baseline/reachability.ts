/**
 * Whether the NetworkPolicies of a cluster admit one connection, as Kubernetes defines it: the
 * source pod's egress AND the destination pod's ingress. `reachable()` is pure; it reads policies
 * through policy-rules.ts, as the posture evaluator (posture.ts) does, so the real-node tests that
 * compare it with packets prove that reading.
 *
 * Exactly:
 * - A pod is isolated for a direction when a policy of its namespace selects it (podSelector) and
 *   has that direction in its effective policyTypes (Ingress, plus Egress when it has egress rules,
 *   if policyTypes is unset). A direction nobody isolates admits everything.
 * - An isolated direction admits the connection when a rule of one of the policies isolating it
 *   admits both the peer (the other end) and the port. A rule without peers admits every pod and
 *   every address; a rule without ports every port of every protocol.
 * - Peers: a namespaceSelector (with an optional podSelector) admits pods of matching namespaces
 *   (`kubernetes.io/metadata.name` is the namespace's name); a podSelector alone admits pods of the
 *   policy's own namespace; an ipBlock admits the addresses in its CIDR outside its `except` ranges,
 *   pods included (by their pod IP, as implementations do: kube-router, Calico and the upstream
 *   e2e tests match ipBlocks against pod IPs; posture.ts, which asks a different question, keeps
 *   pods and addresses apart).
 * - Ports: the connection's protocol and destination port. A named port in a rule is resolved
 *   against the destination pod's container ports (name and protocol), in both directions, as
 *   Kubernetes does; it never admits a connection to an address that is not a pod.
 * - An address outside the cluster has no policies: as a source it is never isolated for egress,
 *   as a destination never for ingress.
 * - Objects the API server would refuse are read as posture.ts reads a policy it does not own: an
 *   unreadable CIDR admits every address, an unreadable `except` narrows nothing, an unknown
 *   selector operator constrains nothing.
 * Out of scope: Services (a connection is to a pod IP, not a cluster IP), hostNetwork pods (their
 * NetworkPolicy behaviour is undefined by Kubernetes), a pod connecting to itself.
 */
import {
  addressOf,
  conjOf,
  holdsAddress,
  matchesLabels,
  matchesNamespace,
  policyTypesOf,
  rulesOf,
  type Direction,
  type IpRange,
  type NamespaceInfo,
  type NetworkPolicyInput,
  type PeerRule,
  type Ports,
} from "./policy-rules.js";

export type { NamespaceInfo, NetworkPolicyInput } from "./policy-rules.js";

/** A container port of a pod (protocol absent: TCP), for named ports in rules. */
export interface ContainerPortInput {
  readonly name?: string;
  readonly containerPort: number;
  readonly protocol?: string;
}

/** A pod: its namespace, labels, pod IP and (for named ports) container ports. */
export interface PodEndpoint {
  readonly kind: "pod";
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly ip: string;
  /** Its containers' ports (default none: named ports in rules then admit nothing). */
  readonly ports?: readonly ContainerPortInput[];
}

/** An address that is not a pod (outside the cluster, or a host address). */
export interface AddressEndpoint {
  readonly kind: "address";
  readonly ip: string;
}

/** One end of a connection. */
export type Endpoint = PodEndpoint | AddressEndpoint;

/** One connection: from a source to a destination port. */
export interface Connection {
  readonly from: Endpoint;
  readonly to: Endpoint;
  readonly protocol: "TCP" | "UDP" | "SCTP";
  readonly port: number;
}

/** What the evaluator reads of a cluster. */
export interface ClusterPolicies {
  /** Every NetworkPolicy of the cluster (or at least of the endpoints' namespaces). */
  readonly networkPolicies: readonly NetworkPolicyInput[];
  /** The namespaces of the endpoints and of every namespace a selector may match, with their labels. */
  readonly namespaces: readonly NamespaceInfo[];
}

/** One direction's answer, with the policies that decided it (`namespace/name`, sorted). */
export interface DirectionVerdict {
  readonly admitted: boolean;
  /** The policies that select the pod for this direction; empty: not isolated, so admitted. */
  readonly isolatedBy: readonly string[];
  /** The isolating policies with a rule that admits the connection. */
  readonly admittedBy: readonly string[];
}

/** Whether the connection is admitted: egress of the source and ingress of the destination. */
export interface ReachVerdict {
  readonly allowed: boolean;
  readonly egress: DirectionVerdict;
  readonly ingress: DirectionVerdict;
}

/**
 * Whether the cluster's NetworkPolicies admit the connection (see the module doc). Throws when a
 * pod's namespace is not among `cluster.namespaces` or an endpoint's IP is not an address.
 */
export function reachable(cluster: ClusterPolicies, connection: Connection): ReachVerdict {
  const namespaces = new Map(cluster.namespaces.map((n) => [n.name, n]));
  const end = (e: Endpoint, role: string): Resolved => resolve(e, namespaces, role);
  const from = end(connection.from, "source");
  const to = end(connection.to, "destination");
  const egress = directionVerdict(cluster, "Egress", from, to, connection);
  const ingress = directionVerdict(cluster, "Ingress", to, from, connection);
  return { allowed: egress.admitted && ingress.admitted, egress, ingress };
}

/** An endpoint with its address read and its namespace looked up. */
type Resolved =
  | (PodEndpoint & { readonly address: IpRange; readonly ns: NamespaceInfo })
  | (AddressEndpoint & { readonly address: IpRange });

function resolve(e: Endpoint, namespaces: ReadonlyMap<string, NamespaceInfo>, role: string): Resolved {
  const address = addressOf(e.ip);
  if (!address) throw new Error(`reachable: the ${role}'s IP ${JSON.stringify(e.ip)} is not an IP address`);
  if (e.kind === "address") return { ...e, address };
  const ns = namespaces.get(e.namespace);
  if (!ns)
    throw new Error(
      `reachable: the ${role} pod's namespace ${e.namespace} is not among the namespaces given`,
    );
  return { ...e, address, ns };
}

/**
 * One direction as seen from `pod` (the source for Egress, the destination for Ingress), `peer`
 * being the other end.
 */
function directionVerdict(
  cluster: ClusterPolicies,
  direction: Direction,
  pod: Resolved,
  peer: Resolved,
  connection: Connection,
): DirectionVerdict {
  if (pod.kind !== "pod") return { admitted: true, isolatedBy: [], admittedBy: [] };
  const isolating = cluster.networkPolicies.filter(
    (p) =>
      p.namespace === pod.namespace &&
      policyTypesOf(p.spec).includes(direction) &&
      matchesLabels(conjOf(p.spec.podSelector), pod.labels),
  );
  const admitting = isolating.filter((p) =>
    rulesOf(p.spec, direction, true).some(
      (rule) =>
        rule.peers.some((r) => peerAdmits(r, p.namespace, peer)) && portAdmits(rule.ports, connection),
    ),
  );
  const refs = (ps: readonly NetworkPolicyInput[]): string[] =>
    ps.map((p) => `${p.namespace}/${p.name}`).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return {
    admitted: isolating.length === 0 || admitting.length > 0,
    isolatedBy: refs(isolating),
    admittedBy: refs(admitting),
  };
}

function peerAdmits(peer: PeerRule, policyNamespace: string, other: Resolved): boolean {
  if (peer.kind === "addresses") return holdsAddress(peer.ranges, other.address);
  if (other.kind !== "pod") return false;
  const inNamespace =
    peer.ns === "own" ? other.namespace === policyNamespace : matchesNamespace(peer.ns, other.ns);
  return inNamespace && matchesLabels(peer.pod, other.labels);
}

function portAdmits(ports: Ports, c: Connection): boolean {
  if (ports === "any") return true;
  return ports.some((e) => {
    if (e.protocol !== c.protocol) return false;
    if (e.range) return e.range.lo <= c.port && c.port <= e.range.hi;
    if (e.name === undefined) return true; // every port of the protocol
    const named = c.to.kind === "pod" ? (c.to.ports ?? []) : [];
    return named.some(
      (p) => p.name === e.name && (p.protocol ?? "TCP") === e.protocol && p.containerPort === c.port,
    );
  });
}
