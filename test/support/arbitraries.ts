/** fast-check generators of valid SecureWorkspace specs (and arbitrary junk, for robustness tests). */
import fc from "fast-check";
import type {
  EgressAllowance,
  IngressAllowance,
  LabelSelector,
  PolicyPort,
  SecureWorkspace,
  SecureWorkspaceSpec,
  Subject,
} from "../../src/api/types.js";
import { GUARDRAIL_VALUES } from "../../src/api/validation.js";

const dnsLabel = fc
  .stringMatching(/^[a-z]([-a-z0-9]{0,10}[a-z0-9])?$/)
  .filter((s) => !["default", "kube-system", "kube-public", "kube-node-lease"].includes(s));
const labelValue = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,8}[a-z0-9])?$/);
const userLabelKey = fc
  .stringMatching(/^(example\.com\/)?[a-z]([-a-z0-9]{0,8}[a-z0-9])?$/)
  .filter((k) => k !== "istio-injection");

const selector: fc.Arbitrary<LabelSelector> = fc.record({
  matchLabels: fc.dictionary(userLabelKey, labelValue, { minKeys: 1, maxKeys: 2 }),
});
const port: fc.Arbitrary<PolicyPort> = fc.record(
  { protocol: fc.constantFrom("TCP" as const, "UDP" as const), port: fc.integer({ min: 1, max: 65535 }) },
  { requiredKeys: ["port"] },
);
/** A canonical IPv4 CIDR: no bits set beyond the prefix (the API server refuses those). */
const cidr = fc
  .tuple(fc.integer({ min: 1, max: 223 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 8, max: 32 }))
  .map(([a, b, prefix]) => {
    const masked = prefix >= 16 ? b : b & (0xff << (16 - prefix));
    return `${a}.${masked}.0.0/${prefix}`;
  });
const allowance: fc.Arbitrary<IngressAllowance & EgressAllowance> = fc.oneof(
  fc.record(
    { namespaceSelector: selector, ports: fc.array(port, { maxLength: 2 }) },
    { requiredKeys: ["namespaceSelector"] },
  ),
  fc.record({ podSelector: selector, namespaceSelector: selector }, { requiredKeys: ["podSelector"] }),
  fc.record(
    { ipBlock: fc.record({ cidr }), ports: fc.array(port, { maxLength: 2 }) },
    { requiredKeys: ["ipBlock"] },
  ),
);
const subject: fc.Arbitrary<Subject> = fc.oneof(
  fc.record({ kind: fc.constantFrom("User" as const, "Group" as const), name: labelValue }),
  fc.record({ kind: fc.constant("ServiceAccount" as const), name: labelValue, namespace: dnsLabel }),
);
const quantity = fc.oneof(
  fc.integer({ min: 0, max: 64 }).map(String),
  fc.integer({ min: 1, max: 4000 }).map((n) => `${n}m`),
  fc.integer({ min: 1, max: 64 }).map((n) => `${n}Gi`),
);
/** Object counts (pods) are whole numbers. */
const count = fc.oneof(
  fc.integer({ min: 0, max: 64 }).map(String),
  fc.integer({ min: 1, max: 9 }).map((n) => `${n}k`),
);
const level = fc.constantFrom("privileged" as const, "baseline" as const, "restricted" as const);

/** Any spec the CRD would admit. */
export const validSpec: fc.Arbitrary<SecureWorkspaceSpec> = fc.record(
  {
    namespaces: fc.uniqueArray(
      fc.record(
        { name: dnsLabel, labels: fc.dictionary(userLabelKey, labelValue, { maxKeys: 2 }) },
        { requiredKeys: ["name"] },
      ),
      { minLength: 1, maxLength: 4, selector: (n) => n.name },
    ),
    enforcement: fc.constantFrom("Enforce" as const, "Audit" as const),
    deletionPolicy: fc.constantFrom("Retain" as const, "Delete" as const),
    podSecurity: fc.record({ enforce: level, audit: level, warn: level }, { requiredKeys: [] }),
    networkPolicy: fc.record(
      {
        defaultDeny: fc.subarray(["Ingress" as const, "Egress" as const]),
        allowSameNamespace: fc.boolean(),
        allowDNS: fc.boolean(),
        allowIngressFrom: fc.array(allowance, { maxLength: 3 }),
        allowEgressTo: fc.array(allowance, { maxLength: 3 }),
      },
      { requiredKeys: [] },
    ),
    rbac: fc.record({
      bindings: fc.array(
        fc.record({
          role: fc.constantFrom("admin" as const, "edit" as const, "view" as const),
          subjects: fc.array(subject, { minLength: 1, maxLength: 3 }),
        }),
        { maxLength: 3 },
      ),
    }),
    resourceQuota: fc.record({
      hard: fc
        .record({ pods: count, "requests.cpu": quantity, "limits.memory": quantity }, { requiredKeys: [] })
        .filter((hard) => Object.keys(hard).length > 0),
    }),
    limitRange: fc.record(
      { default: fc.record({ cpu: quantity }), max: fc.record({ memory: quantity }) },
      { requiredKeys: [] },
    ),
    serviceMesh: fc.oneof(
      fc.constant({ provider: "none" as const }),
      fc.record(
        {
          provider: fc.constantFrom("istio" as const, "linkerd" as const),
          mtls: fc.constantFrom("STRICT" as const, "PERMISSIVE" as const),
          injection: fc.boolean(),
          authorization: fc.record(
            {
              mode: fc.constantFrom("WorkspaceOnly" as const, "Off" as const),
              allowFromNamespaces: fc.uniqueArray(dnsLabel, { maxLength: 2 }),
            },
            { requiredKeys: [] },
          ),
        },
        { requiredKeys: ["provider"] },
      ),
    ),
    guardrails: fc.record(
      {
        networkPolicy: fc.constantFrom(...GUARDRAIL_VALUES.networkPolicy),
        rbac: fc.constantFrom(...GUARDRAIL_VALUES.rbac),
        mesh: fc.constantFrom(...GUARDRAIL_VALUES.mesh),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["namespaces"] },
);

/** A SecureWorkspace around a generated valid spec. */
export const validWorkspace: fc.Arbitrary<SecureWorkspace> = fc
  .tuple(dnsLabel, fc.uuid(), validSpec)
  .map(([name, uid, spec]) => ({
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: { name, uid, generation: 1 },
    spec,
  }));

// ---- specs at the edges of the contract, valid or not ------------------------------------------
// For the differential test (test/integration/validation-differential.test.ts): a valid workspace
// with a few edits, each setting one field to a value at an edge of the contract (a length limit,
// a CIDR form, a port bound, an enum's spelling, a duplicate, a CEL rule's boundary). An edit may
// leave the spec valid; which it does is for the two validators to agree on, not for the generator.

/** A plain JSON value, loose enough to be broken on purpose. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
/** A JSON object. */
export type JsonObject = { [key: string]: Json };

/** One edit of a workspace: set (or, when `value` is undefined, remove) the field at `at`. */
export interface SpecEdit {
  /** Keys and indices from the object root; an index past the end appends. */
  readonly at: ReadonlyArray<string | number>;
  readonly value: Json | undefined;
}

const repeat = (char: string, n: number): string => char.repeat(n);
/** Mostly the edge values, sometimes a generated one. */
const edgy = <T>(edges: readonly T[], other?: fc.Arbitrary<T>): fc.Arbitrary<T> =>
  other
    ? fc.oneof({ arbitrary: fc.constantFrom(...edges), weight: 4 }, { arbitrary: other, weight: 1 })
    : fc.constantFrom(...edges);
/** Values of the wrong type, for any field. */
const junk: fc.Arbitrary<Json> = fc.constantFrom<Json>(null, 5, true, "x", [], {});

/** Names a few edits share, so that some specs list a namespace twice. */
const NAME_POOL = ["team-a", "team-b", "team-c"];

/**
 * The edge values of each kind of field. The generators below draw mostly from these; the
 * differential test also tries every one of them alone, so each is checked in every run.
 */
export const EDGES = {
  /** Namespace (DNS-1123 label) names around the limits, system namespaces and their neighbours. */
  namespaceName: [
    ...NAME_POOL,
    "a",
    "0",
    "9-9",
    repeat("a", 63),
    repeat("a", 64),
    "Team-A",
    "-team",
    "team-",
    "team_a",
    "team.a",
    "",
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "default",
    "kube-foo",
    "team-a-system",
  ],
  /** Label keys: reserved ones, prefix and name at and past their limits, bad characters. */
  labelKey: [
    "team",
    "cost-center",
    "example.com/team",
    "app.kubernetes.io/part-of",
    "Team_1.x",
    repeat("k", 63),
    repeat("k", 64),
    `${repeat("p", 253)}/k`,
    `${repeat("p", 254)}/k`,
    `${repeat("p", 253)}/${repeat("k", 63)}`,
    `example.com/${repeat("k", 64)}`,
    "Example.com/team",
    "example.com/a/b",
    "/team",
    "example.com/",
    "cost center",
    "_team",
    "team-",
    "pod-security.kubernetes.io/enforce",
    "secureworkspace.io/workspace",
    "secureworkspace.io/adopt",
    "app.kubernetes.io/managed-by",
    "istio-injection",
    "kubernetes.io/metadata.name",
  ],
  /** Label values around the limits. */
  labelValue: ["", "x", "42", repeat("v", 63), repeat("v", 64), "-x", "x-", "x_y", "x.y", "X", "a b", "a/b"],
  /** Annotation keys beyond the label keys: the reserved prefixes and their neighbours. */
  annotationKey: [
    "linkerd.io/inject",
    "config.linkerd.io/default-inbound-policy",
    "secureworkspace.io/owner-uid",
    "linkerd.io",
    "example.linkerd.io/x",
    "example.com/owner",
  ],
  /** Annotation values around the limit. */
  annotationValue: ["", "team a: owner", repeat("v", 4096), repeat("v", 4097)],
  /** CIDRs: both families, prefix bounds, host bits, leading zeros, mapped IPv4, zone ids. */
  cidr: [
    "10.0.0.0/8",
    "10.20.0.0/16",
    "10.20.1.0/24",
    "10.1.0.0/8",
    "0.0.0.0/0",
    "10.0.0.1/32",
    "10.0.0.0/33",
    "10.0.0.0",
    "010.0.0.0/8",
    "10.0.0.0/08",
    "256.0.0.0/8",
    "10.0.0.0/-1",
    "",
    " 10.0.0.0/8",
    "2001:db8::/32",
    "2001:DB8::/32",
    "2001:db8::1/32",
    "2001:db8:1::/48",
    "::/0",
    "::1/128",
    "::1/129",
    "::ffff:10.0.0.0/104",
    "::ffff:0:0/96",
    "::ffff:a00:0/104",
    "64:ff9b::/96",
    "::10.0.0.0/104",
    "fe80::1%eth0/64",
    "fe80::/64",
  ],
  /** Ports: number bounds, named ports around the IANA service name rules, wrong types. */
  port: [
    0,
    1,
    80,
    65535,
    65536,
    -1,
    1.5,
    "http",
    "HTTP",
    "h",
    "h2",
    "2h",
    "a-b",
    "a--b",
    "-a",
    "a-",
    "1",
    "80",
    repeat("p", 15),
    repeat("p", 16),
    "",
    true,
  ],
  /**
   * Quantities: forms the server accepts and refuses, signs, fractions, exponents, the E/Ei
   * suffixes, values its CEL isInteger() calls fractional. Never an exponent of more than a few
   * digits: the server's own parser takes minutes over "1e999999999".
   */
  quantity: [
    "0",
    "1",
    "-1",
    "0.5",
    "1.5",
    "500m",
    "1000m",
    "2454m",
    "1e3",
    "1E3",
    "1e-3",
    "1Ei",
    "1E",
    "1Ki",
    "1k",
    "1K",
    ".5",
    "+1",
    "1.",
    "-0",
    "0.0",
    "lots",
    "",
    "1 Gi",
    "0x10",
    "1e",
    "1m",
    "16Gi",
    "2",
    "100n",
    "1.0000000000000001",
    "9223372036854775807",
    "1e100",
    "1e-100",
    "1Pi",
    "999Ti",
    "1.0",
    "0.000",
    ".",
    "-",
    "+",
    ".Ki",
    ".Ei",
    "1.G",
    "Gi",
    "e3",
    "m",
    "e",
    repeat("1", 64),
    repeat("1", 65),
    4,
  ],
} satisfies Record<string, readonly Json[]>;

export const edgeNamespaceName: fc.Arbitrary<string> = edgy(
  EDGES.namespaceName,
  fc.stringMatching(/^[-a-zA-Z0-9._]{0,66}$/),
);
export const edgeLabelKey: fc.Arbitrary<string> = edgy(
  EDGES.labelKey,
  fc.stringMatching(/^([a-z0-9.-]{1,12}\/)?[-A-Za-z0-9_.]{0,12}$/),
);
export const edgeLabelValue: fc.Arbitrary<string> = edgy(
  EDGES.labelValue,
  fc.stringMatching(/^[-A-Za-z0-9_.]{0,12}$/),
);
export const edgeAnnotationKey: fc.Arbitrary<string> = fc.oneof(
  edgeLabelKey,
  fc.constantFrom(...EDGES.annotationKey),
);
export const edgeAnnotationValue: fc.Arbitrary<string> = edgy(EDGES.annotationValue);
export const edgeCidr: fc.Arbitrary<string> = edgy(
  EDGES.cidr,
  fc.tuple(fc.nat(255), fc.nat(255), fc.nat(33)).map(([a, b, prefix]) => `${a}.${b}.0.0/${prefix}`),
);
export const edgePort: fc.Arbitrary<Json> = edgy<Json>(EDGES.port, fc.integer({ min: -2, max: 65537 }));
export const edgeQuantity: fc.Arbitrary<Json> = edgy<Json>(
  EDGES.quantity,
  fc.integer({ min: -2, max: 4000 }).map((n) => `${n}m`),
);

/** An edit at a path whose indices are generated (an index past the end appends). */
const edit = (
  path: fc.Arbitrary<ReadonlyArray<string | number>>,
  value: fc.Arbitrary<Json | undefined>,
): fc.Arbitrary<SpecEdit> => fc.record({ at: path, value });
const path = (
  ...parts: Array<string | number | fc.Arbitrary<string | number>>
): fc.Arbitrary<Array<string | number>> =>
  fc.tuple(...parts.map((p) => (typeof p === "object" ? p : fc.constant(p))));
const index = (max: number): fc.Arbitrary<number> => fc.nat({ max });
const absent = fc.constant(undefined);
const enumEdge = (values: readonly string[]): fc.Arbitrary<Json | undefined> =>
  fc.oneof(
    { arbitrary: fc.constantFrom<Json>(...values), weight: 3 },
    { arbitrary: fc.constantFrom<Json>(...values.map((v) => v.toLowerCase()), "", "Off", false), weight: 2 },
    { arbitrary: fc.oneof(junk, absent), weight: 1 },
  );
/** An object from generated fields; a field generated as undefined is left out. */
const object = (fields: { [key: string]: fc.Arbitrary<Json | undefined> }): fc.Arbitrary<JsonObject> =>
  fc.record(fields).map((record) => {
    const out: JsonObject = {};
    for (const [key, value] of Object.entries(record)) if (value !== undefined) out[key] = value;
    return out;
  });
const direction = fc.constantFrom("allowIngressFrom", "allowEgressTo");
const selectorName = fc.constantFrom("namespaceSelector", "podSelector");
const manyNamespaces = (n: number): Json => Array.from({ length: n }, (_, i) => ({ name: `team-${i}` }));

const namespaceEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(path("spec", "namespaces", index(3), "name"), edgeNamespaceName),
  edit(
    path("spec", "namespaces"),
    fc.constantFrom<Json | undefined>(
      [],
      manyNamespaces(100),
      manyNamespaces(101),
      [{ name: "team-a" }, { name: "team-a" }],
      "team-a",
      undefined,
    ),
  ),
  edit(path("spec", "namespaces", index(2), "labels", edgeLabelKey), edgeLabelValue),
  edit(path("spec", "namespaces", index(2), "annotations", edgeAnnotationKey), edgeAnnotationValue),
  edit(
    path("spec", "namespaces", index(2), fc.constantFrom("labels", "annotations")),
    fc
      .constantFrom(32, 33)
      .map((n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, "v"]))),
  ),
];
const podSecurityEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(path("spec", fc.constantFrom("enforcement")), enumEdge(["Enforce", "Audit"])),
  edit(path("spec", fc.constantFrom("deletionPolicy")), enumEdge(["Retain", "Delete"])),
  edit(
    path("spec", "podSecurity", fc.constantFrom("enforce", "audit", "warn")),
    enumEdge(["privileged", "baseline", "restricted"]),
  ),
  edit(
    path("spec", "podSecurity", fc.constantFrom("enforceVersion", "auditVersion", "warnVersion")),
    fc.constantFrom<Json>(
      "latest",
      "v1.30",
      "v1.0",
      "v1.",
      "1.30",
      "v2.1",
      "Latest",
      "v1.123456789012",
      "v1.1234567890123",
      "",
    ),
  ),
];
const networkPolicyEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(
    path("spec", "networkPolicy", "defaultDeny"),
    fc.constantFrom<Json>(
      [],
      ["Ingress"],
      ["Egress", "Ingress"],
      ["Ingress", "Ingress"],
      ["Both"],
      ["Ingress", "Egress", "Ingress"],
      "Ingress",
    ),
  ),
  edit(
    path("spec", "networkPolicy", fc.constantFrom("allowSameNamespace", "allowDNS")),
    fc.constantFrom<Json>(true, false, "yes", null),
  ),
  // An allowance with no peer, with a selector next to an ipBlock, or only an ipBlock.
  edit(
    path("spec", "networkPolicy", direction, index(2)),
    fc.constantFrom<Json>({}, { ports: [{ port: 80 }] }, { ipBlock: { cidr: "10.0.0.0/8" } }),
  ),
  edit(
    path("spec", "networkPolicy", direction, index(2), selectorName),
    fc.constantFrom<Json | undefined>({}, undefined),
  ),
  edit(path("spec", "networkPolicy", direction, index(2), "ipBlock", "cidr"), edgeCidr),
  edit(path("spec", "networkPolicy", direction, index(2), "ipBlock", "except", index(1)), edgeCidr),
  edit(path("spec", "networkPolicy", direction, index(2), "ports", index(2), "port"), edgePort),
  edit(
    path("spec", "networkPolicy", direction, index(2), "ports", index(2), "endPort"),
    fc.constantFrom<Json | undefined>(0, 1, 79, 80, 81, 443, 65535, 65536, "90", undefined),
  ),
  edit(
    path("spec", "networkPolicy", direction, index(2), "ports", index(2), "protocol"),
    enumEdge(["TCP", "UDP", "SCTP"]),
  ),
  edit(
    path("spec", "networkPolicy", direction, index(2), selectorName, "matchLabels", edgeLabelKey),
    edgeLabelValue,
  ),
  edit(
    path("spec", "networkPolicy", direction, index(2), selectorName, "matchExpressions", index(1)),
    object({
      key: fc.oneof(edgeLabelKey, fc.constantFrom("", repeat("k", 317), repeat("k", 318))),
      operator: enumEdge(["In", "NotIn", "Exists", "DoesNotExist"]),
      values: fc.oneof(
        fc.constantFrom<Json | undefined>([], ["a"], ["a", "b"], undefined),
        fc.array(edgeLabelValue, { maxLength: 2 }),
      ),
    }),
  ),
  edit(
    path("spec", "networkPolicy", direction),
    fc.constantFrom(32, 33).map((n) => Array.from({ length: n }, () => ({ podSelector: {} }))),
  ),
  edit(
    path("spec", "networkPolicy", direction, index(2), "ports"),
    fc.constantFrom(16, 17).map((n) => Array.from({ length: n }, () => ({ port: 80 }))),
  ),
];
const subjectPath = path("spec", "rbac", "bindings", index(2), "subjects", index(2));
const rbacEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(
    path("spec", "rbac", "bindings", index(2), "role"),
    enumEdge(["admin", "edit", "view", "cluster-admin"]),
  ),
  edit(
    path("spec", "rbac", "bindings", index(2), "subjects"),
    fc.constantFrom<Json | undefined>([], undefined),
  ),
  edit(
    subjectPath,
    object({
      kind: enumEdge(["User", "Group", "ServiceAccount"]),
      name: fc.constantFrom<Json>(
        "team-a",
        "",
        "system:authenticated",
        "system:unauthenticated",
        "system:serviceaccounts",
        "system:serviceaccounts:ci",
        "system:serviceaccounts:",
        "system:serviceaccountsx",
        "system:masters",
        "System:Masters",
        repeat("n", 253),
        repeat("n", 254),
      ),
      namespace: fc.oneof(edgeNamespaceName, absent),
    }),
  ),
  edit(
    path("spec", "rbac", "bindings", index(1), "subjects"),
    fc
      .constantFrom(64, 65)
      .map((n) => Array.from({ length: n }, (_, i) => ({ kind: "User", name: `u${i}` }))),
  ),
];
const QUOTA_KEYS = [
  "pods",
  "services",
  "secrets",
  "requests.cpu",
  "limits.memory",
  "requests.storage",
  "count/configmaps",
  "example.com/gpu",
  "requests.example.com/gpu",
  "requests.nvidia.com/gpu",
  "gold.storageclass.storage.k8s.io/requests.storage",
  "hugepages-2Mi",
];
const quotaEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(path("spec", "resourceQuota", "hard", fc.constantFrom(...QUOTA_KEYS)), edgeQuantity),
  edit(path("spec", "resourceQuota"), fc.constantFrom<Json>({}, { hard: {} })),
  edit(
    path(
      "spec",
      "limitRange",
      fc.constantFrom("default", "defaultRequest", "max", "min"),
      fc.constantFrom("cpu", "memory"),
    ),
    fc.oneof(
      { arbitrary: fc.constantFrom<Json>("1", "2", "500m", "1Gi", "3"), weight: 2 },
      { arbitrary: edgeQuantity, weight: 1 },
    ),
  ),
];
const meshEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(path("spec", "serviceMesh", "provider"), enumEdge(["none", "istio", "linkerd", "cilium"])),
  edit(path("spec", "serviceMesh", "mtls"), enumEdge(["STRICT", "PERMISSIVE", "DISABLE"])),
  edit(path("spec", "serviceMesh", "injection"), fc.constantFrom<Json>(true, false, "true")),
  edit(path("spec", "serviceMesh", "controlPlaneNamespace"), fc.oneof(edgeNamespaceName, absent)),
  edit(path("spec", "serviceMesh", "authorization", "mode"), enumEdge(["WorkspaceOnly", "Off"])),
  edit(path("spec", "serviceMesh", "authorization", "allowFromNamespaces", index(2)), edgeNamespaceName),
  edit(
    path("spec", "serviceMesh", "authorization", "allowFromNamespaces"),
    fc.constantFrom(64, 65).map((n) => Array.from({ length: n }, (_, i) => `ns-${i}`)),
  ),
];
const otherEdits: Array<fc.Arbitrary<SpecEdit>> = [
  edit(
    path("spec", "guardrails", fc.constantFrom("networkPolicy")),
    enumEdge(GUARDRAIL_VALUES.networkPolicy),
  ),
  edit(path("spec", "guardrails", fc.constantFrom("rbac", "mesh")), enumEdge(GUARDRAIL_VALUES.rbac)),
  edit(path("spec", "guardrails"), fc.constantFrom<Json>(null, {}, "Off")),
  edit(
    path("metadata", "name"),
    fc.constantFrom<Json>(
      "dv-ws",
      `dv-${repeat("w", 60)}`,
      `dv-${repeat("w", 61)}`,
      "dv-WS",
      "dv.ws",
      "dv_ws",
      "-dv",
      "dv-",
    ),
  ),
  // Fields the schema does not know (kubectl's strict field validation refuses them).
  edit(
    fc.constantFrom<Array<string | number>>(
      ["spec", "networkPolicy", "allowDns"],
      ["spec", "extra"],
      ["spec", "namespaces", 0, "label"],
    ),
    fc.constant(true),
  ),
];

/** One edit anywhere in a workspace, every section about equally likely. */
export const specEdit: fc.Arbitrary<SpecEdit> = fc.oneof(
  fc.oneof(...namespaceEdits),
  fc.oneof(...podSecurityEdits),
  fc.oneof(...networkPolicyEdits),
  fc.oneof(...rbacEdits),
  fc.oneof(...quotaEdits),
  fc.oneof(...meshEdits),
  fc.oneof(...otherEdits),
);

function isObject(value: Json | undefined): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A deep copy of a plain data value as Json; throws on anything JSON cannot hold. */
export function asJson(value: unknown): Json {
  if (value === null || typeof value === "string" || typeof value === "boolean") return value;
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (Array.isArray(value)) return value.map(asJson);
  if (typeof value === "object") {
    const out: JsonObject = {};
    for (const [key, child] of Object.entries(value)) if (child !== undefined) out[key] = asJson(child);
    return out;
  }
  throw new Error(`not JSON data: a ${typeof value}`);
}

function asJsonObject(value: unknown): JsonObject {
  const json = asJson(value);
  if (!isObject(json)) throw new Error(`not a JSON object: ${JSON.stringify(json)}`);
  return json;
}

/** Applies an edit in place, making the containers on its way when they are missing or not containers. */
export function applyEdit(root: JsonObject, { at, value }: SpecEdit): void {
  let container: JsonObject | Json[] = root;
  for (let i = 0; i < at.length; i++) {
    const step = at[i] ?? "";
    const last = i === at.length - 1;
    if (Array.isArray(container)) {
      const position = Math.min(Number(step), container.length);
      if (last) {
        if (value === undefined) container.splice(position, 1);
        else container[position] = value;
        return;
      }
      let next: Json | undefined = container[position];
      if (!isObject(next) && !Array.isArray(next)) {
        next = typeof at[i + 1] === "number" ? [] : {};
        container[position] = next;
      }
      container = next;
    } else {
      const key = String(step);
      if (last) {
        if (value === undefined) delete container[key];
        else container[key] = value;
        return;
      }
      let next: Json | undefined = container[key];
      if (!isObject(next) && !Array.isArray(next)) {
        next = typeof at[i + 1] === "number" ? [] : {};
        container[key] = next;
      }
      container = next;
    }
  }
}

/** A workspace as plain JSON, with its edits (the record of how it was made, for failure reports). */
export interface EditedWorkspace {
  readonly workspace: JsonObject;
  readonly edits: readonly SpecEdit[];
}

/**
 * A valid workspace (validSpec) with up to three edits; about a third of them unedited. Names start
 * with "dv-" so that a dry-run create never meets an object another suite left behind.
 */
export const editedWorkspace: fc.Arbitrary<EditedWorkspace> = fc
  .tuple(
    fc.nat({ max: 99_999 }),
    validSpec,
    fc.oneof(
      { arbitrary: fc.constant<SpecEdit[]>([]), weight: 1 },
      { arbitrary: fc.array(specEdit, { minLength: 1, maxLength: 3 }), weight: 2 },
    ),
  )
  .map(([n, spec, edits]) => {
    const workspace: JsonObject = {
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: `dv-${n}` },
      spec: asJsonObject(spec),
    };
    for (const e of edits) applyEdit(workspace, e);
    return { workspace, edits };
  });
