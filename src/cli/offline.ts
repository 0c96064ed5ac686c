/**
 * `sws render` and `sws validate`: offline, from a file or standard input; they never contact a
 * cluster.
 */
import { readFileSync } from "node:fs";
import { stringify } from "yaml";
import { applyDefaults } from "../api/defaults.js";
import { InputError, parseWorkspaces } from "../api/parse.js";
import type { Problem } from "../api/problems.js";
import { checkSchema, isUnknownField } from "../api/schema.js";
import type { SecureWorkspace } from "../api/types.js";
import { validateName, validateSpec } from "../api/validation.js";
import { desiredState, type DesiredObject } from "../baseline/index.js";
import { lastValue, UsageError, type ParsedArgs } from "./args.js";
import { FILENAME } from "./specs.js";

function readInput(parsed: ParsedArgs): { text: string; source: string } {
  const file = lastValue(parsed, "filename");
  if (!file) throw new UsageError(FILENAME.missing);
  if (file === "-") return { text: readFileSync(0, "utf8"), source: "<stdin>" };
  try {
    return { text: readFileSync(file, "utf8"), source: file };
  } catch (err) {
    throw new InputError(
      `${file}: cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
}

/** The API server's words when a schema problem stops its CEL rules from running. */
export const RULES_NOT_CHECKED =
  "some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

/**
 * Every problem at once, as the API server reports them for `kubectl apply` (strict field
 * validation): fields the schema does not know refuse the object before anything else is checked,
 * so then they are all there is to say. Otherwise the structural schema's problems and the name's,
 * and the semantic rules' (the CRD's CEL rules and what the server checks of the objects we
 * write: CIDRs, quantities) together. As in the server, a schema problem that stops the rules (a
 * wrong type, a missing field, an enum value, a maximum exceeded: see Problem.stopsRules) leaves
 * them out, with the server's sentence saying so. A semantic problem at a path the schema already
 * faulted is not repeated.
 */
export function allProblems(ws: SecureWorkspace): Problem[] {
  const schema = checkSchema(ws);
  const unknown = schema.filter(isUnknownField);
  if (unknown.length > 0) return unknown;
  const structural = [...schema, ...validateName(ws.metadata.name)];
  if (schema.some((p) => p.stopsRules)) return [...structural, { path: "spec", message: RULES_NOT_CHECKED }];
  let semantic: Problem[];
  try {
    semantic = validateSpec(ws.spec);
    if (semantic.length === 0 && structural.length === 0) applyDefaults(ws.spec);
  } catch (err) {
    semantic = [
      { path: "spec", message: `cannot be read: ${err instanceof Error ? err.message : String(err)}` },
    ];
  }
  const faulted = new Set(schema.map((p) => p.path));
  return [...structural, ...semantic.filter((p) => !faulted.has(p.path))];
}

/**
 * An object as `render` prints it: what the operator applies minus what the API server assigns.
 * The controller ownerReference's uid is the workspace's uid, which exists only once the server
 * stored the workspace: an offline render leaves it out rather than print `uid: ""`.
 */
export function renderable(obj: DesiredObject): DesiredObject {
  const refs = obj.metadata.ownerReferences;
  if (!refs) return obj;
  return {
    ...obj,
    metadata: {
      ...obj.metadata,
      ownerReferences: refs.map((r) => {
        if (r.uid !== "") return r;
        const rest: Partial<typeof r> = { ...r };
        delete rest.uid;
        return rest as typeof r;
      }),
    },
  };
}

/** `sws render`: exit 0 and the YAML documents, or exit 1 and one line per problem on stderr. */
export function render(parsed: ParsedArgs): number {
  const { text, source } = readInput(parsed);
  const workspaces = parseWorkspaces(text, source);
  const invalid = workspaces.flatMap((ws) =>
    allProblems(ws).map((p) => `${ws.metadata.name}: ${p.path}: ${p.message}`),
  );
  if (invalid.length > 0) {
    process.stderr.write(`${invalid.join("\n")}\n`);
    return 1;
  }
  const docs = workspaces.flatMap((ws) => desiredState(ws)).map(renderable);
  process.stdout.write(docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n"));
  return 0;
}

/** `sws validate`: `NAME: valid` or one line per problem, for every workspace; exit 1 if any is invalid. */
export function validate(parsed: ParsedArgs): number {
  const { text, source } = readInput(parsed);
  let failed = false;
  for (const ws of parseWorkspaces(text, source)) {
    const problems = allProblems(ws);
    if (problems.length === 0) {
      process.stdout.write(`${ws.metadata.name}: valid\n`);
      continue;
    }
    failed = true;
    process.stdout.write(problems.map((p) => `${ws.metadata.name}: ${p.path}: ${p.message}\n`).join(""));
  }
  return failed ? 1 : 0;
}
