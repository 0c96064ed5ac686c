/**
 * The help texts: `sws --help` and `sws <command> --help`. Printing them reads nothing and never
 * contacts a cluster.
 */
import { formatFlags, type CommandSpec } from "./args.js";
import { AUDIT, RENDER, VALIDATE } from "./specs.js";

/** Exit codes, the same for every command. */
export const EXIT_CODES = `Exit codes:
  0  success (audit: every control printed is Compliant or NotApplicable)
  1  problems found: invalid input or an invalid SecureWorkspace (validate, render); a control
     NonCompliant or Unknown, or a named workspace not found (audit); an error talking to the cluster
  2  usage error: unknown command, flag or argument, a missing or bad flag value`;

/** `sws --help`. */
export const USAGE = `usage:
  sws render   -f FILE|-   print the objects the operator applies for a SecureWorkspace (offline)
  sws validate -f FILE|-   check SecureWorkspaces offline, every problem at once (schema and rules)
  sws audit [NAME...] [-o table|json|markdown|oscal] [--state STATE] [--kubeconfig PATH]
                           compliance report of the SecureWorkspaces in the cluster

Also a kubectl plugin: \`kubectl sws <command>\` (kubectl-sws on PATH: npm install -g . or npm link).
Run "sws <command> --help" for a command's flags.

Flags:
  -h, --help      help for sws or a command
      --version   print sws's version

${EXIT_CODES}`;

const COMMANDS: Record<string, { spec: CommandSpec; synopsis: string; about: string; examples: string }> = {
  render: {
    spec: RENDER,
    synopsis: "sws render -f FILE|-",
    about: `Prints, as YAML documents in apply order, the objects the operator applies with server-side
apply for each SecureWorkspace in FILE: per namespace the Namespace, the NetworkPolicies (default
deny first), RoleBindings, ResourceQuota, LimitRange and mesh objects. Offline: nothing is read
from a cluster.

Exactly what is applied, except what depends on the cluster:
  - ownerReferences[].uid (the workspace's uid, which the API server assigns): left out;
  - the annotations the operator adds when it applies: secureworkspace.io/applied-hash on every
    object (a hash of the object including that uid), and on Namespaces
    secureworkspace.io/owner-uid and secureworkspace.io/created-by (or adopted-from);
  - Istio objects (PeerAuthentication, AuthorizationPolicy) are applied only where Istio's CRDs
    are installed.
An invalid SecureWorkspace prints nothing on stdout and one line per problem on stderr (exit 1).`,
    examples: `  sws render -f examples/istio-strict.yaml
  cat ws.yaml | sws render -f -
  sws render -f ws.yaml | kubectl diff -f -     # compare with the cluster (ignore the omitted fields)`,
  },
  validate: {
    spec: VALIDATE,
    synopsis: "sws validate -f FILE|-",
    about: `Checks each SecureWorkspace in FILE offline, as the API server would at admission: the CRD's
structural schema and its rules (CIDRs, quantities, namespaces, RBAC subjects, guardrails), every
problem at once, one line each: NAME: FIELD PATH: MESSAGE. A valid workspace prints "NAME: valid".
As in the server, a value of the wrong type stops the rules (a line says so).`,
    examples: `  sws validate -f my-workspace.yaml
  kustomize build . | sws validate -f -`,
  },
  audit: {
    spec: AUDIT,
    synopsis: "sws audit [NAME...] [flags]",
    about: `Reads the SecureWorkspaces (all, or those NAMEd) from the cluster and reports each control the
operator evaluated (status.controls: NIST SP 800-53 id, state, evidence). Formats: a table with a
summary line (default), json (the rows), markdown, oscal (an OSCAL 1.1.3 assessment-results document:
an observation per workspace x control with its evidence, a finding per Compliant / NonCompliant
control as satisfied / not-satisfied). The exit code reflects the rows printed (after --state).`,
    examples: `  sws audit
  sws audit team-a team-b --state NonCompliant
  sws audit -o oscal > assessment-results.json
  kubectl sws audit -o markdown`,
  },
};

/** The help text of a command, or undefined for an unknown one. */
export function commandHelp(name: string): string | undefined {
  const c = COMMANDS[name];
  if (!c) return undefined;
  const flags = [...c.spec.flags, { name: "help", short: "h", help: "this help" }];
  return `usage: ${c.synopsis}

${c.about}

Flags:
${formatFlags(flags)}

Examples:
${c.examples}

${EXIT_CODES}`;
}
