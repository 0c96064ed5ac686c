/**
 * The start-up check that the installed admission policies fit the identity the operator runs as.
 * The tamper-protection policy refuses every change of a managed object except from the
 * identities it exempts by name: an operator running as anyone else (a renamed namespace without
 * the overlay, an admin kubeconfig) would start, and every update would be refused. Better one
 * clear error at start. Absent or unreadable policies are fine (local development, the demo and
 * admin-driven tests run without them): the check then says so and the operator runs.
 *
 * The verdict is pure ({@link judgeIdentity}); the I/O ({@link checkIdentity}) only reads.
 */
import { sleep } from "../runtime/sleep.js";
import type { KubeClient, KubeObject } from "../runtime/client.js";
import { errorMessage, isForbidden, isNotFound, isTransient } from "../runtime/errors.js";
import { resourceOfKind } from "../api/resources.js";

/** The tamper-protection policy (config/admission-policy.yaml): its exemptions must name us. */
export const TAMPER_POLICY = "secure-workspace-tamper-protection";
/** The policy that confines the operator's own writes: it should name us too, or we are not confined. */
export const CONFINEMENT_POLICY = "secure-workspace-operator-confinement";
/** The tenant guardrails: like tamper protection, it must exempt the operator (its sws-allow-dns reaches kube-system). */
export const GUARDRAILS_POLICY = "secure-workspace-guardrails";

/** A named CEL expression of a policy. */
interface Expression {
  readonly name?: string;
  readonly expression?: string;
}

/** The parts of a ValidatingAdmissionPolicy the check reads. */
export interface AdmissionPolicy {
  readonly metadata?: { readonly name?: string };
  readonly spec?: {
    readonly matchConditions?: readonly Expression[];
    readonly variables?: readonly Expression[];
    readonly validations?: readonly Expression[];
  };
}

/** What reading one policy gave: the object, or why there is none to check. */
export type PolicyLookup =
  | { readonly state: "found"; readonly policy: AdmissionPolicy }
  | { readonly state: "absent" }
  | { readonly state: "forbidden" | "failed"; readonly message: string };

/** The outcome of the check. */
export interface IdentityVerdict {
  /** Set when the operator must not start: every write it makes would be refused. */
  readonly error?: string;
  /** Things an operator should hear about that do not stop it. */
  readonly warnings: readonly string[];
  /** One word per policy for the start-up log: exempts, names, absent, forbidden, failed. */
  readonly policies: Readonly<Record<string, string>>;
}

/** Every CEL expression of a policy that decides whom it applies to or what it allows. */
function expressionsOf(policy: AdmissionPolicy): string[] {
  const spec = policy.spec ?? {};
  return [...(spec.matchConditions ?? []), ...(spec.variables ?? []), ...(spec.validations ?? [])]
    .map((e) => e.expression)
    .filter((e): e is string => typeof e === "string");
}

/** Whether one of the policy's expressions names `username` as a CEL string literal ('...' or "..."). */
export function policyNames(policy: AdmissionPolicy, username: string): boolean {
  return expressionsOf(policy).some((e) => e.includes(`'${username}'`) || e.includes(`"${username}"`));
}

/**
 * The usernames a policy's match conditions compare request.userInfo.username with, the one in a
 * condition named exempt-operator first (it is the operator's exemption in config/).
 */
export function exemptedUsers(policy: AdmissionPolicy): string[] {
  const conditions = [...(policy.spec?.matchConditions ?? [])].sort(
    (a, b) => Number(b.name === "exempt-operator") - Number(a.name === "exempt-operator"),
  );
  const users: string[] = [];
  for (const c of conditions)
    for (const m of (c.expression ?? "").matchAll(/request\.userInfo\.username\s*[!=]=\s*(['"])(.*?)\1/g))
      if (m[2] !== undefined && !users.includes(m[2])) users.push(m[2]);
  return users;
}

/** "system:serviceaccount:ns:name" → "ns/name", or undefined for another kind of user. */
function serviceAccountOf(username: string): string | undefined {
  const m = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(username);
  return m ? `${m[1]}/${m[2]}` : undefined;
}

/** How to install the policies for another identity (config/kustomization.yaml has the recipe). */
const OVERLAY_HINT =
  "the overlay recipe in config/kustomization.yaml (an overlay with namespace: and the operator-identity transformers)";

function tamperError(policy: AdmissionPolicy, username: string): string {
  const exempt = exemptedUsers(policy);
  // The operator's own exemption when the policy has one (config/'s does), else every name.
  const named = policy.spec?.matchConditions?.some((c) => c.name === "exempt-operator")
    ? exempt.slice(0, 1)
    : exempt;
  const sa = exempt[0] === undefined ? undefined : serviceAccountOf(exempt[0]);
  return (
    `the installed ValidatingAdmissionPolicy ${TAMPER_POLICY} exempts ` +
    `${named.length > 0 ? named.join(", ") : "no identity by name"}, but this operator runs as ` +
    `${username}: every update of a managed object would be refused. Install with ${OVERLAY_HINT} ` +
    `so the policy names ${username}, or run the operator under ` +
    `${sa ? `the ServiceAccount ${sa}` : "the identity the policy exempts"} (locally: make run)`
  );
}

function unreadable(name: string, lookup: { state: "forbidden" | "failed"; message: string }): string {
  return lookup.state === "forbidden"
    ? `cannot read ValidatingAdmissionPolicy ${name} (forbidden): not checked whether it names this ` +
        `operator; config/rbac.yaml grants get on it (${lookup.message})`
    : `could not read ValidatingAdmissionPolicy ${name}: not checked whether it names this operator (${lookup.message})`;
}

/**
 * The verdict for an operator running as `username`, given what reading the two policies gave.
 * An installed tamper policy that does not name the username is fatal; an installed confinement
 * policy that does not name it is a warning (the operator is not confined); absent policies are
 * fine; unreadable ones are warnings.
 */
export function judgeIdentity(
  username: string,
  tamper: PolicyLookup,
  confinement: PolicyLookup,
  guardrails: PolicyLookup = { state: "absent" },
): IdentityVerdict {
  const warnings: string[] = [];
  const policies: Record<string, string> = {};
  let error: string | undefined;
  if (tamper.state === "found") {
    const exempt = policyNames(tamper.policy, username);
    policies[TAMPER_POLICY] = exempt ? "exempts" : "refuses";
    if (!exempt) error = tamperError(tamper.policy, username);
  } else {
    policies[TAMPER_POLICY] = tamper.state;
    if (tamper.state !== "absent") warnings.push(unreadable(TAMPER_POLICY, tamper));
  }
  if (confinement.state === "found") {
    const confined = policyNames(confinement.policy, username);
    policies[CONFINEMENT_POLICY] = confined ? "names" : "misses";
    if (!confined)
      warnings.push(
        `the installed ValidatingAdmissionPolicy ${CONFINEMENT_POLICY} does not name ${username}: ` +
          `this operator is not confined by it (install with ${OVERLAY_HINT} so it names ${username})`,
      );
  } else {
    policies[CONFINEMENT_POLICY] = confinement.state;
    if (confinement.state !== "absent") warnings.push(unreadable(CONFINEMENT_POLICY, confinement));
  }
  if (guardrails.state === "found") {
    const exempt = policyNames(guardrails.policy, username);
    policies[GUARDRAILS_POLICY] = exempt ? "exempts" : "refuses";
    if (!exempt && error === undefined)
      error =
        `the installed ValidatingAdmissionPolicy ${GUARDRAILS_POLICY} does not exempt ${username}: ` +
        `the baseline's own policies (DNS egress to kube-system) would be refused. Install with ${OVERLAY_HINT}`;
  } else if (guardrails.state !== "absent") {
    // Newer than the other two: named in the verdict only when installed (or unreadable).
    policies[GUARDRAILS_POLICY] = guardrails.state;
    warnings.push(unreadable(GUARDRAILS_POLICY, guardrails));
  }
  return { ...(error !== undefined ? { error } : {}), warnings, policies };
}

/** The start-up check failed: the operator must not run as it is (exit non-zero, the message says why). */
export class IdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "IdentityError";
  }
}

/** What {@link checkIdentity} found out. */
export interface IdentityCheck extends IdentityVerdict {
  /** The operator's username, or undefined when the server would not say (then nothing was checked). */
  readonly username: string | undefined;
}

/** Attempts per request when the server is unavailable (5xx, 429, no answer), 1 s then 2 s apart. */
const ATTEMPTS = 3;

/** `fn`, retried while its failure is transient and `signal` has not aborted. */
async function retried<T>(fn: () => Promise<T>, signal: AbortSignal): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= ATTEMPTS || !isTransient(err) || signal.aborted) throw err;
      await sleep(1000 * attempt, signal);
    }
  }
}

async function lookup(kube: KubeClient, name: string, signal: AbortSignal): Promise<PolicyLookup> {
  try {
    const policy = await retried(
      () => kube.get<KubeObject>(resourceOfKind("ValidatingAdmissionPolicy"), name),
      signal,
    );
    return { state: "found", policy: policy };
  } catch (err) {
    // Only a confirmed 404 is "not installed"; any other failure is reported as such.
    if (isNotFound(err)) return { state: "absent" };
    return { state: isForbidden(err) ? "forbidden" : "failed", message: errorMessage(err) };
  }
}

/**
 * Asks the server who this client is, then reads the two policies and judges. Never throws for
 * an answer it could not get (that becomes a warning); the caller throws {@link IdentityError}
 * on `error`.
 */
export async function checkIdentity(kube: KubeClient, signal: AbortSignal): Promise<IdentityCheck> {
  let username: string;
  try {
    ({ username } = await retried(() => kube.whoAmI(), signal));
  } catch (err) {
    return {
      username: undefined,
      warnings: [
        `could not learn this operator's username (SelfSubjectReview: ${errorMessage(err)}): ` +
          `the admission policies are not checked`,
      ],
      policies: {},
    };
  }
  const [tamper, confinement, guardrails] = await Promise.all([
    lookup(kube, TAMPER_POLICY, signal),
    lookup(kube, CONFINEMENT_POLICY, signal),
    lookup(kube, GUARDRAILS_POLICY, signal),
  ]);
  return { username, ...judgeIdentity(username, tamper, confinement, guardrails) };
}
