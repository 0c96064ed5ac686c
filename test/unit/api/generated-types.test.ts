/**
 * src/api/generated.ts is what test/tools/gen-types.ts makes of crds/secureworkspace.yaml today: a
 * CRD edit without `npm run gen:types` fails here, and the regenerated types then make `tsc` report
 * every consumer that no longer fits. The generator's own refusals are tested on edited copies of
 * the schema.
 */
import { readFileSync } from "node:fs";
import { expect } from "chai";
import { loadCrdSchema, type SchemaNode } from "../../../src/api/schema.js";
import { GENERATED_FILE, generateTypes } from "../../tools/gen-types.js";

/** A writable view of a schema node for the edits below (SchemaNode is read-only). */
interface Mutable {
  type?: string;
  enum?: unknown[];
  description?: string;
  default?: unknown;
  properties?: Record<string, Mutable>;
  items?: Mutable;
  additionalProperties?: Mutable | boolean;
}

/** A deep copy of the CRD's schema and the node at `names` in it (`[]` steps into array items). */
function editable(...names: string[]): { root: SchemaNode; at: Mutable } {
  const root = structuredClone(loadCrdSchema());
  let at = root as Mutable;
  for (const name of names) {
    const next = name === "[]" ? at.items : at.properties?.[name];
    if (!next) throw new Error(`no schema node ${names.join(".")}`);
    at = next;
  }
  return { root, at };
}

async function refusal(root: SchemaNode): Promise<string> {
  try {
    await generateTypes(root);
  } catch (err: unknown) {
    return err instanceof Error ? err.message : String(err);
  }
  return "(no error)";
}

describe("src/api/generated.ts", () => {
  it("is what the generator makes of the CRD today (else run `npm run gen:types`)", async () => {
    const fresh = await generateTypes();
    const committed = readFileSync(GENERATED_FILE, "utf8");
    expect(committed === fresh, "src/api/generated.ts is stale: run `npm run gen:types`").to.be.true;
  });

  describe("the generator", () => {
    it("writes a field added to the CRD, with its description, and stops matching the committed file", async () => {
      const { root, at } = editable("spec", "guardrails");
      at.properties = {
        ...at.properties,
        quota: { type: "string", enum: ["Strict", "Off"], description: "Which quotas tenants may add." },
      };
      const text = await generateTypes(root);
      expect(text).to.contain(
        '  /** Which quotas tenants may add. */\n  quota?: "Strict" | "Off";\n}\n\n/** Which NetworkPolicies',
      );
      expect(text).not.to.equal(readFileSync(GENERATED_FILE, "utf8"));
    });

    it("writes a changed enum and a changed default", async () => {
      const { root, at: provider } = editable("spec", "serviceMesh", "provider");
      provider.enum = ["none", "istio", "linkerd", "cilium"];
      provider.default = "istio";
      const text = await generateTypes(root);
      expect(text).to.contain('export type MeshProvider = "none" | "istio" | "linkerd" | "cilium";');
      expect(text).to.contain('serviceMesh: { provider: "istio", mtls: "STRICT", injection: true }');
    });

    it("refuses uses of one name that differ in shape (one label selector changed, not the others)", async () => {
      const { root, at } = editable(
        "spec",
        "networkPolicy",
        "allowEgressTo",
        "[]",
        "podSelector",
        "matchLabels",
      );
      at.additionalProperties = { type: "integer" };
      expect(await refusal(root)).to.equal(
        "LabelSelector: spec.networkPolicy.allowEgressTo[].podSelector differ in shape from " +
          "spec.networkPolicy.allowIngressFrom[].namespaceSelector",
      );
    });

    it("refuses a named field the CRD no longer has", async () => {
      const { root, at } = editable("spec", "guardrails");
      delete at.properties?.["mesh"];
      expect(await refusal(root)).to.equal("MeshGuardrail: the CRD schema has no spec.guardrails.mesh");
    });
  });
});
