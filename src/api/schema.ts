/**
 * Offline structural-schema checks: what the API server's OpenAPI validation of
 * crds/secureworkspace.yaml would say about an object, without a cluster (for `sws validate`, unit
 * tests and examples). CEL rules (`x-kubernetes-validations`) are not evaluated here; their
 * semantic checks live in src/api/validation.ts.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { VERSION } from "./constants.js";
import type { Problem } from "./problems.js";

/** A CEL rule of a schema node (carried for reference; {@link checkSchema} does not evaluate it). */
export interface SchemaValidationRule {
  readonly rule: string;
  readonly message?: string;
  readonly messageExpression?: string;
  readonly fieldPath?: string;
  readonly reason?: string;
}

/** One node of a structural OpenAPI v3 schema: the subset a CustomResourceDefinition may use. */
export interface SchemaNode {
  readonly type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  readonly description?: string;
  readonly properties?: Readonly<Record<string, SchemaNode>>;
  readonly additionalProperties?: SchemaNode | boolean;
  readonly items?: SchemaNode;
  readonly required?: readonly string[];
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minProperties?: number;
  readonly maxProperties?: number;
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly "x-kubernetes-int-or-string"?: boolean;
  readonly "x-kubernetes-preserve-unknown-fields"?: boolean;
  readonly "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  readonly "x-kubernetes-list-map-keys"?: readonly string[];
  readonly "x-kubernetes-validations"?: readonly SchemaValidationRule[];
}

const CRD_FILE = path.join("crds", "secureworkspace.yaml");
// RFC 3339 date-time, as metav1.Time serialises it (fraction and offset optional forms included).
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

let cachedCrd: Record<string, unknown> | undefined;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The repository root: the nearest directory above this module that holds package.json. */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir)
      throw new Error("cannot find the repository root (no package.json above this module)");
    dir = parent;
  }
  return dir;
}

/** Absolute path of crds/secureworkspace.yaml. */
export function crdPath(): string {
  return path.join(repoRoot(), CRD_FILE);
}

/** The CustomResourceDefinition manifest, parsed once (read lazily on first use). */
export function loadCrd(): Record<string, unknown> {
  if (!cachedCrd) {
    const parsed: unknown = parse(readFileSync(crdPath(), "utf8"));
    if (!isRecord(parsed) || parsed["kind"] !== "CustomResourceDefinition")
      throw new Error(`${CRD_FILE} does not hold a CustomResourceDefinition`);
    cachedCrd = parsed;
  }
  return cachedCrd;
}

/** The openAPIV3Schema of the served version (v1alpha1) of the SecureWorkspace CRD. */
export function loadCrdSchema(): SchemaNode {
  const spec = loadCrd()["spec"];
  const versions = isRecord(spec) ? spec["versions"] : undefined;
  const version = Array.isArray(versions)
    ? (versions as unknown[]).find((v) => isRecord(v) && v["name"] === VERSION)
    : undefined;
  const schema =
    isRecord(version) && isRecord(version["schema"]) ? version["schema"]["openAPIV3Schema"] : undefined;
  return asSchemaNode(schema, `${CRD_FILE} version ${VERSION} openAPIV3Schema`);
}

function asSchemaNode(value: unknown, what: string): SchemaNode {
  if (!isRecord(value)) throw new Error(`${what} is not a schema object`);
  return value;
}

function join(base: string, key: string): string {
  return base === "" ? key : `${base}.${key}`;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function hasType(value: unknown, schema: SchemaNode): boolean {
  if (schema["x-kubernetes-int-or-string"]) return typeof value === "string" || Number.isInteger(value);
  switch (schema.type) {
    case undefined:
      return true;
    case "object":
      return isRecord(value);
    case "array":
      return Array.isArray(value);
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number" && Number.isFinite(value);
    default:
      return typeof value === schema.type;
  }
}

function show(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

/**
 * The API server's words for a value outside an enum, e.g.
 * `Unsupported value: "Open": supported values: "WithinWorkspace", "SameNamespace", "Off"`.
 */
export function unsupportedValue(value: unknown, allowed: readonly unknown[]): string {
  return `Unsupported value: ${show(value)}: supported values: ${allowed.map(show).join(", ")}`;
}

function checkString(value: string, schema: SchemaNode, at: string, out: Problem[]): void {
  const length = [...value].length;
  if (schema.minLength !== undefined && length < schema.minLength)
    out.push({ path: at, message: `must be at least ${schema.minLength} characters` });
  if (schema.maxLength !== undefined && length > schema.maxLength)
    out.push({ path: at, message: `must be at most ${schema.maxLength} characters`, stopsRules: true });
  if (schema.pattern !== undefined && !new RegExp(schema.pattern, "u").test(value))
    out.push({ path: at, message: `${show(value)} should match '${schema.pattern}'` });
  if (schema.format === "date-time" && !DATE_TIME.test(value))
    out.push({ path: at, message: `${show(value)} is not an RFC 3339 date-time` });
}

function checkNumber(value: number, schema: SchemaNode, at: string, out: Problem[]): void {
  if (schema.minimum !== undefined && value < schema.minimum)
    out.push({ path: at, message: `must be greater than or equal to ${schema.minimum}` });
  if (schema.maximum !== undefined && value > schema.maximum)
    out.push({ path: at, message: `must be less than or equal to ${schema.maximum}` });
}

function listKey(item: unknown, keys: readonly string[]): string {
  return show(keys.map((k) => (isRecord(item) ? item[k] : undefined)));
}

function checkArray(value: readonly unknown[], schema: SchemaNode, at: string, out: Problem[]): void {
  if (schema.minItems !== undefined && value.length < schema.minItems)
    out.push({ path: at, message: `must have at least ${schema.minItems} items` });
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    out.push({ path: at, message: `must have at most ${schema.maxItems} items`, stopsRules: true });
  const listType = schema["x-kubernetes-list-type"];
  if (listType === "set" || listType === "map") {
    const keys = schema["x-kubernetes-list-map-keys"] ?? [];
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const key = listType === "set" ? show(item) : listKey(item, keys);
      if (seen.has(key)) out.push({ path: `${at}[${i}]`, message: `duplicate value ${key}` });
      seen.add(key);
    });
  }
  if (schema.items) {
    const items = schema.items;
    value.forEach((item, i) => checkNode(item, items, `${at}[${i}]`, out));
  }
}

function checkObject(value: Record<string, unknown>, schema: SchemaNode, at: string, out: Problem[]): void {
  const count = Object.keys(value).length;
  if (schema.minProperties !== undefined && count < schema.minProperties)
    out.push({ path: at, message: `must have at least ${schema.minProperties} entries` });
  if (schema.maxProperties !== undefined && count > schema.maxProperties)
    out.push({ path: at, message: `must have at most ${schema.maxProperties} entries`, stopsRules: true });
  // The server prunes null for non-nullable fields before it validates: treat null as absent.
  const present = (key: string): boolean =>
    value[key] !== undefined && (value[key] !== null || !!schema.nullable);
  for (const key of schema.required ?? []) {
    if (!present(key)) out.push({ path: join(at, key), message: "Required value", stopsRules: true });
  }
  const properties = schema.properties ?? {};
  const additional = schema.additionalProperties;
  for (const [key, child] of Object.entries(value)) {
    if (!present(key)) continue;
    const propertySchema = properties[key];
    if (propertySchema) {
      checkNode(child, propertySchema, join(at, key), out);
    } else if (isRecord(additional)) {
      checkNode(child, additional, `${at}[${key}]`, out);
    } else if (at !== "metadata" && additional !== true && !schema["x-kubernetes-preserve-unknown-fields"]) {
      // metadata is ObjectMeta: a CRD may only restrict name and generateName, the rest is the server's.
      out.push({ path: join(at, key), message: `${UNKNOWN_FIELD} "${key}" (the API server would prune it)` });
    }
  }
}

const UNKNOWN_FIELD = "unknown field";

/**
 * Whether a problem of checkSchema is a field the schema does not know. Under strict field
 * validation (kubectl apply's default) the server refuses such an object before validating it.
 */
export function isUnknownField(problem: Problem): boolean {
  return problem.message.startsWith(`${UNKNOWN_FIELD} "`);
}

function checkNode(value: unknown, schema: SchemaNode, at: string, out: Problem[]): void {
  if (value === null && schema.nullable) return;
  if (!hasType(value, schema)) {
    const expected = schema["x-kubernetes-int-or-string"] ? "integer or string" : (schema.type ?? "any");
    out.push({ path: at, message: `must be of type ${expected}, got ${typeOf(value)}`, stopsRules: true });
    return;
  }
  if (schema.enum && !schema.enum.some((allowed) => allowed === value))
    out.push({ path: at, message: unsupportedValue(value, schema.enum), stopsRules: true });
  // Numeric and string constraints apply to the matching kind only (an int-or-string has both).
  if (typeof value === "string") checkString(value, schema, at, out);
  else if (typeof value === "number") checkNumber(value, schema, at, out);
  else if (Array.isArray(value)) checkArray(value, schema, at, out);
  else if (isRecord(value)) checkObject(value, schema, at, out);
}

/**
 * Checks a value against a structural schema the way the API server's OpenAPI validation does:
 * type (with x-kubernetes-int-or-string), enum, pattern, format date-time, min/maxLength,
 * minimum/maximum, min/maxItems, list-type set/map uniqueness, min/maxProperties, required,
 * additionalProperties maps, and fields the schema does not know (the server prunes them
 * silently; here they are reported as "unknown field"). CEL rules are not evaluated.
 *
 * @param obj the value to check; with the default schema, a whole SecureWorkspace object.
 * @param schema the schema to check against; default the CRD's v1alpha1 openAPIV3Schema.
 * @param basePath the path of `obj` in problem paths; default "" (the object root), so problems
 *   read like `spec.namespaces[1].name`.
 * @returns every problem found; an empty list means the value conforms.
 */
export function checkSchema(obj: unknown, schema: unknown = loadCrdSchema(), basePath = ""): Problem[] {
  const out: Problem[] = [];
  checkNode(obj, asSchemaNode(schema, "schema"), basePath, out);
  return out;
}
