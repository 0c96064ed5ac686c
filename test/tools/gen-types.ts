/**
 * Writes src/api/generated.ts from the SecureWorkspace CRD (crds/secureworkspace.yaml): the
 * TypeScript types of spec and status, with the schema's descriptions as doc comments, and
 * SCHEMA_DEFAULTS, the schema's `default:` values. The CRD is the one owner of the API's shape;
 * src/api/types.ts re-exports these types under the names the rest of src uses, and
 * test/unit/api/generated-types.test.ts fails when src/api/generated.ts is stale.
 *
 * Run with `npm run gen:types` (it compiles first; a compile error from a stale generated.ts does not
 * stop tsc from emitting this script, so the generator can always repair its own output).
 *
 * Hand-written rather than json-schema-to-typescript: that library knows neither
 * x-kubernetes-int-or-string nor how to give one name to the several schema nodes that are one
 * type here (four label selectors, two ipBlocks), and it would need `title`s added to the CRD.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { format, resolveConfig } from "prettier";
import { loadCrdSchema, repoRoot, type SchemaNode } from "../../src/api/schema.js";

/** Where the generated module lives. */
export const GENERATED_FILE = path.join(repoRoot(), "src", "api", "generated.ts");

/** A named type: the schema paths it stands for and, for types the schema does not describe, a doc. */
interface TypeName {
  readonly name: string;
  readonly paths: readonly string[];
  /** The doc comment when the nodes' descriptions disagree or they have none (an enum's field). */
  readonly doc?: string;
}

const PEERS = ["spec.networkPolicy.allowIngressFrom[]", "spec.networkPolicy.allowEgressTo[]"];

/**
 * Which schema nodes become named types, and their names (those src/ has always used). Paths are
 * `spec.a.b` with `[]` for an array's items. A node not listed is written inline; several paths
 * under one name must have the same shape (the generator refuses otherwise), so a CRD edit that
 * changes one label selector and not the others is noticed.
 */
export const TYPE_NAMES: readonly TypeName[] = [
  { name: "SecureWorkspaceSpec", paths: ["spec"] },
  { name: "WorkspaceNamespace", paths: ["spec.namespaces[]"] },
  {
    name: "Enforcement",
    paths: ["spec.enforcement"],
    doc: "Whether the operator writes the baseline or only reports drift from it.",
  },
  {
    name: "DeletionPolicy",
    paths: ["spec.deletionPolicy"],
    doc: "What happens to namespaces when the workspace is deleted.",
  },
  { name: "PodSecuritySpec", paths: ["spec.podSecurity"] },
  {
    name: "PodSecurityLevel",
    paths: ["enforce", "audit", "warn"].map((level) => `spec.podSecurity.${level}`),
    doc: "Pod Security Standards level.",
  },
  { name: "NetworkPolicySpec", paths: ["spec.networkPolicy"] },
  { name: "PolicyDirection", paths: ["spec.networkPolicy.defaultDeny[]"] },
  { name: "IngressAllowance", paths: ["spec.networkPolicy.allowIngressFrom[]"] },
  { name: "EgressAllowance", paths: ["spec.networkPolicy.allowEgressTo[]"] },
  {
    name: "LabelSelector",
    paths: PEERS.flatMap((peer) => [`${peer}.namespaceSelector`, `${peer}.podSelector`]),
    doc: "A label selector (matchLabels and matchExpressions), as in metav1.LabelSelector.",
  },
  {
    name: "IpBlock",
    paths: PEERS.map((peer) => `${peer}.ipBlock`),
    doc: "A CIDR block, optionally with exceptions.",
  },
  { name: "PolicyPort", paths: PEERS.map((peer) => `${peer}.ports[]`) },
  { name: "RbacSpec", paths: ["spec.rbac"] },
  { name: "RoleBindingSpec", paths: ["spec.rbac.bindings[]"] },
  {
    name: "BindableRole",
    paths: ["spec.rbac.bindings[].role"],
    doc: "The only ClusterRoles a workspace may bind.",
  },
  { name: "Subject", paths: ["spec.rbac.bindings[].subjects[]"] },
  { name: "ResourceQuotaSpec", paths: ["spec.resourceQuota"] },
  { name: "LimitRangeSpec", paths: ["spec.limitRange"] },
  { name: "ServiceMeshSpec", paths: ["spec.serviceMesh"] },
  { name: "MeshProvider", paths: ["spec.serviceMesh.provider"], doc: "Service mesh integration." },
  { name: "MtlsMode", paths: ["spec.serviceMesh.mtls"], doc: "Mesh mTLS mode." },
  { name: "MeshAuthorizationSpec", paths: ["spec.serviceMesh.authorization"] },
  {
    name: "MeshAuthorizationMode",
    paths: ["spec.serviceMesh.authorization.mode"],
    doc: "Mesh identity-based authorization.",
  },
  { name: "GuardrailsSpec", paths: ["spec.guardrails"] },
  {
    name: "NetworkPolicyGuardrail",
    paths: ["spec.guardrails.networkPolicy"],
    doc: "Which NetworkPolicies tenants may add (see GuardrailsSpec.networkPolicy).",
  },
  {
    name: "RbacGuardrail",
    paths: ["spec.guardrails.rbac"],
    doc: "Which RoleBindings tenants may add (see GuardrailsSpec.rbac).",
  },
  {
    name: "MeshGuardrail",
    paths: ["spec.guardrails.mesh"],
    doc: "Which PeerAuthentications tenants may add (see GuardrailsSpec.mesh).",
  },
  { name: "SecureWorkspaceStatus", paths: ["status"] },
  { name: "Condition", paths: ["status.conditions[]"] },
  { name: "ConditionStatus", paths: ["status.conditions[].status"], doc: "A condition's status." },
  { name: "NamespaceStatus", paths: ["status.namespaces[]"] },
  { name: "DriftCorrection", paths: ["status.lastDriftCorrection"] },
  { name: "DriftEntry", paths: ["status.drift[]"] },
  { name: "DriftReason", paths: ["status.drift[].reason"], doc: "How an object differs from the baseline." },
  { name: "ControlStatus", paths: ["status.controls[]"] },
  { name: "ControlState", paths: ["status.controls[].state"], doc: "A compliance control's state." },
];

/** The schema nodes behind each name, gathered from the whole schema before anything is written. */
type Uses = Map<string, Array<{ path: string; node: SchemaNode }>>;

function nameAt(names: readonly TypeName[], at: string): TypeName | undefined {
  return names.find((n) => n.paths.includes(at));
}

function gatherUses(node: SchemaNode, at: string, names: readonly TypeName[], uses: Uses): void {
  const named = nameAt(names, at);
  if (named) uses.set(named.name, [...(uses.get(named.name) ?? []), { path: at, node }]);
  for (const [key, child] of Object.entries(node.properties ?? {}))
    gatherUses(child, `${at}.${key}`, names, uses);
  if (node.items) gatherUses(node.items, `${at}[]`, names, uses);
  if (typeof node.additionalProperties === "object")
    gatherUses(node.additionalProperties, `${at}{}`, names, uses);
}

/** The one description all the nodes share, if they share one. */
function commonDescription(nodes: readonly SchemaNode[]): string | undefined {
  const first = nodes[0]?.description;
  return nodes.every((n) => n.description === first) ? first : undefined;
}

/** A doc comment, wrapped to stay inside the line length prettier keeps (it does not wrap comments). */
function docComment(text: string | undefined, indent: string): string {
  if (text === undefined) return "";
  const words = text.replaceAll("*/", "*\\/").split(/\s+/u).filter(Boolean);
  const lines: string[] = [];
  let line = "";
  for (const word of words) {
    if (line !== "" && indent.length + 3 + line.length + 1 + word.length > 104) {
      lines.push(line);
      line = word;
    } else line = line === "" ? word : `${line} ${word}`;
  }
  lines.push(line);
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

/** Renders TypeScript from schema nodes; `describe` false renders the bare shape (to compare uses). */
class Renderer {
  constructor(
    private readonly names: readonly TypeName[],
    private readonly describe: boolean,
  ) {}

  /** The type expression for the nodes at `paths` (one node per use of a shared name). */
  expression(nodes: readonly SchemaNode[], paths: readonly string[], indent: string): string {
    // Named when every use is the same name's (a named type inside a shared one is shared too).
    const named = paths.map((p) => nameAt(this.names, p)?.name);
    const first = named[0];
    if (first !== undefined && named.every((n) => n === first)) return first;
    return this.body(nodes, paths, indent);
  }

  /** The type of the nodes themselves (a named type's definition, or an inline type). */
  body(nodes: readonly SchemaNode[], paths: readonly string[], indent: string): string {
    const node = nodes[0];
    if (!node) throw new Error(`no schema node at ${paths.join(", ")}`);
    if (node["x-kubernetes-int-or-string"]) return "number | string";
    if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(" | ");
    switch (node.type) {
      case "string":
        return "string";
      case "integer":
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array":
        return this.array(nodes, paths, indent);
      case "object":
        return this.object(nodes, paths, indent);
      default:
        throw new Error(
          `${paths.join(", ")}: a schema node of type ${String(node.type)} has no TypeScript form here`,
        );
    }
  }

  private array(nodes: readonly SchemaNode[], paths: readonly string[], indent: string): string {
    const items = nodes.map((n) => n.items);
    if (!items.every((i): i is SchemaNode => i !== undefined))
      throw new Error(`${paths.join(", ")}: array without items`);
    const element = this.expression(
      items,
      paths.map((p) => `${p}[]`),
      indent,
    );
    return /^[A-Za-z]+$/u.test(element) ? `${element}[]` : `Array<${element}>`;
  }

  private object(nodes: readonly SchemaNode[], paths: readonly string[], indent: string): string {
    const first = nodes[0];
    if (!first) throw new Error("no schema node");
    if (typeof first.additionalProperties === "object") {
      const values = nodes.map((n) => n.additionalProperties);
      if (!values.every((v): v is SchemaNode => typeof v === "object"))
        throw new Error(`${paths.join(", ")}: a map at one use only`);
      return `Record<string, ${this.expression(
        values,
        paths.map((p) => `${p}{}`),
        indent,
      )}>`;
    }
    if (!first.properties)
      throw new Error(`${paths.join(", ")}: an object without properties or additionalProperties`);
    const required = new Set(first.required ?? []);
    const inner = `${indent}  `;
    const members = Object.keys(first.properties).map((key) => {
      const children = nodes.map((n) => n.properties?.[key]);
      if (!children.every((c): c is SchemaNode => c !== undefined))
        throw new Error(`${paths.join(", ")}: property ${key} at one use only`);
      const doc = this.describe ? docComment(commonDescription(children), inner) : "";
      const type = this.expression(
        children,
        paths.map((p) => `${p}.${key}`),
        inner,
      );
      return `${doc}${inner}${key}${required.has(key) ? "" : "?"}: ${type};\n`;
    });
    return `{\n${members.join("")}${indent}}`;
  }
}

/** Every `default:` under `node`, nested as the spec is (an object default `{}` only makes room). */
function defaultsOf(node: SchemaNode, at: string): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const nested = defaultsOf(child, `${at}.${key}`);
    if (child.default !== undefined && (typeof child.default !== "object" || Array.isArray(child.default)))
      out[key] = child.default;
    else if (nested) out[key] = nested;
  }
  // A default inside list items or map values would need a different table; none exists today.
  if (node.items && defaultsOf(node.items, `${at}[]`)) throw new Error(`${at}[]: defaults inside list items`);
  return Object.keys(out).length > 0 ? out : undefined;
}

const HEADER = `/**
 * GENERATED from crds/secureworkspace.yaml by test/tools/gen-types.ts (\`npm run gen:types\`); do not
 * edit. The types of a SecureWorkspace's spec and status, and the schema's defaults.
 * test/unit/api/generated-types.test.ts fails when this file no longer matches the CRD.
 */
`;

/**
 * The source text of src/api/generated.ts for a CRD root schema, formatted as prettier formats
 * the repository (so `npm run lint` accepts it unchanged).
 */
export async function generateTypes(root: SchemaNode = loadCrdSchema(), names = TYPE_NAMES): Promise<string> {
  const uses: Uses = new Map();
  for (const part of ["spec", "status"]) {
    const node = root.properties?.[part];
    if (!node) throw new Error(`the CRD schema has no ${part}`);
    gatherUses(node, part, names, uses);
  }
  const described = new Renderer(names, true);
  const bare = new Renderer(names, false);
  const blocks: string[] = [];
  for (const { name, paths, doc } of names) {
    const found = uses.get(name) ?? [];
    const missing = paths.filter((p) => !found.some((u) => u.path === p));
    if (missing.length > 0) throw new Error(`${name}: the CRD schema has no ${missing.join(", ")}`);
    const shapes = found.map((u) => bare.body([u.node], [u.path], ""));
    const differing = found.filter((_, i) => shapes[i] !== shapes[0]).map((u) => u.path);
    if (differing.length > 0)
      throw new Error(`${name}: ${differing.join(", ")} differ in shape from ${found[0]?.path ?? ""}`);
    const nodes = found.map((u) => u.node);
    const comment = docComment(doc ?? commonDescription(nodes) ?? `The type at ${paths.join(", ")}.`, "");
    const body = described.body(nodes, paths, "");
    blocks.push(
      body.startsWith("{")
        ? `${comment}export interface ${name} ${body}\n`
        : `${comment}export type ${name} = ${body};\n`,
    );
  }
  const specNode = root.properties?.["spec"];
  const defaults = specNode ? (defaultsOf(specNode, "spec") ?? {}) : {};
  blocks.push(
    `${docComment(
      "The `default:` values of the CRD's spec, nested as the spec is: what the API server fills in " +
        "at admission and applyDefaults (src/api/defaults.ts) fills in offline.",
      "",
    )}export const SCHEMA_DEFAULTS = ${JSON.stringify(defaults)} as const;\n`,
  );
  const text = `${HEADER}\n${blocks.join("\n")}`;
  const config = await resolveConfig(GENERATED_FILE);
  return format(text, { ...config, filepath: GENERATED_FILE });
}

async function main(): Promise<void> {
  writeFileSync(GENERATED_FILE, await generateTypes());
  console.log(`wrote ${path.relative(process.cwd(), GENERATED_FILE)}`);
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
