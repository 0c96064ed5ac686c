#!/usr/bin/env node
/**
 * `sws` (also `kubectl sws`, as the kubectl-sws plugin): offline tools for GitOps review and the
 * auditors' report.
 *   sws render   -f FILE|-     the objects the operator applies, as YAML, in apply order
 *   sws validate -f FILE|-     schema + rules, every problem at once; one line per problem
 *   sws audit [NAME...] [-o table|json|markdown|oscal] [--state STATE]   report from the cluster
 * Exit codes: 0 ok, 1 invalid input or problems found (audit: NonCompliant), 2 usage error.
 * Help (`--help` anywhere) and usage errors never read a file or contact a cluster.
 */
import { parseArgs, UsageError, wantsHelp } from "./cli/args.js";
import { commandHelp, USAGE } from "./cli/help.js";
import { AUDIT, RENDER, VALIDATE } from "./cli/specs.js";
import { version } from "./version.js";
import { describeError } from "./runtime/errors.js";

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 2;
  }
  if (command === "--version" || command === "version") {
    if (args.length > 0) throw new UsageError(`unexpected argument "${args[0] ?? ""}" for "sws --version"`);
    process.stdout.write(`sws ${version()}\n`);
    return 0;
  }
  if (command === "--help" || command === "-h" || command === "help") {
    const topic = args[0];
    const text = topic === undefined ? USAGE : commandHelp(topic);
    if (text === undefined) throw new UsageError(`unknown command "${topic ?? ""}" (see "sws --help")`);
    process.stdout.write(`${text}\n`);
    return 0;
  }
  const help = commandHelp(command);
  if (help === undefined) throw new UsageError(`unknown command "${command}" (see "sws --help")`);
  if (wantsHelp(args)) {
    process.stdout.write(`${help}\n`);
    return 0;
  }
  switch (command) {
    case "render": {
      const parsed = parseArgs(args, RENDER);
      const { render } = await import("./cli/offline.js");
      return render(parsed);
    }
    case "validate": {
      const parsed = parseArgs(args, VALIDATE);
      const { validate } = await import("./cli/offline.js");
      return validate(parsed);
    }
    default: {
      const parsed = parseArgs(args, AUDIT);
      // Loaded only here: the Kubernetes client is not needed by the offline commands.
      const { audit, auditRequest } = await import("./audit.js");
      auditRequest(parsed); // usage errors before any cluster access
      return audit(parsed, version());
    }
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`sws: ${err.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`sws: ${err instanceof Error ? describeError(err) : String(err)}\n`);
    process.exit(1);
  },
);
