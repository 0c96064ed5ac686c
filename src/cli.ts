#!/usr/bin/env node
/**
 * `sws`: offline tools for GitOps review and auditors.
 *   sws render   -f FILE|-      the objects the operator would apply, as YAML, in apply order
 *   sws validate -f FILE|-      defaults + schema + semantic checks; one line per problem
 *   sws audit [-o table|json|markdown] [--kubeconfig PATH]   compliance report from the cluster
 * Exit codes: 0 ok, 1 invalid input or problems found, 2 usage error.
 */
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { checkWorkspace } from "./api/check.js";
import { InputError, parseWorkspaces } from "./api/parse.js";
import { formatProblems } from "./api/problems.js";
import { desiredState } from "./baseline/index.js";

const USAGE = `usage:
  sws render   -f FILE|-     print the objects the operator would apply (YAML, apply order)
  sws validate -f FILE|-     check a SecureWorkspace offline (schema, defaults, semantics)
  sws audit [-o table|json|markdown] [--kubeconfig PATH]
                             compliance report of every SecureWorkspace in the cluster`;

class UsageError extends Error {}

function readInput(args: readonly string[]): { text: string; source: string } {
  const i = args.findIndex((a) => a === "-f" || a === "--filename");
  const file = i >= 0 ? args[i + 1] : undefined;
  if (!file) throw new UsageError("missing -f FILE (use -f - for standard input)");
  if (file === "-") return { text: readFileSync(0, "utf8"), source: "<stdin>" };
  try {
    return { text: readFileSync(file, "utf8"), source: file };
  } catch (err) {
    throw new InputError(
      `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

function render(args: readonly string[]): number {
  const { text, source } = readInput(args);
  const workspaces = parseWorkspaces(text, source);
  const invalid = workspaces.flatMap((ws) =>
    checkWorkspace(ws).map((p) => `${ws.metadata.name}: ${p.path}: ${p.message}`),
  );
  if (invalid.length > 0) {
    process.stderr.write(`${invalid.join("\n")}\n`);
    return 1;
  }
  const docs = workspaces.flatMap((ws) => desiredState(ws));
  process.stdout.write(docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n"));
  return 0;
}

function validate(args: readonly string[]): number {
  const { text, source } = readInput(args);
  let failed = false;
  for (const ws of parseWorkspaces(text, source)) {
    const problems = checkWorkspace(ws);
    if (problems.length === 0) {
      process.stdout.write(`${ws.metadata.name}: valid\n`);
      continue;
    }
    failed = true;
    process.stdout.write(
      `${formatProblems(problems)
        .split("\n")
        .map((line) => `${ws.metadata.name}: ${line}`)
        .join("\n")}\n`,
    );
  }
  return failed ? 1 : 0;
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case "render":
      return render(args);
    case "validate":
      return validate(args);
    case "audit": {
      const { audit } = await import("./audit.js");
      return audit(args);
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) {
      process.stderr.write(`sws: ${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`sws: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
