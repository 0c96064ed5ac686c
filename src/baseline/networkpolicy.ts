/**
 * NetworkPolicies for an owned namespace. A policy only ever lists the directions the spec
 * default-denies: naming a direction in policyTypes isolates pods in it, so an allowance for a
 * direction left open would narrow it instead of allowing anything.
 */
import { NAMES } from "../api/constants.js";
import type { EgressAllowance, IngressAllowance, LabelSelector, PolicyDirection } from "../api/types.js";
import { objectMeta, type BuildContext, type DesiredObject } from "./objects.js";

/** A NetworkPolicy peer (networking.k8s.io/v1). */
export interface NetworkPolicyPeer {
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
  ipBlock?: { cidr: string; except?: string[] };
}

/** A NetworkPolicy port. */
export interface NetworkPolicyPort {
  protocol: "TCP" | "UDP" | "SCTP";
  port?: number | string;
  endPort?: number;
}

/** The istiod / linkerd control-plane ports sidecars must reach. */
export const MESH_CONTROL_PLANE_PORTS: Record<"istio" | "linkerd", number[]> = {
  istio: [15012, 15017],
  linkerd: [8080, 8086, 8090],
};

function policy(
  ctx: BuildContext,
  namespace: string,
  name: string,
  policyTypes: PolicyDirection[],
  rules: { ingress?: unknown[]; egress?: unknown[] },
): DesiredObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: objectMeta(ctx, namespace, name),
    // Both rule lists always set (empty when unused): the operator owns them, so a rule someone
    // adds to a managed policy is drift that the next apply removes.
    spec: { podSelector: {}, policyTypes, ingress: [], egress: [], ...rules },
  };
}

function peerOf(a: IngressAllowance | EgressAllowance): NetworkPolicyPeer {
  const peer: NetworkPolicyPeer = {};
  if (a.namespaceSelector) peer.namespaceSelector = a.namespaceSelector;
  if (a.podSelector) peer.podSelector = a.podSelector;
  if (a.ipBlock)
    peer.ipBlock = a.ipBlock.except
      ? { cidr: a.ipBlock.cidr, except: a.ipBlock.except }
      : { cidr: a.ipBlock.cidr };
  return peer;
}

function portsOf(a: IngressAllowance | EgressAllowance): NetworkPolicyPort[] | undefined {
  if (!a.ports || a.ports.length === 0) return undefined;
  return a.ports.map((p) => ({
    protocol: p.protocol ?? "TCP",
    ...(p.port !== undefined ? { port: p.port } : {}),
    ...(p.endPort !== undefined ? { endPort: p.endPort } : {}),
  }));
}

function rule(key: "from" | "to", a: IngressAllowance | EgressAllowance): Record<string, unknown> {
  const ports = portsOf(a);
  return { [key]: [peerOf(a)], ...(ports ? { ports } : {}) };
}

/** All NetworkPolicies for one namespace, default deny first. */
export function networkPolicies(ctx: BuildContext, namespace: string): DesiredObject[] {
  const np = ctx.spec.networkPolicy;
  const denyIngress = np.defaultDeny.includes("Ingress");
  const denyEgress = np.defaultDeny.includes("Egress");
  const out: DesiredObject[] = [];
  if (np.defaultDeny.length === 0) return out;

  out.push(policy(ctx, namespace, NAMES.defaultDeny, np.defaultDeny, {}));
  if (np.allowSameNamespace) {
    out.push(
      policy(ctx, namespace, NAMES.allowSameNamespace, np.defaultDeny, {
        ...(denyIngress ? { ingress: [{ from: [{ podSelector: {} }] }] } : {}),
        ...(denyEgress ? { egress: [{ to: [{ podSelector: {} }] }] } : {}),
      }),
    );
  }
  if (denyEgress && np.allowDNS) {
    out.push(
      policy(ctx, namespace, NAMES.allowDns, ["Egress"], {
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      }),
    );
  }
  if (denyIngress && np.allowIngressFrom.length > 0) {
    out.push(
      policy(ctx, namespace, NAMES.allowIngress, ["Ingress"], {
        ingress: np.allowIngressFrom.map((a) => rule("from", a)),
      }),
    );
  }
  if (denyEgress && np.allowEgressTo.length > 0) {
    out.push(
      policy(ctx, namespace, NAMES.allowEgress, ["Egress"], {
        egress: np.allowEgressTo.map((a) => rule("to", a)),
      }),
    );
  }
  const mesh = ctx.spec.serviceMesh;
  if (denyEgress && mesh.provider !== "none") {
    out.push(
      policy(ctx, namespace, NAMES.allowMeshControlPlane, ["Egress"], {
        egress: [
          {
            to: [
              {
                namespaceSelector: {
                  matchLabels: { "kubernetes.io/metadata.name": mesh.controlPlaneNamespace },
                },
              },
            ],
            ports: MESH_CONTROL_PLANE_PORTS[mesh.provider].map((port) => ({ protocol: "TCP", port })),
          },
        ],
      }),
    );
  }
  return out;
}
