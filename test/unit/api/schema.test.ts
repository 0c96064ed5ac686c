import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import { checkSchema, loadCrdSchema, repoRoot, type SchemaNode } from "../../../src/api/schema.js";
import type { Problem } from "../../../src/api/problems.js";

const examplesDir = path.join(repoRoot(), "examples");
const exampleFiles = readdirSync(examplesDir).filter((f) => f.endsWith(".yaml"));

function workspace(spec: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: { name: "unit" },
    spec,
    ...extra,
  };
}

const paths = (problems: readonly Problem[]): string[] => problems.map((p) => p.path);

/** Every property schema under a node, with its path; descriptions are checked on each. */
function* fields(node: SchemaNode, at: string): Generator<[string, SchemaNode]> {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = at === "" ? name : `${at}.${name}`;
    yield [childPath, child];
    yield* fields(child, childPath);
  }
  if (node.items) yield* fields(node.items, `${at}[]`);
  if (typeof node.additionalProperties === "object") yield* fields(node.additionalProperties, `${at}{}`);
}

describe("checkSchema", () => {
  it("finds the examples directory populated", () => {
    expect(exampleFiles.length).to.be.at.least(7);
  });

  for (const file of exampleFiles) {
    it(`accepts examples/${file}`, () => {
      const obj: unknown = parse(readFileSync(path.join(examplesDir, file), "utf8"));
      expect(checkSchema(obj)).to.deep.equal([]);
    });
  }

  it("accepts a status as the operator writes it", () => {
    const status = {
      observedGeneration: 3,
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "Enforced",
          message: "2/2 namespaces hold the baseline",
          lastTransitionTime: "2025-01-02T03:04:05Z",
          observedGeneration: 3,
        },
      ],
      namespaces: [{ name: "a", ready: true, managedObjects: 6 }],
      driftCorrections: 4,
      lastDriftCorrection: {
        time: "2025-01-02T03:04:05Z",
        namespace: "a",
        object: "NetworkPolicy/sws-default-deny",
      },
      drift: [{ namespace: "a", object: "NetworkPolicy/sws-allow-dns", reason: "Missing" }],
      controls: [{ id: "NIST-800-53:SC-7", title: "Boundary protection", state: "Compliant", evidence: "x" }],
    };
    expect(checkSchema(workspace({ namespaces: [{ name: "a" }] }, { status }))).to.deep.equal([]);
  });

  it("checks the name in metadata and leaves the rest of metadata to the API server", () => {
    const meta = (metadata: unknown): string[] =>
      paths(checkSchema({ ...workspace({ namespaces: [{ name: "a" }] }), metadata }));
    expect(meta({ name: "w", labels: { a: "b" }, uid: "1", resourceVersion: "2" })).to.deep.equal([]);
    expect(meta({ name: "w".repeat(64) })).to.deep.equal(["metadata.name"]);
  });

  const bad: Array<{ name: string; spec: unknown; path: string; message: RegExp }> = [
    {
      name: "a namespace name that is not a DNS-1123 label",
      spec: { namespaces: [{ name: "ok" }, { name: "Team_A" }] },
      path: "spec.namespaces[1].name",
      message: /should match/,
    },
    { name: "no namespaces", spec: {}, path: "spec.namespaces", message: /Required value/ },
    {
      name: "an empty namespace list",
      spec: { namespaces: [] },
      path: "spec.namespaces",
      message: /at least 1/,
    },
    {
      name: "101 namespaces",
      spec: { namespaces: Array.from({ length: 101 }, (_, i) => ({ name: `n${i}` })) },
      path: "spec.namespaces",
      message: /at most 100/,
    },
    {
      name: "an unknown enforcement",
      spec: { namespaces: [{ name: "a" }], enforcement: "Strict" },
      path: "spec.enforcement",
      message: /supported values: "Enforce", "Audit"/,
    },
    {
      name: "an unknown field",
      spec: { namespaces: [{ name: "a" }], networkPolicy: { allowDns: false } },
      path: "spec.networkPolicy.allowDns",
      message: /unknown field "allowDns"/,
    },
    {
      name: "a boolean port",
      spec: {
        namespaces: [{ name: "a" }],
        networkPolicy: { allowIngressFrom: [{ podSelector: {}, ports: [{ port: true }] }] },
      },
      path: "spec.networkPolicy.allowIngressFrom[0].ports[0].port",
      message: /integer or string/,
    },
    {
      name: "an endPort above 65535",
      spec: {
        namespaces: [{ name: "a" }],
        networkPolicy: { allowEgressTo: [{ podSelector: {}, ports: [{ port: 1, endPort: 70000 }] }] },
      },
      path: "spec.networkPolicy.allowEgressTo[0].ports[0].endPort",
      message: /less than or equal to 65535/,
    },
    {
      name: "a label value longer than 63 characters",
      spec: { namespaces: [{ name: "a", labels: { team: "x".repeat(64) } }] },
      path: "spec.namespaces[0].labels[team]",
      message: /at most 63/,
    },
    {
      name: "a duplicate default-deny direction",
      spec: { namespaces: [{ name: "a" }], networkPolicy: { defaultDeny: ["Ingress", "Ingress"] } },
      path: "spec.networkPolicy.defaultDeny[1]",
      message: /duplicate/,
    },
    {
      name: "a binding without subjects",
      spec: { namespaces: [{ name: "a" }], rbac: { bindings: [{ role: "edit" }] } },
      path: "spec.rbac.bindings[0].subjects",
      message: /Required value/,
    },
    {
      name: "a binding to cluster-admin",
      spec: {
        namespaces: [{ name: "a" }],
        rbac: { bindings: [{ role: "cluster-admin", subjects: [{ kind: "User", name: "x" }] }] },
      },
      path: "spec.rbac.bindings[0].role",
      message: /supported values/,
    },
    {
      name: "a non-string quota value",
      spec: { namespaces: [{ name: "a" }], resourceQuota: { hard: { pods: 50 } } },
      path: "spec.resourceQuota.hard[pods]",
      message: /type string, got integer/,
    },
    {
      name: "an unknown NetworkPolicy guardrail",
      spec: { namespaces: [{ name: "a" }], guardrails: { networkPolicy: "Open" } },
      path: "spec.guardrails.networkPolicy",
      message: /^Unsupported value: "Open": supported values: "WithinWorkspace", "SameNamespace", "Off"$/,
    },
    {
      name: "a bare YAML 1.1 Off (false) as the mesh guardrail",
      spec: { namespaces: [{ name: "a" }], guardrails: { mesh: false } },
      path: "spec.guardrails.mesh",
      message: /type string, got boolean/,
    },
    {
      name: "an unknown guardrail",
      spec: { namespaces: [{ name: "a" }], guardrails: { ingress: "Off" } },
      path: "spec.guardrails.ingress",
      message: /unknown field "ingress"/,
    },
    {
      name: "a Pod Security version that is neither latest nor v1.N",
      spec: { namespaces: [{ name: "a" }], podSecurity: { enforceVersion: "1.30" } },
      path: "spec.podSecurity.enforceVersion",
      message: /should match/,
    },
  ];

  for (const c of bad) {
    it(`rejects ${c.name} at ${c.path}`, () => {
      const problems = checkSchema(workspace(c.spec));
      expect(paths(problems)).to.deep.equal([c.path]);
      expect(problems[0]?.message).to.match(c.message);
    });
  }

  it("rejects a status condition with a malformed time and a duplicate type", () => {
    const condition = {
      type: "Ready",
      status: "True",
      reason: "Enforced",
      message: "",
      lastTransitionTime: "now",
    };
    const problems = checkSchema(
      workspace({ namespaces: [{ name: "a" }] }, { status: { conditions: [condition, condition] } }),
    );
    expect(paths(problems)).to.have.members([
      "status.conditions[1]",
      "status.conditions[0].lastTransitionTime",
      "status.conditions[1].lastTransitionTime",
    ]);
  });

  it("treats null as an absent field, as the API server's pruning does", () => {
    expect(paths(checkSchema(workspace({ namespaces: [{ name: "a" }], rbac: null })))).to.deep.equal([]);
    expect(paths(checkSchema(workspace({ namespaces: null })))).to.deep.equal(["spec.namespaces"]);
  });

  it("checks a sub-schema from a given base path", () => {
    const spec = loadCrdSchema().properties?.["spec"];
    expect(paths(checkSchema({ namespaces: [{ name: "-a" }] }, spec, "spec"))).to.deep.equal([
      "spec.namespaces[0].name",
    ]);
  });

  it("checks a port's bounds when it is a number and its pattern when it is a name", () => {
    const portPath = "spec.networkPolicy.allowIngressFrom[0].ports[0].port";
    const problemsFor = (port: unknown): string[] =>
      paths(
        checkSchema(
          workspace({
            namespaces: [{ name: "a" }],
            networkPolicy: { allowIngressFrom: [{ podSelector: {}, ports: [{ port }] }] },
          }),
        ),
      );
    for (const port of [0, 65536, 80.5, "HTTP", "8080", "-http", "http--x", "a".repeat(16)])
      expect(problemsFor(port), String(port)).to.deep.equal([portPath]);
    for (const port of [1, 65535, "http", "9090-metrics", "h2c", "a".repeat(15)])
      expect(problemsFor(port), String(port)).to.deep.equal([]);
  });

  it("accepts a port given as a number or a name", () => {
    for (const port of [8080, "http-metrics"]) {
      const spec = {
        namespaces: [{ name: "a" }],
        networkPolicy: { allowIngressFrom: [{ podSelector: {}, ports: [{ port }] }] },
      };
      expect(checkSchema(workspace(spec))).to.deep.equal([]);
    }
  });

  it("flags a namespace name exactly when it is not a DNS-1123 label of at most 63 characters", () => {
    const label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
    const names = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[a-z0-9-]{1,70}$/),
      fc.string({ unit: fc.constantFrom("a", "z", "0", "-", "A", "."), maxLength: 66 }),
    );
    fc.assert(
      fc.property(names, (name) => {
        const valid = label.test(name) && name.length <= 63;
        const flagged = paths(checkSchema(workspace({ namespaces: [{ name }] }))).includes(
          "spec.namespaces[0].name",
        );
        return flagged === !valid;
      }),
    );
  });
});

describe("the CRD schema", () => {
  it("documents every field, so kubectl explain reads as documentation", () => {
    const root = loadCrdSchema();
    const missing = [...fields(root, "")]
      .filter(([at, node]) => at !== "metadata" && !(node.description ?? "").trim())
      .map(([at]) => at);
    expect(missing).to.deep.equal([]);
  });

  it("bounds every list, map and string that a CEL rule reads (the API server's cost budget)", () => {
    const unbounded: string[] = [];
    const visit = (node: SchemaNode, at: string, underRule: boolean): void => {
      const ruled = underRule || (node["x-kubernetes-validations"]?.length ?? 0) > 0;
      if (ruled && node.type === "array" && node.maxItems === undefined) unbounded.push(at);
      if (ruled && node.type === "string" && node.maxLength === undefined && !node.enum) unbounded.push(at);
      if (ruled && typeof node.additionalProperties === "object" && node.maxProperties === undefined)
        unbounded.push(at);
      for (const [name, child] of Object.entries(node.properties ?? {})) visit(child, `${at}.${name}`, ruled);
      if (node.items) visit(node.items, `${at}[]`, ruled);
      if (typeof node.additionalProperties === "object") visit(node.additionalProperties, `${at}{}`, ruled);
    };
    const spec = loadCrdSchema().properties?.["spec"];
    if (!spec) throw new Error("no spec schema");
    visit(spec, "spec", false);
    expect(unbounded).to.deep.equal([]);
  });
});
