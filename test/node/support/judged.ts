/**
 * Connections judged by the project's pure NetworkPolicy evaluator (src/baseline/reachability.ts)
 * and then measured on packets: each case carries the intent a test writes by hand (what the
 * workspace spec means for it); the evaluator's verdict comes from the objects the API server holds
 * at the time of the check (test/node/support/cluster-model.ts); the packets must equal the
 * evaluator's verdict, and the evaluator the intent.
 */
import { expect } from "chai";
import {
  reachable,
  type Connection,
  type DirectionVerdict,
  type Endpoint,
  type ReachVerdict,
} from "../../../src/baseline/reachability.js";
import type { TestKubeClient } from "../../support/test-client.js";
import { clusterModel, policyFingerprint, type ClusterModel } from "./cluster-model.js";
import { measure, mismatches, type PodRef, type Reachability, type Verdict } from "./pods.js";

/** Where a connection goes: a pod, or an address outside the pod network. */
export type Target = PodRef | { readonly address: string };

/** One connection and what the workspace spec means for it (written by hand). */
export interface Case {
  readonly from: PodRef;
  readonly to: Target;
  readonly protocol: "tcp" | "udp";
  readonly port: number;
  readonly intent: "connect" | "blocked";
}

/** Where packets, evaluator and intent differ, one readable line each. */
export interface Disagreements {
  /** Connections whose packets did not do what the evaluator said. */
  readonly packetsVsEvaluator: string[];
  /** Connections where the evaluator's verdict is not the hand-written intent. */
  readonly intentVsEvaluator: string[];
}

/** No disagreement at all: what every check must come to. */
export const NONE: Disagreements = { packetsVsEvaluator: [], intentVsEvaluator: [] };

/** The measured connections (in the order given) and the disagreements. */
export interface Checked {
  readonly verdicts: Verdict[];
  readonly disagreements: Disagreements;
}

const targetName = (t: Target): string => ("address" in t ? t.address : `${t.namespace}/${t.name}`);

/** A pod as the evaluator reads it, from the API server's list. */
function podEndpoint(model: ClusterModel, ref: PodRef): Endpoint {
  const pod = model.pods.get(`${ref.namespace}/${ref.name}`);
  if (!pod) throw new Error(`pod ${ref.namespace}/${ref.name} has no pod IP in the API server's list`);
  return pod;
}

function connectionOf(model: ClusterModel, c: Case): Connection {
  return {
    from: podEndpoint(model, c.from),
    to: "address" in c.to ? { kind: "address", ip: c.to.address } : podEndpoint(model, c.to),
    protocol: c.protocol === "tcp" ? "TCP" : "UDP",
    port: c.port,
  };
}

/** The policies that decided a verdict, for messages. */
function why(v: ReachVerdict): string {
  const side = (name: string, d: DirectionVerdict): string =>
    d.isolatedBy.length === 0
      ? `${name} not isolated`
      : `${name} isolated by ${d.isolatedBy.join(", ")}, admitted by ${d.admittedBy.join(", ") || "none"}`;
  return `${side("egress", v.egress)}; ${side("ingress", v.ingress)}`;
}

/**
 * Judges every case with the evaluator on the objects listed from the API server now, measures the
 * packets expecting the evaluator's verdicts (retries for "should connect", a settle wait for
 * "should be blocked": test/node/support/pods.ts), and fails if what the evaluator read changed
 * during the measurement (the packets would not have met the policies it judged).
 */
export async function check(admin: TestKubeClient, list: readonly Case[]): Promise<Checked> {
  const model = await clusterModel(admin);
  const judged = list.map((c) => {
    const connection = connectionOf(model, c);
    return { c, connection, verdict: reachable(model, connection) };
  });
  const verdicts = await measure(
    judged.map(({ c, connection, verdict }): Reachability => ({
      from: c.from,
      to: targetName(c.to),
      ip: connection.to.ip,
      protocol: c.protocol,
      port: c.port,
      expect: verdict.allowed ? "connect" : "blocked",
    })),
  );
  const after = await clusterModel(admin);
  expect(
    policyFingerprint(after),
    "NetworkPolicies or namespace labels changed during the measurement",
  ).to.equal(policyFingerprint(model));
  const intentVsEvaluator = judged
    .filter(({ c, verdict }) => (c.intent === "connect") !== verdict.allowed)
    .map(
      ({ c, verdict }) =>
        `${c.from.namespace}/${c.from.name} -> ${targetName(c.to)} ${c.protocol.toUpperCase()} ${c.port}: ` +
        `intent ${c.intent}, evaluator ${verdict.allowed ? "connect" : "blocked"} (${why(verdict)})`,
    );
  return { verdicts, disagreements: { packetsVsEvaluator: mismatches(verdicts), intentVsEvaluator } };
}
