/**
 * The CRD against the real API server: the server accepts it (structural schema, CEL cost budget),
 * refuses each spec of a corpus of bad ones with 422 and a message naming the field, accepts every
 * example, and applies the contract's defaults at admission.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { ApiException, CustomObjectsApi, type KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import { parse } from "yaml";
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from "../../src/api/constants.js";
import { applyDefaults } from "../../src/api/defaults.js";
import { repoRoot } from "../../src/api/schema.js";
import type { SecureWorkspaceSpec } from "../../src/api/types.js";
import { broadGroupProblem, GUARDRAIL_VALUES, validateSpec } from "../../src/api/validation.js";
import { adminKubeConfig } from "../harness/test-env.js";
import { installCrd } from "./support/crd.js";

type Json = Record<string, unknown>;
/** A SecureWorkspace as plain JSON, loose enough to be broken on purpose. */
interface Workspace {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: Json;
}

/** A valid spec that exercises every section; each corpus entry breaks one thing in a copy. */
function validWorkspace(name: string): Workspace {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    metadata: { name },
    spec: {
      namespaces: [
        { name: "crdv-a", labels: { "cost-center": "42" }, annotations: { "example.com/owner": "team-a" } },
        { name: "crdv-b" },
      ],
      enforcement: "Enforce",
      deletionPolicy: "Retain",
      podSecurity: {
        enforce: "restricted",
        enforceVersion: "latest",
        audit: "restricted",
        warnVersion: "v1.30",
      },
      networkPolicy: {
        defaultDeny: ["Ingress", "Egress"],
        allowSameNamespace: true,
        allowDNS: true,
        allowIngressFrom: [
          {
            namespaceSelector: {
              matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" },
              matchExpressions: [{ key: "tier", operator: "In", values: ["edge"] }],
            },
            ports: [{ protocol: "TCP", port: 8080 }],
          },
        ],
        allowEgressTo: [
          {
            ipBlock: { cidr: "10.20.0.0/16", except: ["10.20.1.0/24"] },
            ports: [{ protocol: "TCP", port: 5432 }],
          },
        ],
      },
      rbac: {
        bindings: [
          {
            role: "edit",
            subjects: [
              { kind: "Group", name: "team-a" },
              { kind: "ServiceAccount", name: "deployer", namespace: "ci" },
            ],
          },
        ],
      },
      resourceQuota: { hard: { "requests.cpu": "4", "limits.memory": "16Gi", pods: "50" } },
      limitRange: {
        default: { cpu: "500m", memory: "512Mi" },
        defaultRequest: { cpu: "100m", memory: "128Mi" },
        max: { cpu: "2", memory: "2Gi" },
        min: { cpu: "10m" },
      },
      serviceMesh: {
        provider: "istio",
        mtls: "STRICT",
        injection: true,
        controlPlaneNamespace: "istio-system",
        authorization: { mode: "WorkspaceOnly", allowFromNamespaces: ["istio-ingress"] },
      },
      guardrails: { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" },
    },
  };
}

// Typed accessors into the valid workspace, so mutations read as the YAML they change.
const spec = (w: Workspace): Json => w.spec;
const at = (value: unknown, ...keys: Array<string | number>): Json => {
  let current = value;
  for (const key of keys) current = (current as Record<string | number, unknown>)[key];
  return current as Json;
};
const namespaces = (w: Workspace): Json[] => at(w.spec, "namespaces") as unknown as Json[];
const ingress0 = (w: Workspace): Json => at(w.spec, "networkPolicy", "allowIngressFrom", 0);
const egress0 = (w: Workspace): Json => at(w.spec, "networkPolicy", "allowEgressTo", 0);
const port0 = (w: Workspace): Json => at(ingress0(w), "ports", 0);
const subject = (w: Workspace, i: number): Json => at(w.spec, "rbac", "bindings", 0, "subjects", i);

interface BadCase {
  readonly name: string;
  readonly mutate: (w: Workspace) => void;
  /** The field path the server's message must name. */
  readonly field: string;
}

const corpus: BadCase[] = [
  // namespaces
  {
    name: "namespace name with upper case",
    mutate: (w) => (namespaces(w)[0]["name"] = "Team-A"),
    field: "spec.namespaces[0].name",
  },
  {
    name: "namespace name of 64 characters",
    mutate: (w) => (namespaces(w)[1]["name"] = "a".repeat(64)),
    field: "spec.namespaces[1].name",
  },
  { name: "no namespaces field", mutate: (w) => delete spec(w)["namespaces"], field: "spec.namespaces" },
  { name: "empty namespaces list", mutate: (w) => (spec(w)["namespaces"] = []), field: "spec.namespaces" },
  {
    name: "101 namespaces",
    mutate: (w) => (spec(w)["namespaces"] = Array.from({ length: 101 }, (_, i) => ({ name: `crdv-${i}` }))),
    field: "spec.namespaces",
  },
  {
    name: "duplicate namespace names",
    mutate: (w) => (namespaces(w)[1]["name"] = "crdv-a"),
    field: "spec.namespaces",
  },
  {
    name: "kube-system as a namespace",
    mutate: (w) => (namespaces(w)[1]["name"] = "kube-system"),
    field: "spec.namespaces[1].name",
  },
  {
    name: "default as a namespace",
    mutate: (w) => (namespaces(w)[0]["name"] = "default"),
    field: "spec.namespaces[0].name",
  },
  {
    name: "a Pod Security label",
    mutate: (w) => (namespaces(w)[0]["labels"] = { "pod-security.kubernetes.io/enforce": "privileged" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "the managed-by label",
    mutate: (w) => (namespaces(w)[0]["labels"] = { "app.kubernetes.io/managed-by": "me" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "the istio-injection label",
    mutate: (w) => (namespaces(w)[1]["labels"] = { "istio-injection": "disabled" }),
    field: "spec.namespaces[1].labels",
  },
  {
    name: "a secureworkspace.io/ label",
    mutate: (w) => (namespaces(w)[0]["labels"] = { "secureworkspace.io/workspace": "other" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "the kubernetes.io/metadata.name label",
    mutate: (w) => (namespaces(w)[0]["labels"] = { "kubernetes.io/metadata.name": "x" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "a label value of 64 characters",
    mutate: (w) => (namespaces(w)[0]["labels"] = { team: "x".repeat(64) }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "a label key of 318 characters",
    mutate: (w) => (namespaces(w)[0]["labels"] = { [`${"a".repeat(254)}/${"b".repeat(63)}`]: "x" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "a label key with a space",
    mutate: (w) => (namespaces(w)[0]["labels"] = { "cost center": "42" }),
    field: "spec.namespaces[0].labels",
  },
  {
    name: "an annotation key with two slashes",
    mutate: (w) => (namespaces(w)[0]["annotations"] = { "example.com/a/b": "x" }),
    field: "spec.namespaces[0].annotations",
  },
  {
    name: "a linkerd.io/ annotation",
    mutate: (w) => (namespaces(w)[0]["annotations"] = { "linkerd.io/inject": "disabled" }),
    field: "spec.namespaces[0].annotations",
  },
  {
    name: "a config.linkerd.io/ annotation",
    mutate: (w) =>
      (namespaces(w)[1]["annotations"] = {
        "config.linkerd.io/default-inbound-policy": "all-unauthenticated",
      }),
    field: "spec.namespaces[1].annotations",
  },
  // modes
  {
    name: "unknown enforcement",
    mutate: (w) => (spec(w)["enforcement"] = "Strict"),
    field: "spec.enforcement",
  },
  {
    name: "unknown deletionPolicy",
    mutate: (w) => (spec(w)["deletionPolicy"] = "Orphan"),
    field: "spec.deletionPolicy",
  },
  // podSecurity
  {
    name: "unknown Pod Security level",
    mutate: (w) => (at(w.spec, "podSecurity")["enforce"] = "strict"),
    field: "spec.podSecurity.enforce",
  },
  {
    name: "enforceVersion without v",
    mutate: (w) => (at(w.spec, "podSecurity")["enforceVersion"] = "1.30"),
    field: "spec.podSecurity.enforceVersion",
  },
  {
    name: "warnVersion v2",
    mutate: (w) => (at(w.spec, "podSecurity")["warnVersion"] = "v2.1"),
    field: "spec.podSecurity.warnVersion",
  },
  // networkPolicy
  {
    name: "unknown default-deny direction",
    mutate: (w) => (at(w.spec, "networkPolicy")["defaultDeny"] = ["Both"]),
    field: "spec.networkPolicy.defaultDeny[0]",
  },
  {
    name: "allowSameNamespace as a string",
    mutate: (w) => (at(w.spec, "networkPolicy")["allowSameNamespace"] = "yes"),
    field: "spec.networkPolicy.allowSameNamespace",
  },
  {
    name: "an ingress allowance with no peer",
    mutate: (w) => (at(w.spec, "networkPolicy")["allowIngressFrom"] = [{ ports: [{ port: 80 }] }]),
    field: "spec.networkPolicy.allowIngressFrom[0]",
  },
  {
    name: "an egress allowance with no peer",
    mutate: (w) => (at(w.spec, "networkPolicy")["allowEgressTo"] = [{}]),
    field: "spec.networkPolicy.allowEgressTo[0]",
  },
  {
    name: "an invalid CIDR",
    mutate: (w) => (at(egress0(w), "ipBlock")["cidr"] = "10.20.0.0/33"),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.cidr",
  },
  {
    name: "a CIDR with bits set beyond its prefix (the server refuses it in a NetworkPolicy)",
    mutate: (w) => (at(egress0(w), "ipBlock")["cidr"] = "10.21.0.0/8"),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.cidr",
  },
  {
    name: "an except CIDR with bits set beyond its prefix",
    mutate: (w) => (at(egress0(w), "ipBlock")["except"] = ["10.20.1.1/24"]),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.except",
  },
  {
    name: "an IPv4-mapped IPv6 CIDR",
    mutate: (w) => (at(egress0(w), "ipBlock")["cidr"] = "::ffff:10.20.0.0/112"),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.cidr",
  },
  {
    name: "an invalid except CIDR",
    mutate: (w) => (at(egress0(w), "ipBlock")["except"] = ["10.20.1.0"]),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.except",
  },
  {
    name: "an except outside the CIDR",
    mutate: (w) => (at(egress0(w), "ipBlock")["except"] = ["192.168.0.0/24"]),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock.except",
  },
  {
    name: "ipBlock combined with a podSelector",
    mutate: (w) => (egress0(w)["podSelector"] = {}),
    field: "spec.networkPolicy.allowEgressTo[0].ipBlock",
  },
  {
    name: "port 0",
    mutate: (w) => (port0(w)["port"] = 0),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].port",
  },
  {
    name: "port 65536",
    mutate: (w) => (port0(w)["port"] = 65536),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].port",
  },
  {
    name: "a named port with upper case",
    mutate: (w) => (port0(w)["port"] = "HTTP"),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].port",
  },
  {
    name: "endPort below port",
    mutate: (w) => (port0(w)["endPort"] = 8000),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].endPort",
  },
  {
    name: "endPort with a named port",
    mutate: (w) => Object.assign(port0(w), { port: "http", endPort: 9000 }),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].endPort",
  },
  {
    name: "protocol ICMP",
    mutate: (w) => (port0(w)["protocol"] = "ICMP"),
    field: "spec.networkPolicy.allowIngressFrom[0].ports[0].protocol",
  },
  {
    name: "an In expression without values",
    mutate: (w) => delete at(ingress0(w), "namespaceSelector", "matchExpressions", 0)["values"],
    field: "spec.networkPolicy.allowIngressFrom[0].namespaceSelector.matchExpressions[0].values",
  },
  // rbac
  {
    name: "a binding to cluster-admin",
    mutate: (w) => (at(w.spec, "rbac", "bindings", 0)["role"] = "cluster-admin"),
    field: "spec.rbac.bindings[0].role",
  },
  {
    name: "a binding without subjects",
    mutate: (w) => (at(w.spec, "rbac", "bindings", 0)["subjects"] = []),
    field: "spec.rbac.bindings[0].subjects",
  },
  {
    name: "a ServiceAccount without namespace",
    mutate: (w) => delete subject(w, 1)["namespace"],
    field: "spec.rbac.bindings[0].subjects[1].namespace",
  },
  {
    name: "a Group with a namespace",
    mutate: (w) => (subject(w, 0)["namespace"] = "ci"),
    field: "spec.rbac.bindings[0].subjects[0].namespace",
  },
  {
    name: "a binding to Group system:authenticated (every user)",
    mutate: (w) => (subject(w, 0)["name"] = "system:authenticated"),
    field: "spec.rbac.bindings[0].subjects[0].name",
  },
  {
    name: "a binding to Group system:unauthenticated (anonymous requests)",
    mutate: (w) => (subject(w, 0)["name"] = "system:unauthenticated"),
    field: "spec.rbac.bindings[0].subjects[0].name",
  },
  {
    name: "a binding to Group system:serviceaccounts (every ServiceAccount)",
    mutate: (w) => (subject(w, 0)["name"] = "system:serviceaccounts"),
    field: "spec.rbac.bindings[0].subjects[0].name",
  },
  {
    name: "a binding to Group system:serviceaccounts:ci (a namespace's ServiceAccounts)",
    mutate: (w) => (subject(w, 0)["name"] = "system:serviceaccounts:ci"),
    field: "spec.rbac.bindings[0].subjects[0].name",
  },
  {
    name: "a binding to Group system:masters (the superusers)",
    mutate: (w) =>
      (at(w.spec, "rbac", "bindings", 0, "subjects") as unknown as Json[]).push({
        kind: "Group",
        name: "system:masters",
      }),
    field: "spec.rbac.bindings[0].subjects[2].name",
  },
  {
    name: "an unknown subject kind",
    mutate: (w) => (subject(w, 0)["kind"] = "Team"),
    field: "spec.rbac.bindings[0].subjects[0].kind",
  },
  // quota and limits
  {
    name: "a quota value that is no quantity",
    mutate: (w) => (at(w.spec, "resourceQuota", "hard")["pods"] = "lots"),
    field: "spec.resourceQuota.hard",
  },
  {
    name: "a fractional pod count (the server refuses it in a ResourceQuota)",
    mutate: (w) => (at(w.spec, "resourceQuota", "hard")["pods"] = "2454m"),
    field: "spec.resourceQuota.hard",
  },
  {
    name: "a fractional count/* quota",
    mutate: (w) => (at(w.spec, "resourceQuota", "hard")["count/configmaps"] = "1.5"),
    field: "spec.resourceQuota.hard",
  },
  {
    name: "a negative quota",
    mutate: (w) => (at(w.spec, "resourceQuota", "hard")["requests.cpu"] = "-1"),
    field: "spec.resourceQuota.hard[requests.cpu]",
  },
  {
    name: "a negative limit",
    mutate: (w) => (at(w.spec, "limitRange", "max")["cpu"] = "-2"),
    field: "spec.limitRange.max[cpu]",
  },
  {
    name: "a quota without hard",
    mutate: (w) => (spec(w)["resourceQuota"] = {}),
    field: "spec.resourceQuota.hard",
  },
  {
    name: "a limit that is no quantity",
    mutate: (w) => (at(w.spec, "limitRange", "default")["cpu"] = "half"),
    field: "spec.limitRange.default",
  },
  {
    name: "a defaultRequest above the default",
    mutate: (w) => (at(w.spec, "limitRange", "defaultRequest")["cpu"] = "1"),
    field: "spec.limitRange.defaultRequest",
  },
  {
    name: "a min above the max",
    mutate: (w) => (at(w.spec, "limitRange", "min")["cpu"] = "3"),
    field: "spec.limitRange.min",
  },
  // service mesh
  {
    name: "an unknown mesh provider",
    mutate: (w) => (at(w.spec, "serviceMesh")["provider"] = "cilium"),
    field: "spec.serviceMesh.provider",
  },
  {
    name: "an unknown mTLS mode",
    mutate: (w) => (at(w.spec, "serviceMesh")["mtls"] = "DISABLE"),
    field: "spec.serviceMesh.mtls",
  },
  {
    name: "WorkspaceOnly authorization without a mesh",
    mutate: (w) => (at(w.spec, "serviceMesh")["provider"] = "none"),
    field: "spec.serviceMesh.authorization.mode",
  },
  {
    name: "a control-plane namespace that is no DNS label",
    mutate: (w) => (at(w.spec, "serviceMesh")["controlPlaneNamespace"] = "Istio_System"),
    field: "spec.serviceMesh.controlPlaneNamespace",
  },
  {
    name: "an allowFromNamespaces entry that is no DNS label",
    mutate: (w) => (at(w.spec, "serviceMesh", "authorization")["allowFromNamespaces"] = ["istio.ingress"]),
    field: "spec.serviceMesh.authorization.allowFromNamespaces[0]",
  },
  // guardrails
  {
    name: "an unknown NetworkPolicy guardrail",
    mutate: (w) => (at(w.spec, "guardrails")["networkPolicy"] = "Open"),
    field: "spec.guardrails.networkPolicy",
  },
  {
    name: "an RBAC guardrail in the wrong case",
    mutate: (w) => (at(w.spec, "guardrails")["rbac"] = "strict"),
    field: "spec.guardrails.rbac",
  },
  {
    name: "a bare YAML 1.1 Off (false) as the mesh guardrail",
    mutate: (w) => (at(w.spec, "guardrails")["mesh"] = false),
    field: "spec.guardrails.mesh",
  },
  // metadata
  {
    name: "a workspace name longer than a label value",
    mutate: (w) => (w.metadata.name = `crdv-${"x".repeat(60)}`),
    field: "metadata.name",
  },
];

/** The guardrails a spec that says nothing gets: every one strict. */
const STRICT_GUARDRAILS: Json = { networkPolicy: "WithinWorkspace", rbac: "Strict", mesh: "Strict" };

/** The Status message of a failed request (the client leaves the body as text or JSON). */
function failure(err: unknown): { code: number; message: string } {
  if (!(err instanceof ApiException)) throw err;
  const raw: unknown = err.body;
  let body: unknown = raw;
  if (typeof raw === "string") {
    try {
      body = JSON.parse(raw);
    } catch {
      body = { message: raw };
    }
  }
  const message = (body as { message?: unknown } | undefined)?.message;
  return { code: err.code, message: typeof message === "string" ? message : String(raw) };
}

describe("the SecureWorkspace CRD on a real API server", function () {
  let kc: KubeConfig;
  let objects: CustomObjectsApi;
  const target = { group: GROUP, version: VERSION, plural: PLURAL };

  async function dryRunCreate(body: unknown, fieldValidation?: string): Promise<Json> {
    return (await objects.createClusterCustomObject({
      ...target,
      body,
      dryRun: "All",
      fieldValidation,
    })) as Json;
  }

  async function refusal(
    body: unknown,
    fieldValidation?: string,
  ): Promise<{ code: number; message: string }> {
    try {
      await dryRunCreate(body, fieldValidation);
    } catch (err) {
      return failure(err);
    }
    throw new Error("the API server accepted it");
  }

  before(async function () {
    kc = adminKubeConfig();
    objects = kc.makeApiClient(CustomObjectsApi);
    await installCrd(kc);
  });

  it("installs idempotently (a second install replaces the CRD in place)", async () => {
    await installCrd(kc);
  });

  it("accepts the valid workspace the corpus starts from", async () => {
    await dryRunCreate(validWorkspace("crdv-valid"));
  });

  it(`has a corpus of at least 30 bad specs (${corpus.length})`, () => {
    expect(corpus.length).to.be.at.least(30);
    expect(new Set(corpus.map((c) => c.name)).size).to.equal(corpus.length);
  });

  describe("refuses with 422 and names the field", () => {
    corpus.forEach((c, i) => {
      it(`${c.name} (${c.field})`, async () => {
        const workspace = validWorkspace(`crdv-bad-${i}`);
        c.mutate(workspace);
        const { code, message } = await refusal(workspace);
        expect(code, message).to.equal(422);
        expect(message).to.contain(c.field);
      });
    });
  });

  it("names the reserved label or annotation key in the message", async () => {
    const workspace = validWorkspace("crdv-reserved");
    namespaces(workspace)[1]["labels"] = { team: "a", "pod-security.kubernetes.io/warn": "baseline" };
    namespaces(workspace)[1]["annotations"] = { "config.linkerd.io/opaque-ports": "4444" };
    const { message } = await refusal(workspace);
    expect(message).to.contain(
      "spec.namespaces[1].labels: Invalid value: label key pod-security.kubernetes.io/warn",
    );
    expect(message).to.contain(
      "spec.namespaces[1].annotations: Invalid value: annotation key config.linkerd.io/opaque-ports",
    );
  });

  it("says why a broad group is refused, in the words `sws validate` uses", async () => {
    for (const name of ["system:authenticated", "system:serviceaccounts:ci"]) {
      const workspace = validWorkspace("crdv-broad");
      subject(workspace, 0)["name"] = name;
      const { code, message } = await refusal(workspace);
      expect(code, message).to.equal(422);
      const offline = broadGroupProblem(name) ?? "";
      expect(offline).to.not.equal("");
      expect(message).to.contain(`spec.rbac.bindings[0].subjects[0].name: Forbidden: ${offline}`);
    }
  });

  it("accepts named groups at the boundary of the broad ones, and Users or ServiceAccounts of those names", async () => {
    // Group names are compared exactly: only a colon after system:serviceaccounts names a
    // namespace's group; a User called system:authenticated is not the group.
    const workspace = validWorkspace("crdv-named-groups");
    at(workspace.spec, "rbac", "bindings", 0)["subjects"] = [
      { kind: "Group", name: "team-a" },
      { kind: "Group", name: "system:serviceaccounts-foo" },
      { kind: "Group", name: "system:serviceaccountsx" },
      { kind: "Group", name: "System:Authenticated" },
      { kind: "Group", name: "system:masters-readonly" },
      { kind: "User", name: "system:authenticated" },
      { kind: "ServiceAccount", name: "system-masters", namespace: "ci" },
    ];
    await dryRunCreate(workspace, "Strict");
    expect(validateSpec(workspace.spec as unknown as SecureWorkspaceSpec)).to.deep.equal([]);
  });

  it("refuses an unknown guardrail value in the words `sws validate` uses", async () => {
    const workspace = validWorkspace("crdv-guardrail-open");
    at(workspace.spec, "guardrails")["networkPolicy"] = "Open";
    const { code, message } = await refusal(workspace);
    expect(code, message).to.equal(422);
    const offline = validateSpec(workspace.spec as unknown as SecureWorkspaceSpec);
    expect(offline).to.deep.equal([
      {
        path: "spec.guardrails.networkPolicy",
        message: 'Unsupported value: "Open": supported values: "WithinWorkspace", "SameNamespace", "Off"',
      },
    ]);
    expect(message).to.contain(`${offline[0]?.path ?? ""}: ${offline[0]?.message ?? ""}`);
  });

  it("accepts every value of every guardrail, as `sws validate` does", async () => {
    const choices: Array<Record<string, string>> = [
      ...GUARDRAIL_VALUES.networkPolicy.map((networkPolicy) => ({ networkPolicy })),
      ...GUARDRAIL_VALUES.rbac.map((rbac) => ({ rbac })),
      ...GUARDRAIL_VALUES.mesh.map((mesh) => ({ mesh })),
      { networkPolicy: "SameNamespace", rbac: "Off", mesh: "Off" },
    ];
    for (const guardrails of choices) {
      const workspace = validWorkspace("crdv-guardrails");
      workspace.spec["guardrails"] = guardrails;
      const created = await dryRunCreate(workspace, "Strict");
      expect(at(created, "spec", "guardrails"), JSON.stringify(guardrails)).to.include(guardrails);
      expect(validateSpec(workspace.spec as unknown as SecureWorkspaceSpec)).to.deep.equal([]);
    }
  });

  it("refuses an unknown field under strict field validation, naming it", async () => {
    const workspace = validWorkspace("crdv-unknown");
    at(workspace.spec, "networkPolicy")["allowDns"] = false;
    const { code, message } = await refusal(workspace, "Strict");
    expect(code).to.equal(400);
    expect(message).to.contain("spec.networkPolicy.allowDns");
  });

  describe("accepts every example", () => {
    const dir = path.join(repoRoot(), "examples");
    const files = readdirSync(dir).filter((f) => f.endsWith(".yaml"));
    it("finds the examples", () => expect(files.length).to.be.at.least(7));
    const load = (file: string): Workspace => parse(readFileSync(path.join(dir, file), "utf8")) as Workspace;
    for (const file of files) {
      it(`examples/${file}`, async () => {
        // Renamed for the dry run: other suites create the examples under their own names.
        const example = load(file);
        example.metadata.name = `crdv-${example.metadata.name}`;
        await dryRunCreate(example, "Strict");
      });
    }

    it("use distinct workspace and namespace names, so all of them apply to one cluster at once", () => {
      const all = files.map(load);
      const workspaces = all.map((w) => w.metadata.name);
      const owned = all.flatMap((w) => namespaces(w).map((n) => n["name"]));
      expect(new Set(workspaces).size).to.equal(workspaces.length);
      expect(new Set(owned).size).to.equal(owned.length);
    });
  });

  it("applies the contract's defaults at admission, and only those", async () => {
    const created = await dryRunCreate({
      apiVersion: API_VERSION,
      kind: KIND,
      metadata: { name: "crdv-defaults" },
      spec: { namespaces: [{ name: "crdv-defaults" }] },
    });
    expect(created["spec"]).to.deep.equal({
      namespaces: [{ name: "crdv-defaults" }],
      enforcement: "Enforce",
      deletionPolicy: "Retain",
      podSecurity: { enforce: "restricted", enforceVersion: "latest" },
      networkPolicy: { defaultDeny: ["Ingress", "Egress"], allowSameNamespace: true, allowDNS: true },
      serviceMesh: { provider: "none", mtls: "STRICT", injection: true },
      guardrails: STRICT_GUARDRAILS,
    });
  });

  it("defaults guardrails that are null or partial to strict, field by field", async () => {
    const cases: Array<[unknown, Json]> = [
      [null, STRICT_GUARDRAILS],
      [{}, STRICT_GUARDRAILS],
      [
        { networkPolicy: null, mesh: "Off" },
        { ...STRICT_GUARDRAILS, mesh: "Off" },
      ],
      [{ rbac: "Off" }, { ...STRICT_GUARDRAILS, rbac: "Off" }],
    ];
    for (const [guardrails, expected] of cases) {
      const created = await dryRunCreate({
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: "crdv-guardrail-defaults" },
        spec: { namespaces: [{ name: "crdv-guardrail-defaults" }], guardrails },
      });
      expect(at(created, "spec", "guardrails"), JSON.stringify(guardrails)).to.deep.equal(expected);
      const offline = applyDefaults({
        namespaces: [{ name: "n" }],
        guardrails,
      } as unknown as SecureWorkspaceSpec).guardrails;
      expect(offline, `applyDefaults(${JSON.stringify(guardrails)})`).to.deep.equal(expected);
    }
  });

  it("stores the guardrail defaults: a workspace applied without them reads back strict", async () => {
    const name = "crdv-guardrails-stored";
    await objects.createClusterCustomObject({
      ...target,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { name }, spec: { namespaces: [{ name }] } },
    });
    try {
      const stored = (await objects.getClusterCustomObject({ ...target, name })) as Json;
      expect(at(stored, "spec", "guardrails")).to.deep.equal(STRICT_GUARDRAILS);
    } finally {
      // No operator runs in this suite, so nothing holds a finalizer on it.
      await objects.deleteClusterCustomObject({ ...target, name });
    }
  });
});
