/**
 * What each command accepts, apart from the code that runs it, so that help and argument checks
 * load nothing else (no Kubernetes client).
 */
import type { CommandSpec } from "./args.js";

/** The -f flag of render and validate. */
export const FILENAME = {
  name: "filename",
  short: "f",
  value: "FILE",
  help: "the SecureWorkspace(s) to read, YAML or JSON, several documents allowed; - for standard input",
  missing: "missing -f FILE (use -f - for standard input)",
} as const;

/** `sws render`'s flags. */
export const RENDER: CommandSpec = { name: "render", flags: [FILENAME] };
/** `sws validate`'s flags. */
export const VALIDATE: CommandSpec = { name: "validate", flags: [FILENAME] };

/** The states a row can be in: the three a control takes, and Unknown (no status yet). */
export const STATES = ["Compliant", "NonCompliant", "NotApplicable", "Unknown"] as const;

/** The output formats of `sws audit -o`. */
export const FORMATS = ["table", "json", "markdown", "oscal"] as const;

/** `sws audit`'s flags. */
export const AUDIT: CommandSpec = {
  name: "audit",
  positional: "[NAME...]",
  flags: [
    {
      name: "output",
      short: "o",
      value: "FORMAT",
      help: `output format: ${FORMATS.join(", ")} (default table)`,
    },
    {
      name: "state",
      value: "STATE",
      help: `only rows in this state: ${STATES.join(", ")}; repeat or comma-separate for several`,
    },
    { name: "kubeconfig", value: "PATH", help: "kubeconfig file (default $KUBECONFIG, then ~/.kube/config)" },
    { name: "context", value: "NAME", help: "kubeconfig context to use (default the current context)" },
    {
      name: "oscal-seed",
      value: "TEXT",
      help: "derive the OSCAL document's UUIDs from TEXT (reproducible output; default random)",
    },
  ],
};
