/** Semantic validation (src/api/validation.ts): every problem names the field it is about. */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import { parse } from "yaml";
import { API_VERSION, KIND } from "../../../src/api/constants.js";
import type { Problem } from "../../../src/api/problems.js";
import { checkSchema, loadCrdSchema, repoRoot } from "../../../src/api/schema.js";
import { BROAD_GROUPS, isBroadGroup } from "../../../src/api/constants.js";
import type { SecureWorkspace, SecureWorkspaceSpec, Subject } from "../../../src/api/types.js";
import {
  broadGroupProblem,
  cidrProblem,
  GUARDRAIL_VALUES,
  isDns1123Label,
  isLabelKey,
  isLabelValue,
  validateSpec,
} from "../../../src/api/validation.js";
import { parseExactQuantity } from "../../../src/api/quantity.js";
import { validSpec } from "../../support/arbitraries.js";

const isCidr = (value: string): boolean => cidrProblem(value) === undefined;
const isQuantity = (value: string): boolean => parseExactQuantity(value) !== undefined;

/** A spec with one ordinary namespace plus whatever the test adds. */
const withNamespace = (extra: Omit<SecureWorkspaceSpec, "namespaces">): SecureWorkspaceSpec => ({
  namespaces: [{ name: "team-a" }],
  ...extra,
});

describe("validateSpec", () => {
  it("finds nothing wrong with a minimal spec", () => {
    expect(validateSpec({ namespaces: [{ name: "team-a" }] })).to.deep.equal([]);
  });

  it("finds nothing wrong with any example in examples/", () => {
    const dir = path.join(repoRoot(), "examples");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    expect(files).to.not.be.empty;
    for (const file of files) {
      const ws = parse(readFileSync(path.join(dir, file), "utf8")) as SecureWorkspace;
      expect(validateSpec(ws.spec), file).to.deep.equal([]);
    }
  });

  it("finds nothing wrong with any spec the CRD would admit", () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        expect(validateSpec(spec)).to.deep.equal([]);
      }),
      { numRuns: 300 },
    );
  });

  describe("namespaces", () => {
    it("requires at least one namespace", () => {
      expect(validateSpec({ namespaces: [] })).to.deep.equal([
        { path: "spec.namespaces", message: "must list at least one namespace" },
      ]);
    });

    it("allows 100 namespaces and refuses 101", () => {
      const many = (n: number): SecureWorkspaceSpec => ({
        namespaces: Array.from({ length: n }, (_, i) => ({ name: `ns-${i}` })),
      });
      expect(validateSpec(many(100))).to.deep.equal([]);
      expect(validateSpec(many(101))).to.deep.equal([
        { path: "spec.namespaces", message: "must list at most 100" },
      ]);
    });

    it("reports a duplicate at the list (as the CRD's rule does), naming its second occurrence", () => {
      expect(
        validateSpec({ namespaces: [{ name: "team-a" }, { name: "team-b" }, { name: "team-a" }] }),
      ).to.deep.equal([{ path: "spec.namespaces", message: 'duplicate namespace "team-a" at [2]' }]);
    });

    it("refuses names that are not DNS-1123 labels", () => {
      const names = ["Team-A", "team_a", "-team", "team-", "a".repeat(64), ""];
      for (const name of names) {
        expect(validateSpec({ namespaces: [{ name: "ok" }, { name }] }), name).to.deep.equal([
          { path: "spec.namespaces[1].name", message: "must be a DNS-1123 label (lower case, digits, '-')" },
        ]);
      }
      expect(validateSpec({ namespaces: [{ name: "a".repeat(63) }] })).to.deep.equal([]);
    });

    it("refuses every system namespace", () => {
      for (const name of ["kube-system", "kube-public", "kube-node-lease", "default"]) {
        expect(validateSpec({ namespaces: [{ name }] }), name).to.deep.equal([
          { path: "spec.namespaces[0].name", message: `"${name}" is a system namespace` },
        ]);
      }
    });

    it("refuses the protected label keys the operator sets, and accepts others", () => {
      const keys = [
        "pod-security.kubernetes.io/enforce",
        "pod-security.kubernetes.io/warn-version",
        "secureworkspace.io/workspace",
        "secureworkspace.io/anything",
        "app.kubernetes.io/managed-by",
        "istio-injection",
        "kubernetes.io/metadata.name",
      ];
      for (const key of keys) {
        expect(validateSpec({ namespaces: [{ name: "team-a", labels: { [key]: "x" } }] }), key).to.deep.equal(
          [
            {
              path: "spec.namespaces[0].labels",
              message: `label key ${key} is a protected key set by the operator`,
            },
          ],
        );
      }
      expect(
        validateSpec({
          namespaces: [
            { name: "team-a", labels: { "cost-center": "42", "app.kubernetes.io/part-of": "shop" } },
          ],
        }),
      ).to.deep.equal([]);
    });

    it("refuses the protected annotation keys (Linkerd's and the operator's)", () => {
      const keys = [
        "linkerd.io/inject",
        "config.linkerd.io/default-inbound-policy",
        "secureworkspace.io/created-by",
      ];
      for (const key of keys) {
        expect(
          validateSpec({ namespaces: [{ name: "team-a", annotations: { [key]: "x" } }] }),
          key,
        ).to.deep.equal([
          {
            path: "spec.namespaces[0].annotations",
            message: `annotation key ${key} is a protected key set by the operator`,
          },
        ]);
      }
      expect(
        validateSpec({ namespaces: [{ name: "team-a", annotations: { "example.com/owner": "me" } }] }),
      ).to.deep.equal([]);
    });

    it("refuses malformed label keys (at the map, as the CRD's rule) and values (at the entry)", () => {
      expect(
        validateSpec({ namespaces: [{ name: "team-a", labels: { "bad key": "ok", good: "bad value!" } }] }),
      ).to.deep.equal([
        { path: "spec.namespaces[0].labels", message: 'invalid label key "bad key"' },
        { path: "spec.namespaces[0].labels[good]", message: 'invalid label value "bad value!"' },
      ]);
    });
  });

  describe("network allowances", () => {
    it("refuses a CIDR with a prefix out of range and names the field", () => {
      expect(
        validateSpec(
          withNamespace({ networkPolicy: { allowEgressTo: [{ ipBlock: { cidr: "10.0.0.0/33" } }] } }),
        ),
      ).to.deep.equal([
        {
          path: "spec.networkPolicy.allowEgressTo[0].ipBlock.cidr",
          message: '"10.0.0.0/33" is not a valid CIDR',
        },
      ]);
    });

    it("refuses a bad CIDR among the exceptions at the list (as the CRD's rule), naming its index", () => {
      expect(
        validateSpec(
          withNamespace({
            networkPolicy: {
              allowIngressFrom: [
                { podSelector: { matchLabels: { app: "a" } } },
                { ipBlock: { cidr: "10.0.0.0/8", except: ["10.1.0.0/16", "10.2.0.0"] } },
              ],
            },
          }),
        ),
      ).to.deep.equal([
        {
          path: "spec.networkPolicy.allowIngressFrom[1].ipBlock.except",
          message: '[1]: "10.2.0.0" is not a valid CIDR',
        },
      ]);
    });

    it("refuses an allowance that names no peer", () => {
      expect(
        validateSpec(withNamespace({ networkPolicy: { allowIngressFrom: [{ ports: [{ port: 80 }] }] } })),
      ).to.deep.equal([
        {
          path: "spec.networkPolicy.allowIngressFrom[0]",
          message: "needs at least one of namespaceSelector, podSelector, ipBlock",
        },
      ]);
    });

    it("refuses an ipBlock combined with a selector, as NetworkPolicy does", () => {
      expect(
        validateSpec(
          withNamespace({
            networkPolicy: {
              allowEgressTo: [
                { ipBlock: { cidr: "10.0.0.0/8" }, namespaceSelector: { matchLabels: { a: "b" } } },
              ],
            },
          }),
        ),
      ).to.deep.equal([
        {
          path: "spec.networkPolicy.allowEgressTo[0].ipBlock",
          message: "cannot be combined with a selector",
        },
      ]);
    });

    it("refuses ports outside 1..65535 and bad port ranges", () => {
      expect(
        validateSpec(
          withNamespace({
            networkPolicy: {
              allowEgressTo: [
                {
                  ipBlock: { cidr: "10.0.0.0/8" },
                  ports: [
                    { port: 0 },
                    { port: 65536 },
                    { port: 1 },
                    { port: 65535 },
                    { port: 8000, endPort: 7999 },
                    { port: 8000, endPort: 65536 },
                    { port: "http", endPort: 90 },
                    { port: 8000, endPort: 8000 },
                  ],
                },
              ],
            },
          }),
        ),
      ).to.deep.equal([
        { path: "spec.networkPolicy.allowEgressTo[0].ports[0].port", message: "must be between 1 and 65535" },
        { path: "spec.networkPolicy.allowEgressTo[0].ports[1].port", message: "must be between 1 and 65535" },
        {
          path: "spec.networkPolicy.allowEgressTo[0].ports[4].endPort",
          message: "must be >= port and <= 65535",
        },
        {
          path: "spec.networkPolicy.allowEgressTo[0].ports[5].endPort",
          message: "must be >= port and <= 65535",
        },
        { path: "spec.networkPolicy.allowEgressTo[0].ports[6].endPort", message: "requires a numeric port" },
      ]);
    });

    it("refuses a selector requirement whose key is no label key (a NetworkPolicy would)", () => {
      const expression = (key: string): SecureWorkspaceSpec =>
        withNamespace({
          networkPolicy: {
            allowIngressFrom: [{ podSelector: { matchExpressions: [{ key, operator: "Exists" }] } }],
          },
        });
      expect(validateSpec(expression("a b"))).to.deep.equal([
        {
          path: "spec.networkPolicy.allowIngressFrom[0].podSelector.matchExpressions[0].key",
          message: 'invalid label key "a b"',
        },
      ]);
      expect(validateSpec(expression("example.com/tier"))).to.deep.equal([]);
    });

    it("refuses malformed selector label keys and values", () => {
      expect(
        validateSpec(
          withNamespace({
            networkPolicy: {
              allowIngressFrom: [
                {
                  namespaceSelector: { matchLabels: { "a/b/c": "x" } },
                  podSelector: { matchLabels: { app: "-x" } },
                },
              ],
            },
          }),
        ),
      ).to.deep.equal([
        {
          path: "spec.networkPolicy.allowIngressFrom[0].namespaceSelector.matchLabels",
          message: 'invalid label key "a/b/c"',
        },
        {
          path: "spec.networkPolicy.allowIngressFrom[0].podSelector.matchLabels[app]",
          message: 'invalid label value "-x"',
        },
      ]);
    });
  });

  describe("rbac", () => {
    it("refuses a ServiceAccount subject whose name is no DNS-1123 subdomain; Users and Groups may use any name", () => {
      const subjects: Subject[] = [
        { kind: "ServiceAccount", name: "Deployer", namespace: "ci" },
        { kind: "ServiceAccount", name: "deploy.bot", namespace: "ci" },
        { kind: "User", name: "Jane Doe" },
        { kind: "Group", name: "Team A" },
      ];
      expect(validateSpec(withNamespace({ rbac: { bindings: [{ role: "view", subjects }] } }))).to.deep.equal(
        [
          {
            path: "spec.rbac.bindings[0].subjects[0].name",
            message: '"Deployer" is no ServiceAccount name (a DNS-1123 subdomain)',
          },
        ],
      );
    });

    it("refuses a role other than admin, edit or view", () => {
      const spec = withNamespace({
        rbac: { bindings: [{ role: "cluster-admin", subjects: [{ kind: "Group", name: "g" }] }] },
      } as unknown as Omit<SecureWorkspaceSpec, "namespaces">);
      expect(validateSpec(spec)).to.deep.equal([
        { path: "spec.rbac.bindings[0].role", message: "must be one of admin, edit, view" },
      ]);
    });

    it("needs at least one subject per binding", () => {
      expect(
        validateSpec(withNamespace({ rbac: { bindings: [{ role: "view", subjects: [] }] } })),
      ).to.deep.equal([{ path: "spec.rbac.bindings[0].subjects", message: "needs at least one subject" }]);
    });

    it("requires a ServiceAccount's namespace, forbids one on a User or Group, and requires every name", () => {
      expect(
        validateSpec(
          withNamespace({
            rbac: {
              bindings: [
                { role: "view", subjects: [{ kind: "Group", name: "ok" }] },
                {
                  role: "edit",
                  subjects: [
                    { kind: "ServiceAccount", name: "deployer" },
                    { kind: "User", name: "jane", namespace: "ci" },
                    { kind: "Group", name: "" },
                    { kind: "ServiceAccount", name: "ok", namespace: "ci" },
                  ],
                },
              ],
            },
          }),
        ),
      ).to.deep.equal([
        { path: "spec.rbac.bindings[1].subjects[0].namespace", message: "is required for a ServiceAccount" },
        { path: "spec.rbac.bindings[1].subjects[1].namespace", message: "must be empty for a User" },
        { path: "spec.rbac.bindings[1].subjects[2].name", message: "is required" },
      ]);
    });

    /** The problems of one binding of `subjects` to edit. */
    const subjectProblems = (...subjects: Subject[]): ReturnType<typeof validateSpec> =>
      validateSpec(withNamespace({ rbac: { bindings: [{ role: "edit", subjects }] } }));

    it("refuses every broad system group as a Group subject, naming the field and why", () => {
      const cases: Array<[string, string]> = [
        ["system:authenticated", "every authenticated user"],
        ["system:unauthenticated", "every anonymous request"],
        ["system:serviceaccounts", "every ServiceAccount in the cluster"],
        ["system:serviceaccounts:ci", "every ServiceAccount in namespace ci"],
        ["system:masters", "the cluster superusers"],
      ];
      for (const [name, who] of cases)
        expect(
          subjectProblems({ kind: "Group", name: "team-a" }, { kind: "Group", name }),
          name,
        ).to.deep.equal([
          {
            path: "spec.rbac.bindings[0].subjects[1].name",
            message: `Group ${name} binds ${who}: bind named users, groups or ServiceAccounts instead`,
          },
        ]);
    });

    it("accepts named groups next to the broad ones: team-a, system:serviceaccounts-foo, other case", () => {
      // Only an exact name, or a colon after system:serviceaccounts (a namespace's group), is broad:
      // the authorizer compares group names exactly, so these are ordinary groups.
      for (const name of [
        "team-a",
        "system:serviceaccounts-foo",
        "system:serviceaccountsx",
        "System:Authenticated",
        "system:authenticated:x",
        "system:masters-readonly",
        "oidc:system:masters",
      ])
        expect(subjectProblems({ kind: "Group", name }), name).to.deep.equal([]);
    });

    it("refuses only Group subjects: a User or ServiceAccount of the same name is not the group", () => {
      expect(subjectProblems({ kind: "User", name: "system:authenticated" })).to.deep.equal([]);
      // A ServiceAccount cannot have that name at all (a colon), which is what is said of it.
      expect(
        subjectProblems({ kind: "ServiceAccount", name: "system:masters", namespace: "ci" }),
      ).to.deep.equal([
        {
          path: "spec.rbac.bindings[0].subjects[0].name",
          message: '"system:masters" is no ServiceAccount name (a DNS-1123 subdomain)',
        },
      ]);
    });

    it("refuses a Group exactly when isBroadGroup says so (any name, any prefix)", () => {
      const name = fc.oneof(
        fc.string({ maxLength: 30 }).filter((n) => n.length > 0),
        fc.constantFrom(...BROAD_GROUPS),
        fc.string({ maxLength: 20 }).map((n) => `system:serviceaccounts:${n}`),
        fc.string({ maxLength: 20 }).map((n) => `system:${n}`),
      );
      fc.assert(
        fc.property(name, (n) => {
          const problems = subjectProblems({ kind: "Group", name: n });
          expect(problems.length, n).to.equal(isBroadGroup(n) ? 1 : 0);
          expect(broadGroupProblem(n) !== undefined).to.equal(isBroadGroup(n));
        }),
        { numRuns: 500 },
      );
    });
  });

  describe("quantities", () => {
    it("refuses a quota or limit that is not a quantity, naming the resource", () => {
      expect(
        validateSpec(
          withNamespace({
            resourceQuota: { hard: { "requests.cpu": "4", "requests.memory": "lots" } },
            limitRange: { default: { cpu: "500m" }, max: { memory: "2 Gi" }, min: { cpu: "1K" } },
          }),
        ),
      ).to.deep.equal([
        { path: "spec.resourceQuota.hard[requests.memory]", message: '"lots" is not a valid quantity' },
        { path: "spec.limitRange.max[memory]", message: '"2 Gi" is not a valid quantity' },
        { path: "spec.limitRange.min[cpu]", message: '"1K" is not a valid quantity' },
      ]);
    });
  });

  describe("service mesh", () => {
    it("refuses WorkspaceOnly authorization without a mesh", () => {
      expect(
        validateSpec(
          withNamespace({ serviceMesh: { provider: "none", authorization: { mode: "WorkspaceOnly" } } }),
        ),
      ).to.deep.equal([
        { path: "spec.serviceMesh.authorization.mode", message: "WorkspaceOnly needs a mesh provider" },
      ]);
      expect(
        validateSpec(withNamespace({ serviceMesh: { authorization: { mode: "WorkspaceOnly" } } })),
      ).to.have.length(1);
      expect(
        validateSpec(
          withNamespace({ serviceMesh: { provider: "istio", authorization: { mode: "WorkspaceOnly" } } }),
        ),
      ).to.deep.equal([]);
    });

    it("refuses a control-plane namespace or extra source namespace that is not a DNS-1123 label", () => {
      expect(
        validateSpec(
          withNamespace({
            serviceMesh: {
              provider: "istio",
              controlPlaneNamespace: "Istio_System",
              authorization: { allowFromNamespaces: ["istio-ingress", "Bad.Name"] },
            },
          }),
        ),
      ).to.deep.equal([
        { path: "spec.serviceMesh.controlPlaneNamespace", message: "must be a DNS-1123 label" },
        {
          path: "spec.serviceMesh.authorization.allowFromNamespaces[1]",
          message: "must be a DNS-1123 label",
        },
      ]);
    });
  });

  describe("guardrails", () => {
    const check = (guardrails: unknown): Problem[] =>
      validateSpec(withNamespace({ guardrails } as Omit<SecureWorkspaceSpec, "namespaces">));

    it("accepts every value of every guardrail, alone or together, and none at all", () => {
      for (const networkPolicy of GUARDRAIL_VALUES.networkPolicy)
        for (const rbac of GUARDRAIL_VALUES.rbac)
          for (const mesh of GUARDRAIL_VALUES.mesh) {
            expect(check({ networkPolicy, rbac, mesh })).to.deep.equal([]);
            expect(check({ networkPolicy })).to.deep.equal([]);
            expect(check({ rbac, mesh })).to.deep.equal([]);
          }
      expect(check({})).to.deep.equal([]);
      expect(check(undefined)).to.deep.equal([]);
    });

    it("treats null as absent, as the API server's pruning does (strict by default)", () => {
      expect(check(null)).to.deep.equal([]);
      expect(check({ networkPolicy: null, rbac: null, mesh: null })).to.deep.equal([]);
    });

    it("refuses an unknown value with the field path and the API server's words", () => {
      expect(check({ networkPolicy: "Open" })).to.deep.equal([
        {
          path: "spec.guardrails.networkPolicy",
          message: 'Unsupported value: "Open": supported values: "WithinWorkspace", "SameNamespace", "Off"',
        },
      ]);
      expect(check({ rbac: "Relaxed", mesh: "strict" })).to.deep.equal([
        {
          path: "spec.guardrails.rbac",
          message: 'Unsupported value: "Relaxed": supported values: "Strict", "Off"',
        },
        {
          path: "spec.guardrails.mesh",
          message: 'Unsupported value: "strict": supported values: "Strict", "Off"',
        },
      ]);
    });

    it("says the same as the offline schema check of the CRD", () => {
      const ws = { apiVersion: API_VERSION, kind: KIND, metadata: { name: "w" } };
      for (const guardrails of [{ networkPolicy: "Open" }, { rbac: "Relaxed" }, { mesh: "DISABLE" }]) {
        const schema = checkSchema({ ...ws, spec: { namespaces: [{ name: "team-a" }], guardrails } });
        expect(schema).to.have.length(1);
        expect(check(guardrails)).to.deep.equal(schema.map(({ path, message }) => ({ path, message })));
      }
    });

    it("refuses a bare YAML 1.1 Off (the boolean false) and says to quote it", () => {
      const [problem] = check({ mesh: false });
      expect(problem?.path).to.equal("spec.guardrails.mesh");
      expect(problem?.message).to.contain('Unsupported value: false: supported values: "Strict", "Off"');
      expect(problem?.message).to.contain('write "Off" in quotes');
    });

    it("refuses guardrails that are not an object", () => {
      expect(check("Off")).to.deep.equal([{ path: "spec.guardrails", message: "must be an object" }]);
      expect(check(["Off"])).to.deep.equal([{ path: "spec.guardrails", message: "must be an object" }]);
    });

    it("lists exactly the CRD's enum values, its default first", () => {
      const guardrails = loadCrdSchema().properties?.["spec"]?.properties?.["guardrails"];
      expect(guardrails?.default).to.deep.equal({});
      for (const field of ["networkPolicy", "rbac", "mesh"] as const) {
        const node = guardrails?.properties?.[field];
        expect(node?.enum, field).to.deep.equal(GUARDRAIL_VALUES[field]);
        expect(node?.default, field).to.equal(GUARDRAIL_VALUES[field][0]);
      }
    });
  });

  it("reports every problem of a spec at once, in spec order", () => {
    const problems = validateSpec({
      namespaces: [{ name: "team-a" }, { name: "team-a" }, { name: "kube-system" }],
      networkPolicy: { allowEgressTo: [{ ipBlock: { cidr: "nope" } }] },
      resourceQuota: { hard: { pods: "many" } },
      guardrails: { rbac: "Lax" } as unknown as SecureWorkspaceSpec["guardrails"],
    });
    expect(problems.map((p) => p.path)).to.deep.equal([
      "spec.namespaces",
      "spec.namespaces[2].name",
      "spec.networkPolicy.allowEgressTo[0].ipBlock.cidr",
      "spec.resourceQuota.hard[pods]",
      "spec.guardrails.rbac",
    ]);
  });
});

describe("isCidr", () => {
  it("accepts IPv4 and IPv6 CIDRs with a prefix length in range", () => {
    for (const c of ["10.0.0.0/8", "0.0.0.0/0", "192.168.1.1/32", "::/0", "fd00::/8", "2001:db8::/128"])
      expect(isCidr(c), c).to.be.true;
  });

  it("refuses an address without a prefix, a prefix out of range, and malformed addresses", () => {
    const bad = [
      "10.0.0.0",
      "10.0.0.0/",
      "/8",
      "10.0.0.0/33",
      "fd00::/129",
      "10.0.0.0/-1",
      "10.0.0.0/ 8",
      "10.0.0.0/1234",
      "10.0.0/8",
      "256.0.0.0/8",
      "example.com/8",
      "",
    ];
    for (const c of bad) expect(isCidr(c), c).to.be.false;
  });
});
describe("cidrProblem", () => {
  it("refuses what the API server refuses in an ipBlock, naming why", () => {
    expect(cidrProblem("31.98.0.0/8")).to.contain("bits set beyond its prefix length 8");
    expect(cidrProblem("2001:db8::1/32")).to.contain("bits set beyond");
    expect(cidrProblem("::ffff:10.0.0.0/104")).to.contain("IPv4-mapped");
    expect(cidrProblem("10.0.0.0/08")).to.contain("not a valid CIDR");
    expect(cidrProblem("010.0.0.0/8")).to.contain("not a valid CIDR");
  });

  it("accepts canonical ranges, upper-case IPv6 and a dotted IPv6 tail", () => {
    for (const c of ["31.0.0.0/8", "2001:DB8::/32", "::1.2.3.4/128", "10.0.0.1/32", "::/0"])
      expect(cidrProblem(c), c).to.equal(undefined);
  });
});

describe("quota quantities", () => {
  const problems = (hard: Record<string, string>): string[] =>
    validateSpec({ namespaces: [{ name: "team-a" }], resourceQuota: { hard } }).map(
      (p) => `${p.path}: ${p.message}`,
    );

  it("requires whole numbers for object counts and extended resources, at the map (as the CRD's rule)", () => {
    expect(problems({ pods: "2454m" })).to.deep.equal([
      'spec.resourceQuota.hard: pods: "2454m" must be a whole number (written without a fraction or milli-units)',
    ]);
    expect(problems({ "count/configmaps": "1.5" })).to.have.length(1);
    expect(problems({ "example.com/gpu": "500m" })).to.have.length(1);
    expect(problems({ pods: "1k", "requests.cpu": "1.5", "requests.example.com/gpu": "500m" })).to.deep.equal(
      [],
    );
  });

  it("refuses negative values", () => {
    expect(problems({ "limits.memory": "-1Gi" })).to.deep.equal([
      'spec.resourceQuota.hard[limits.memory]: "-1Gi" must not be negative',
    ]);
  });
});

describe("isQuantity", () => {
  it("accepts plain, decimal-suffixed, binary-suffixed and exponent forms", () => {
    for (const q of ["1", "0", "0.5", ".5", "500m", "2Gi", "1e3", "1E3", "16Mi", "100k", "+1", "1e-3"])
      expect(isQuantity(q), q).to.be.true;
  });

  it("accepts what the API server's parser reads as zero: a bare suffix, a dot, a sign", () => {
    for (const q of ["Gi", "e3", "m", ".", "+", "-"]) expect(isQuantity(q), q).to.be.true;
  });

  it("refuses units Kubernetes does not know and stray characters", () => {
    for (const q of ["", "1K", "1ki", "1 Gi", " 1", "1.2.3", "e", "1e", "lots", "0x10", ".Ei"])
      expect(isQuantity(q), q).to.be.false;
  });
});

describe("isLabelKey, isLabelValue, isDns1123Label", () => {
  it("accepts a name with an optional DNS subdomain prefix", () => {
    for (const k of [
      "app",
      "App",
      "a_b",
      "a.b-c_d",
      "example.com/app",
      "app.kubernetes.io/name",
      "a".repeat(63),
    ])
      expect(isLabelKey(k), k).to.be.true;
  });

  it("refuses empty parts, two slashes, an upper-case prefix, over-long names and prefixes", () => {
    const bad = [
      "",
      "/app",
      "example.com/",
      "a/b/c",
      "Example.com/app",
      "x..y/app",
      "_app",
      "app-",
      "a".repeat(64),
      `${"a".repeat(254)}/app`,
    ];
    for (const k of bad) expect(isLabelKey(k), k).to.be.false;
  });

  it("accepts empty and 63-character values, refuses 64 characters and edge punctuation", () => {
    expect(isLabelValue("")).to.be.true;
    expect(isLabelValue("a".repeat(63))).to.be.true;
    expect(isLabelValue("a".repeat(64))).to.be.false;
    expect(isLabelValue(".a")).to.be.false;
    expect(isLabelValue("a b")).to.be.false;
  });

  it("accepts DNS-1123 labels up to 63 characters only", () => {
    expect(isDns1123Label("team-a-1")).to.be.true;
    expect(isDns1123Label("1team")).to.be.true;
    expect(isDns1123Label("a".repeat(64))).to.be.false;
    expect(isDns1123Label("team.a")).to.be.false;
  });
});
