/**
 * The two judges of a SecureWorkspace, side by side: `sws validate` (offline: the CRD's structural
 * schema plus src/api/validation.ts) and the real API server (a server-side dry-run create with
 * kubectl's strict field validation). Each gives a verdict and the field paths it refuses, in one
 * canonical form so that the two can be compared as sets.
 */
import { ApiException, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../../../src/api/constants.js";
import { parseWorkspaces } from "../../../src/api/parse.js";
import type { Problem } from "../../../src/api/problems.js";
import { loadCrdSchema, type SchemaNode } from "../../../src/api/schema.js";
import { allProblems, RULES_NOT_CHECKED } from "../../../src/cli/offline.js";
import type { JsonObject } from "../../support/arbitraries.js";

/** What one judge says of a workspace. */
export interface Verdict {
  readonly accepted: boolean;
  /** The refused fields in canonical form (see canonicalPath), sorted, without repeats. */
  readonly paths: readonly string[];
  /** Every problem as the judge wrote it, for failure reports. */
  readonly detail: readonly string[];
}

/**
 * Stands for the server's "some validation rules were not checked" cause, which has no field
 * (the server writes `<nil>`), and for `sws validate`'s line with the same sentence.
 */
export const RULES_SKIPPED = "(rules not checked)";

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A field path in one form whichever judge wrote it: indices and map keys in brackets, names after
 * dots (`spec.namespaces[0].labels[example.com/team]`). The server writes a map key as `[key]` in
 * CEL errors and `.key` in schema errors; a key may itself hold dots, so the path is read along the
 * CRD's schema, which says where a map starts (every map of this CRD has string values, so the
 * rest of the path after a map is its key).
 */
export function canonicalPath(raw: string, root: SchemaNode = loadCrdSchema()): string {
  let node: SchemaNode | undefined = root;
  let rest = raw;
  let out = "";
  while (rest !== "") {
    if (rest.startsWith(".")) rest = rest.slice(1);
    if (node && isStringMap(node, raw)) {
      const key = rest.startsWith("[") && rest.endsWith("]") ? rest.slice(1, -1) : rest;
      return `${out}[${key}]`;
    }
    const index = /^\[(\d+)\]/.exec(rest) ?? (node?.items ? /^(\d+)(?=$|[.[])/.exec(rest) : null);
    if (index) {
      out += `[${index[1] ?? ""}]`;
      rest = rest.slice(index[0].length);
      node = node?.items;
      continue;
    }
    const name = /^[^.[]+/.exec(rest)?.[0] ?? rest;
    out += out === "" ? name : `.${name}`;
    rest = rest.slice(name.length);
    node = node?.properties?.[name];
  }
  return out;
}

/** Whether a schema node is a map (additionalProperties); throws for a map of anything but strings. */
function isStringMap(node: SchemaNode, raw: string): boolean {
  const additional = node.additionalProperties;
  if (!isRecord(additional) || node.properties) return false;
  if (additional.type !== "string") throw new Error(`${raw}: canonicalPath reads maps of strings only`);
  return true;
}

/** A verdict from a judge's problems: accepted when there are none. */
export function verdictOf(problems: ReadonlyArray<{ path: string; message: string }>): Verdict {
  const paths = problems.map((p) =>
    p.message.includes(RULES_NOT_CHECKED) ? RULES_SKIPPED : canonicalPath(p.path),
  );
  return {
    accepted: problems.length === 0,
    paths: [...new Set(paths)].sort(),
    detail: problems.map((p) => `${p.path}: ${p.message}`),
  };
}

/** What `sws validate` says of the workspace: the same parse and the same checks as the command. */
export function offlineProblems(workspace: JsonObject): Problem[] {
  const [parsed] = parseWorkspaces(JSON.stringify(workspace), "generated workspace");
  if (!parsed) throw new Error("parseWorkspaces returned no workspace");
  return allProblems(parsed);
}

/** A Status cause, as the server sends it in details.causes. */
interface Cause {
  field: string;
  message: string;
}

function causesOf(status: Record<string, unknown>): Cause[] {
  const details = status["details"];
  const causes = isRecord(details) ? details["causes"] : undefined;
  if (!Array.isArray(causes)) return [];
  return causes.filter(isRecord).map((c) => ({
    field: typeof c["field"] === "string" ? c["field"] : "",
    message: typeof c["message"] === "string" ? c["message"] : "",
  }));
}

/** The Status body of a refused request; throws on anything but a Status. */
function statusOf(err: ApiException<unknown>): Record<string, unknown> {
  const body: unknown = typeof err.body === "string" ? JSON.parse(err.body) : err.body;
  if (!isRecord(body) || body["kind"] !== "Status")
    throw new Error(`dry-run create: HTTP ${err.code} without a Status body: ${String(err.body)}`, {
      cause: err,
    });
  return body;
}

/**
 * What the API server says of the workspace: a dry-run create (nothing is stored) with strict field
 * validation, as `kubectl apply` sends it. A 422 lists its problems as causes; a 400 for unknown
 * fields names them in its message only.
 */
export async function serverVerdict(kc: KubeConfig, workspace: JsonObject): Promise<Verdict> {
  const objects = kc.makeApiClient(CustomObjectsApi);
  try {
    await objects.createClusterCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      body: workspace,
      dryRun: "All",
      fieldValidation: "Strict",
    });
    return verdictOf([]);
  } catch (err) {
    if (!(err instanceof ApiException)) throw err;
    const status = statusOf(err);
    const message = typeof status["message"] === "string" ? status["message"] : "";
    if (err.code === 422) {
      const causes = causesOf(status);
      if (causes.length === 0)
        throw new Error(`dry-run create: 422 without causes: ${message}`, { cause: err });
      return verdictOf(causes.map((c) => ({ path: c.field === "<nil>" ? "" : c.field, message: c.message })));
    }
    const unknown = [...message.matchAll(/unknown field "([^"]+)"/g)].map((m) => m[1] ?? "");
    if (err.code === 400 && unknown.length > 0)
      return verdictOf(unknown.map((field) => ({ path: field, message: "unknown field" })));
    throw new Error(`dry-run create: unexpected HTTP ${err.code}: ${message}`, { cause: err });
  }
}
