/**
 * applyDefaults (src/api/defaults.ts) and the CRD's `default:` values (crds/secureworkspace.yaml)
 * say the same thing. The API server applies the schema's defaults at admission; the operator
 * applies applyDefaults to what it reads (and `sws render` offline). Whatever the server filled in
 * must not change what the operator resolves, and every default the schema declares must be the
 * value applyDefaults gives a spec that omits the field. Defaults the schema cannot express
 * (audit = enforce, the control-plane namespace per provider) are applyDefaults' alone.
 */
import { expect } from "chai";
import fc from "fast-check";
import { applyDefaults } from "../../../src/api/defaults.js";
import { checkSchema, loadCrdSchema, type SchemaNode } from "../../../src/api/schema.js";
import type { SecureWorkspaceSpec } from "../../../src/api/types.js";
import { asJson, type Json, type JsonObject, validSpec } from "../../support/arbitraries.js";

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The server's structural defaulting, for the subset of OpenAPI this CRD uses: an absent (or null,
 * non-nullable) property with a default gets a copy of it, then every object, list item and map
 * value is defaulted in turn, so a defaulted `{}` gets its own properties' defaults.
 */
function schemaDefaulted(value: Json, node: SchemaNode): Json {
  if (Array.isArray(value))
    return node.items ? value.map((item) => schemaDefaulted(item, node.items!)) : value;
  if (!isObject(value)) return value;
  const out: JsonObject = { ...value };
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const present = out[name];
    if ((present === undefined || (present === null && !child.nullable)) && child.default !== undefined)
      out[name] = asJson(child.default);
  }
  for (const [name, child] of Object.entries(out)) {
    const property = node.properties?.[name];
    const additional = node.additionalProperties;
    const schema = property ?? (typeof additional === "object" ? additional : undefined);
    if (schema) out[name] = schemaDefaulted(child, schema);
  }
  return out;
}

/** Every default the schema declares under `node`, as [path, value] (paths from the spec root). */
function declaredDefaults(node: SchemaNode, at: string[] = []): Array<[string[], Json]> {
  const found: Array<[string[], Json]> = [];
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (child.default !== undefined) found.push([[...at, name], asJson(child.default)]);
    found.push(...declaredDefaults(child, [...at, name]));
  }
  return found;
}

function valueAt(value: Json | undefined, keys: readonly string[]): Json | undefined {
  let current = value;
  for (const key of keys) current = isObject(current) ? current[key] : undefined;
  return current;
}

/** applyDefaults of a spec's JSON, once the CRD's schema vouched for its shape. */
function resolve(spec: Json): Json {
  const problems = checkSchema(spec, specSchemaOf(loadCrdSchema()), "spec");
  if (problems.length > 0)
    throw new Error(`not a spec: ${problems.map((p) => `${p.path}: ${p.message}`).join("; ")}`);
  return asJson(applyDefaults(spec as unknown as SecureWorkspaceSpec));
}

/** An x-kubernetes-list-type set is compared without order (applyDefaults sorts defaultDeny). */
function comparable(value: Json | undefined, node: SchemaNode | undefined): Json | undefined {
  if (Array.isArray(value) && node?.["x-kubernetes-list-type"] === "set")
    return [...value].map((v) => JSON.stringify(v)).sort();
  return value;
}

function schemaAt(node: SchemaNode, keys: readonly string[]): SchemaNode | undefined {
  let current: SchemaNode | undefined = node;
  for (const key of keys) current = current?.properties?.[key];
  return current;
}

/**
 * Each schema default that applyDefaults does not give a spec omitting the field, as
 * `path: schema X, applyDefaults Y`; empty when the two agree.
 */
function disagreements(specSchema: SchemaNode): string[] {
  const minimal = resolve({ namespaces: [{ name: "team-a" }] });
  return declaredDefaults(specSchema)
    .filter(([, value]) => !isObject(value)) // an object default ({}) only makes room for its fields'
    .filter(([keys, value]) => {
      const node = schemaAt(specSchema, keys);
      return (
        JSON.stringify(comparable(valueAt(minimal, keys), node)) !== JSON.stringify(comparable(value, node))
      );
    })
    .map(
      ([keys, value]) =>
        `spec.${keys.join(".")}: schema ${JSON.stringify(value)}, applyDefaults ${JSON.stringify(valueAt(minimal, keys))}`,
    );
}

/** A copy of a schema with one property's default replaced. */
function withDefault(node: SchemaNode, keys: readonly string[], value: Json): SchemaNode {
  const [first, ...rest] = keys;
  if (first === undefined) return { ...node, default: value };
  const child = node.properties?.[first];
  if (!child) throw new Error(`the schema has no property ${first}`);
  return { ...node, properties: { ...node.properties, [first]: withDefault(child, rest, value) } };
}

function specSchemaOf(root: SchemaNode): SchemaNode {
  const spec = root.properties?.["spec"];
  if (!spec) throw new Error("the CRD schema has no spec");
  return spec;
}

describe("applyDefaults and the CRD schema's defaults", () => {
  const specSchema = specSchemaOf(loadCrdSchema());

  it("find the schema's defaults (the walk reaches every section)", () => {
    const paths = declaredDefaults(specSchema).map(([keys]) => keys.join("."));
    expect(paths).to.include.members([
      "enforcement",
      "deletionPolicy",
      "podSecurity.enforce",
      "podSecurity.enforceVersion",
      "networkPolicy.defaultDeny",
      "networkPolicy.allowDNS",
      "serviceMesh.injection",
      "guardrails.networkPolicy",
      "guardrails.mesh",
    ]);
    expect(paths.length).to.be.at.least(14);
  });

  it("agree on every default the schema declares, for a spec that omits them all", () => {
    expect(disagreements(specSchema)).to.deep.equal([]);
  });

  it("notice a schema default that applyDefaults does not share", () => {
    const changed = withDefault(
      withDefault(specSchema, ["enforcement"], "Audit"),
      ["serviceMesh", "mtls"],
      "PERMISSIVE",
    );
    expect(disagreements(changed)).to.deep.equal([
      'spec.enforcement: schema "Audit", applyDefaults "Enforce"',
      'spec.serviceMesh.mtls: schema "PERMISSIVE", applyDefaults "STRICT"',
    ]);
  });

  it("resolve any valid spec the same with or without the server's defaulting", () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const json = asJson(spec);
        expect(resolve(schemaDefaulted(json, specSchema))).to.deep.equal(resolve(json));
      }),
      { numRuns: 300 },
    );
  });

  it("default the schema's way what the server defaults: a spec of only namespaces", () => {
    const json: Json = { namespaces: [{ name: "team-a" }] };
    const defaulted = schemaDefaulted(json, specSchema);
    // The same object the server returned in test/integration/crd-validation.test.ts.
    expect(defaulted).to.deep.equal({
      namespaces: [{ name: "team-a" }],
      enforcement: "Enforce",
      deletionPolicy: "Retain",
      podSecurity: { enforce: "restricted", enforceVersion: "latest" },
      networkPolicy: { defaultDeny: ["Ingress", "Egress"], allowSameNamespace: true, allowDNS: true },
      serviceMesh: { provider: "none", mtls: "STRICT", injection: true },
      guardrails: { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" },
    });
    expect(resolve(defaulted)).to.deep.equal(resolve(json));
  });
});
