/**
 * src/api/types.ts and crds/secureworkspace.yaml describe the same API; this test proves they agree
 * field by field. types.ts re-exports the types test/tools/gen-types.ts generates into
 * src/api/generated.ts, so this is an independent check of the generator and of the wiring: the
 * SecureWorkspace interface of types.ts is walked through its imports, with the TypeScript compiler,
 * not with the generator's own schema walk. Both sides are flattened to "path: shape" lines (e.g.
 * `spec.namespaces[].labels{}: string`, `spec.enforcement?: enum(Audit|Enforce)`) and compared.
 * TypeScript's `number` stands for the CRD's `integer` (every number in the API is a whole number).
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import ts from "typescript";
import { loadCrdSchema, repoRoot, type SchemaNode } from "../../../src/api/schema.js";

/** Flattened shapes: path (with "?" when optional) → kind. */
type Shapes = Map<string, string>;

const TYPES_FILE = path.join(repoRoot(), "src", "api", "types.ts");
/** Where the spec and status types are declared (the mutation tests below edit its text). */
const GENERATED_FILE = path.join(repoRoot(), "src", "api", "generated.ts");

// ---- TypeScript side -------------------------------------------------------------------------

function tsKind(
  type: ts.Type,
  checker: ts.TypeChecker,
): { kind: string; element?: ts.Type; object?: ts.Type } {
  const parts = (type.isUnion() ? type.types : [type]).filter((t) => !(t.flags & ts.TypeFlags.Undefined));
  if (parts.length > 1) {
    if (parts.every((t) => t.isStringLiteral())) {
      const values = parts.map((t) => t.value).sort();
      return { kind: `enum(${values.join("|")})` };
    }
    if (parts.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) return { kind: "boolean" };
    const flags = parts.map((t) => t.flags);
    if (
      flags.length === 2 &&
      flags.some((f) => f & ts.TypeFlags.Number) &&
      flags.some((f) => f & ts.TypeFlags.String)
    )
      return { kind: "int-or-string" };
    throw new Error(`unsupported union type ${checker.typeToString(type)}`);
  }
  const t = parts[0];
  if (!t) throw new Error("empty type");
  if (t.isStringLiteral()) return { kind: `enum(${t.value})` };
  if (t.flags & ts.TypeFlags.String) return { kind: "string" };
  if (t.flags & ts.TypeFlags.Number) return { kind: "integer" };
  if (t.flags & (ts.TypeFlags.Boolean | ts.TypeFlags.BooleanLiteral)) return { kind: "boolean" };
  if (checker.isArrayType(t))
    return { kind: "array", element: checker.getTypeArguments(t as ts.TypeReference)[0] };
  if (t.flags & ts.TypeFlags.Object) {
    const index = checker.getIndexInfoOfType(t, ts.IndexKind.String);
    if (index && checker.getPropertiesOfType(t).length === 0) return { kind: "map", element: index.type };
    return { kind: "object", object: t };
  }
  throw new Error(`unsupported type ${checker.typeToString(t)}`);
}

function walkTs(type: ts.Type, checker: ts.TypeChecker, at: string, optional: boolean, out: Shapes): void {
  const { kind, element, object } = tsKind(type, checker);
  out.set(`${at}${optional ? "?" : ""}`, kind);
  if (kind === "array" && element) walkTs(element, checker, `${at}[]`, false, out);
  if (kind === "map" && element) walkTs(element, checker, `${at}{}`, false, out);
  if (object) {
    for (const prop of checker.getPropertiesOfType(object)) {
      const propOptional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
      walkTs(checker.getTypeOfSymbol(prop), checker, `${at}.${prop.name}`, propOptional, out);
    }
  }
}

// NodeNext, as tsconfig.json: types.ts imports "./generated.js", which names generated.ts.
const options: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
const host = ts.createCompilerHost(options);
// The standard library's declaration files are parsed once and shared by every program below.
const libFiles = new Map<string, ts.SourceFile | undefined>();
const readLibFile = host.getSourceFile.bind(host);

/**
 * Shapes of SecureWorkspace's spec and status, from types.ts and the generated types it re-exports,
 * with generated.ts read from `generatedText`.
 */
function shapesFromTypes(generatedText: string): Shapes {
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    if (path.resolve(fileName) === GENERATED_FILE)
      return ts.createSourceFile(fileName, generatedText, languageVersion, true);
    if (!libFiles.has(fileName))
      libFiles.set(fileName, readLibFile(fileName, languageVersion, onError, shouldCreate));
    return libFiles.get(fileName);
  };
  const program = ts.createProgram([TYPES_FILE], options, host);
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(TYPES_FILE);
  if (!source) throw new Error(`cannot read ${TYPES_FILE}`);
  const root = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === "SecureWorkspace",
  );
  if (!root) throw new Error("types.ts has no SecureWorkspace interface");
  const rootType = checker.getTypeAtLocation(root);
  const out: Shapes = new Map();
  for (const name of ["spec", "status"]) {
    const prop = checker.getPropertyOfType(rootType, name);
    if (!prop) throw new Error(`SecureWorkspace has no ${name}`);
    walkTs(checker.getTypeOfSymbol(prop), checker, name, (prop.flags & ts.SymbolFlags.Optional) !== 0, out);
  }
  return out;
}

// ---- CRD side --------------------------------------------------------------------------------

function crdKind(node: SchemaNode): string {
  if (node["x-kubernetes-int-or-string"]) return "int-or-string";
  if (node.enum) return `enum(${node.enum.map(String).sort().join("|")})`;
  if (node.type === "object" && typeof node.additionalProperties === "object") return "map";
  return node.type ?? "untyped";
}

function walkCrd(node: SchemaNode, at: string, optional: boolean, out: Shapes): void {
  const kind = crdKind(node);
  out.set(`${at}${optional ? "?" : ""}`, kind);
  if (kind === "array" && node.items) walkCrd(node.items, `${at}[]`, false, out);
  if (kind === "map" && typeof node.additionalProperties === "object")
    walkCrd(node.additionalProperties, `${at}{}`, false, out);
  if (kind === "object") {
    const required = new Set(node.required ?? []);
    for (const [name, child] of Object.entries(node.properties ?? {}))
      walkCrd(child, `${at}.${name}`, !required.has(name), out);
  }
}

/** Shapes of spec and status from a CRD root schema. */
function shapesFromCrd(root: SchemaNode): Shapes {
  const out: Shapes = new Map();
  const required = new Set(root.required ?? []);
  for (const name of ["spec", "status"]) {
    const node = root.properties?.[name];
    if (!node) throw new Error(`the CRD schema has no ${name}`);
    walkCrd(node, name, !required.has(name), out);
  }
  return out;
}

// ---- comparison ------------------------------------------------------------------------------

interface Differences {
  onlyInTypes: string[];
  onlyInCrd: string[];
  differing: string[];
}

function compare(types: Shapes, crd: Shapes): Differences {
  const onlyInTypes = [...types.keys()].filter((k) => !crd.has(k)).sort();
  const onlyInCrd = [...crd.keys()].filter((k) => !types.has(k)).sort();
  const differing = [...types.entries()]
    .filter(([k, kind]) => crd.has(k) && crd.get(k) !== kind)
    .map(([k, kind]) => `${k}: types.ts ${kind}, CRD ${crd.get(k)}`)
    .sort();
  return { onlyInTypes, onlyInCrd, differing };
}

const NONE: Differences = { onlyInTypes: [], onlyInCrd: [], differing: [] };

function clone(schema: SchemaNode): SchemaNode {
  return structuredClone(schema);
}

/** A writable view of a schema node for the mutation tests below (SchemaNode is read-only). */
interface Mutable {
  type?: string;
  properties?: Record<string, Mutable>;
  items?: Mutable;
  required?: string[];
}

function node(root: SchemaNode, ...names: string[]): Mutable & { properties: Record<string, Mutable> } {
  let current = root as Mutable;
  for (const name of names) {
    const next = current.properties?.[name];
    if (!next) throw new Error(`no property ${name}`);
    current = next;
  }
  if (!current.properties) throw new Error(`${names.join(".")} has no properties`);
  return current as Mutable & { properties: Record<string, Mutable> };
}

describe("src/api/types.ts and crds/secureworkspace.yaml", () => {
  const generatedText = readFileSync(GENERATED_FILE, "utf8");
  const typeShapes = shapesFromTypes(generatedText);
  const schema = loadCrdSchema();
  const crdShapes = shapesFromCrd(schema);

  it("declare the same fields, with the same optionality, kinds and enum values", () => {
    expect(compare(typeShapes, crdShapes)).to.deep.equal(NONE);
  });

  it("cover spec and status in depth (the walk did not stop early)", () => {
    expect(typeShapes.size).to.be.greaterThan(80);
    expect(typeShapes.get("spec.namespaces")).to.equal("array");
    expect(typeShapes.get("spec.namespaces[].labels{}")).to.equal("string");
    expect(typeShapes.get("spec.networkPolicy.allowIngressFrom[].ports[].port?")).to.equal("int-or-string");
    expect(typeShapes.get("spec.networkPolicy.defaultDeny[]")).to.equal("enum(Egress|Ingress)");
    expect(typeShapes.get("status.conditions[].status")).to.equal("enum(False|True|Unknown)");
    expect(typeShapes.get("spec.guardrails?")).to.equal("object");
    expect(typeShapes.get("spec.guardrails.networkPolicy?")).to.equal(
      "enum(Off|SameNamespace|WithinWorkspace)",
    );
    expect(typeShapes.get("spec.guardrails.rbac?")).to.equal("enum(Off|Strict)");
    expect(crdShapes.get("spec.guardrails.mesh?")).to.equal("enum(Off|Strict)");
  });

  describe("the comparison itself", () => {
    it("notices a field removed from the CRD", () => {
      const changed = clone(schema);
      delete node(changed, "spec", "networkPolicy").properties["allowDNS"];
      expect(compare(typeShapes, shapesFromCrd(changed)).onlyInTypes).to.deep.equal([
        "spec.networkPolicy.allowDNS?",
      ]);
    });

    it("notices a field added to the CRD only", () => {
      const changed = clone(schema);
      node(changed, "status").properties["extra"] = { type: "string" };
      expect(compare(typeShapes, shapesFromCrd(changed)).onlyInCrd).to.deep.equal(["status.extra?"]);
    });

    it("notices a field removed from the TypeScript types", () => {
      const changed = shapesFromTypes(generatedText.replace("  driftCorrections?: number;\n", ""));
      expect(compare(changed, crdShapes).onlyInCrd).to.deep.equal(["status.driftCorrections?"]);
    });

    it("notices a field added to the TypeScript types only", () => {
      const changed = shapesFromTypes(
        generatedText.replace("  allowDNS?: boolean;\n", "  allowDNS?: boolean;\n  allowNTP?: boolean;\n"),
      );
      expect(compare(changed, crdShapes).onlyInTypes).to.deep.equal(["spec.networkPolicy.allowNTP?"]);
    });

    it("notices a change of optionality", () => {
      const changed = clone(schema);
      const bindings = node(changed, "spec", "rbac").properties["bindings"];
      if (!bindings?.items) throw new Error("no spec.rbac.bindings items");
      bindings.items.required = ["role"];
      const diff = compare(typeShapes, shapesFromCrd(changed));
      expect(diff.onlyInTypes).to.include("spec.rbac.bindings[].subjects");
      expect(diff.onlyInCrd).to.include("spec.rbac.bindings[].subjects?");
    });

    it("notices an enum value that differs", () => {
      const changed = shapesFromTypes(
        generatedText.replace(`"none" | "istio" | "linkerd"`, `"none" | "istio" | "linkerd" | "cilium"`),
      );
      expect(compare(changed, crdShapes).differing).to.deep.equal([
        "spec.serviceMesh.provider?: types.ts enum(cilium|istio|linkerd|none), CRD enum(istio|linkerd|none)",
      ]);
    });

    it("notices a guardrail value the CRD does not have", () => {
      const changed = shapesFromTypes(
        generatedText.replace(
          `"WithinWorkspace" | "SameNamespace" | "Off"`,
          `"WithinWorkspace" | "SameNamespace" | "Open" | "Off"`,
        ),
      );
      expect(compare(changed, crdShapes).differing).to.deep.equal([
        "spec.guardrails.networkPolicy?: types.ts enum(Off|Open|SameNamespace|WithinWorkspace), CRD enum(Off|SameNamespace|WithinWorkspace)",
      ]);
    });

    it("notices a kind that differs", () => {
      const changed = clone(schema);
      node(changed, "status").properties["driftCorrections"] = { type: "string" };
      expect(compare(typeShapes, shapesFromCrd(changed)).differing).to.deep.equal([
        "status.driftCorrections?: types.ts integer, CRD string",
      ]);
    });
  });
});
