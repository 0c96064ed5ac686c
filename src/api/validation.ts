/**
 * Semantic validation: the rules the CRD enforces with CEL, plus what a schema can't say well
 * (quantities, CIDRs, selector keys). Runs offline in `sws validate` and in the reconciler for
 * objects stored before a rule existed, so a bad object becomes a Stalled condition, never a crash.
 */
import { isIP } from "node:net";
import {
  isBroadGroup,
  isProtectedAnnotationKey,
  isProtectedLabelKey,
  SYSTEM_NAMESPACES,
} from "./constants.js";
import type { Problem } from "./problems.js";
import { compareExactQuantities, parseExactQuantity } from "./quantity.js";
import { unsupportedValue } from "./schema.js";
import type {
  EgressAllowance,
  GuardrailsSpec,
  IngressAllowance,
  PolicyPort,
  SecureWorkspaceSpec,
} from "./types.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;

/**
 * Why a string is not a CIDR the API server accepts in a NetworkPolicy ipBlock, or undefined.
 * Beyond syntax the server refuses leading zeros, IPv4-mapped IPv6 addresses and bits set
 * beyond the prefix length ("10.1.0.0/8"): refused here too, so such a spec never admits a
 * workspace whose policies the server then refuses.
 */
export function cidrProblem(value: string): string | undefined {
  const slash = value.indexOf("/");
  const ip = slash < 0 ? "" : value.slice(0, slash);
  const prefix = slash < 0 ? "" : value.slice(slash + 1);
  const family = isIP(ip);
  // Node accepts IPv6 zone ids ("fe80::1%eth0"); Kubernetes and CEL isCIDR do not.
  if (ip.includes("%") || family === 0 || !/^(0|[1-9]\d{0,2})$/.test(prefix))
    return `"${value}" is not a valid CIDR`;
  const width = family === 4 ? 32 : 128;
  if (Number(prefix) > width) return `"${value}" is not a valid CIDR`;
  const { bits } = cidrBits(value);
  // ::ffff:0:0/96, in any spelling ("::ffff:10.0.0.0", "::ffff:a00:0", "0:0:0:0:0:ffff:...").
  if (family === 6 && bits >> 32n === 0xffffn)
    return `"${value}" is an IPv4-mapped IPv6 address: write the IPv4 CIDR`;
  const host = (1n << BigInt(width - Number(prefix))) - 1n;
  if ((bits & host) !== 0n) return `"${value}" has bits set beyond its prefix length ${prefix}`;
  return undefined;
}

/** Whether a string is a DNS-1123 label (a namespace name). */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
}

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Whether a string is a DNS-1123 subdomain (an object name: a ServiceAccount's, a cluster-scoped object's). */
export function isDns1123Subdomain(value: string): boolean {
  return value.length <= 253 && DNS1123_SUBDOMAIN.test(value);
}

/**
 * Problems with a workspace's name, as the API server's ObjectMeta check words them: a DNS-1123
 * subdomain (the CRD's schema caps it at 63 characters, a label value's limit). The server runs this
 * check whatever else is wrong with the object.
 */
export function validateName(name: string): Problem[] {
  if (isDns1123Subdomain(name)) return [];
  return [
    {
      path: "metadata.name",
      message:
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
    },
  ];
}

/** Whether a string is a valid label key (optional DNS-1123 subdomain prefix + name). */
export function isLabelKey(key: string): boolean {
  const slash = key.lastIndexOf("/");
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const prefix = slash >= 0 ? key.slice(0, slash) : "";
  if (name.length === 0 || name.length > 63 || !LABEL_NAME.test(name)) return false;
  if (slash < 0) return true;
  return prefix.length <= 253 && prefix.split(".").every((part) => DNS1123_LABEL.test(part));
}

/** Whether a string is a valid label value. */
export function isLabelValue(value: string): boolean {
  return value.length <= 63 && LABEL_VALUE.test(value);
}

/**
 * Label keys and values. A bad key is reported at the map (the CRD's CEL rules judge the keys as a
 * whole, and the API server names the map), a bad value at its entry (the schema's pattern).
 */
function checkLabels(labels: Record<string, string> | undefined, path: string, out: Problem[]): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!isLabelKey(key)) out.push({ path, message: `invalid label key "${key}"` });
    if (typeof value !== "string" || !isLabelValue(value))
      out.push({ path: `${path}[${key}]`, message: `invalid label value "${String(value)}"` });
  }
}

function checkPorts(ports: PolicyPort[] | undefined, path: string, out: Problem[]): void {
  (ports ?? []).forEach((p, i) => {
    const at = `${path}.ports[${i}]`;
    if (typeof p.port === "number" && (p.port < 1 || p.port > 65535))
      out.push({ path: `${at}.port`, message: "must be between 1 and 65535" });
    if (p.endPort !== undefined) {
      if (typeof p.port !== "number") out.push({ path: `${at}.endPort`, message: "requires a numeric port" });
      else if (p.endPort < p.port || p.endPort > 65535)
        out.push({ path: `${at}.endPort`, message: "must be >= port and <= 65535" });
    }
  });
}

function checkAllowance(a: IngressAllowance | EgressAllowance, path: string, out: Problem[]): void {
  if (!a.namespaceSelector && !a.podSelector && !a.ipBlock)
    out.push({ path, message: "needs at least one of namespaceSelector, podSelector, ipBlock" });
  if (a.ipBlock) {
    if (a.namespaceSelector || a.podSelector)
      out.push({ path: `${path}.ipBlock`, message: "cannot be combined with a selector" });
    const cidr = a.ipBlock.cidr;
    const problem = cidrProblem(cidr);
    if (problem) out.push({ path: `${path}.ipBlock.cidr`, message: problem });
    // At the list, as the CRD's rules on except report it; the message says which entry.
    (a.ipBlock.except ?? []).forEach((c, i) => {
      const exceptProblem = cidrProblem(c);
      if (exceptProblem) out.push({ path: `${path}.ipBlock.except`, message: `[${i}]: ${exceptProblem}` });
      else if (!problem && !cidrStrictlyInside(c, cidr))
        out.push({
          path: `${path}.ipBlock.except`,
          message: `[${i}]: "${c}" is not strictly inside ${cidr}`,
        });
    });
  }
  for (const which of ["namespaceSelector", "podSelector"] as const) {
    checkLabels(a[which]?.matchLabels, `${path}.${which}.matchLabels`, out);
    (a[which]?.matchExpressions ?? []).forEach((e, i) => {
      // A NetworkPolicy refuses a requirement whose key is no label key.
      if (typeof e.key === "string" && !isLabelKey(e.key))
        out.push({
          path: `${path}.${which}.matchExpressions[${i}].key`,
          message: `invalid label key "${e.key}"`,
        });
      const needsValues = e.operator === "In" || e.operator === "NotIn";
      const count = e.values?.length ?? 0;
      if (needsValues && count === 0)
        out.push({
          path: `${path}.${which}.matchExpressions[${i}].values`,
          message: `${e.operator} needs values`,
        });
      if (!needsValues && count > 0)
        out.push({
          path: `${path}.${which}.matchExpressions[${i}].values`,
          message: `${e.operator} takes no values`,
        });
    });
  }
  checkPorts(a.ports, path, out);
}

/**
 * Every value a quantity and not negative (reported at the entry, as the CRD's rules on each value
 * are); a whole number where `whole(key)` says so (reported at the map, as the CRD's rule on the
 * map is). "Whole" is CEL's isInteger(): held as an int64 by the server, which "1000m" and "1Pi"
 * are not (see ExactQuantity.isInteger).
 */
function checkQuantities(
  map: Record<string, string> | undefined,
  path: string,
  out: Problem[],
  whole: (key: string) => boolean = () => false,
): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    const amount = typeof value === "string" ? parseExactQuantity(value) : undefined;
    if (amount === undefined)
      out.push({ path: `${path}[${key}]`, message: `"${String(value)}" is not a valid quantity` });
    if (amount?.negative) out.push({ path: `${path}[${key}]`, message: `"${value}" must not be negative` });
    if (amount && whole(key) && !amount.isInteger)
      out.push({
        path,
        message: `${key}: "${value}" must be a whole number (written without a fraction or milli-units)`,
      });
  }
}

/** Quota resources counted in whole objects (or extended resources), as the API server decides. */
const INTEGER_QUOTA_RESOURCES = new Set([
  "pods",
  "services",
  "replicationcontrollers",
  "resourcequotas",
  "secrets",
  "configmaps",
  "persistentvolumeclaims",
  "services.nodeports",
  "services.loadbalancers",
]);

/**
 * Whether a ResourceQuota refuses a fractional value for this resource: the object counts above,
 * and every name with a "/" outside kubernetes.io that is not a "requests." name (count/pods,
 * example.com/gpu, <class>.storageclass.storage.k8s.io/requests.storage).
 */
export function isIntegerQuotaResource(name: string): boolean {
  if (INTEGER_QUOTA_RESOURCES.has(name)) return true;
  return name.includes("/") && !name.includes("kubernetes.io/") && !name.startsWith("requests.");
}

/** The address bits of a CIDR as a bigint with its prefix length and family width. */
function cidrBits(cidr: string): { bits: bigint; prefix: number; width: number } {
  const [ip = "", prefix = "0"] = cidr.split("/");
  if (isIP(ip) === 4) {
    const bits = ip.split(".").reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
    return { bits, prefix: Number(prefix), width: 32 };
  }
  // An IPv6 address may end in a dotted quad ("::1.2.3.4"): two 16-bit groups.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(ip);
  const hex = dotted
    ? `${dotted[1]}${((Number(dotted[2]) << 8) | Number(dotted[3])).toString(16)}:${((Number(dotted[4]) << 8) | Number(dotted[5])).toString(16)}`
    : ip;
  const [head = "", tail = ""] = hex.split("::");
  const parse = (part: string): string[] => (part === "" ? [] : part.split(":"));
  const h = parse(head);
  const t = parse(tail);
  const groups = hex.includes("::") ? [...h, ...Array<string>(8 - h.length - t.length).fill("0"), ...t] : h;
  const bits = groups.reduce((acc, g) => (acc << 16n) + BigInt(parseInt(g || "0", 16)), 0n);
  return { bits, prefix: Number(prefix), width: 128 };
}

/** Whether `inner` is a strictly smaller range inside `outer` (as Kubernetes requires of ipBlock.except). */
export function cidrStrictlyInside(inner: string, outer: string): boolean {
  const a = cidrBits(inner);
  const b = cidrBits(outer);
  if (a.width !== b.width || a.prefix <= b.prefix) return false;
  const shift = BigInt(b.width - b.prefix);
  return a.bits >> shift === b.bits >> shift;
}

/**
 * min <= defaultRequest <= default <= max, per resource, as the LimitRange admission requires,
 * reported at the lower of the two maps (where the CRD's rules report it).
 */
function checkLimitOrder(spec: SecureWorkspaceSpec, out: Problem[]): void {
  const lr = spec.limitRange;
  if (!lr) return;
  const order = ["min", "defaultRequest", "default", "max"] as const;
  order.forEach((lower, i) =>
    order.slice(i + 1).forEach((higher) => {
      for (const [resource, value] of Object.entries(lr[lower] ?? {})) {
        const other = lr[higher]?.[resource];
        const x = parseExactQuantity(String(value));
        const y = other === undefined ? undefined : parseExactQuantity(String(other));
        if (x && y && compareExactQuantities(x, y) > 0)
          out.push({
            path: `spec.limitRange.${lower}`,
            message: `${resource}: ${String(value)} must not exceed ${higher} (${String(other)})`,
          });
      }
    }),
  );
}

function checkNamespaces(spec: SecureWorkspaceSpec, out: Problem[]): void {
  const seen = new Set<string>();
  if (!Array.isArray(spec.namespaces) || spec.namespaces.length === 0) {
    out.push({ path: "spec.namespaces", message: "must list at least one namespace" });
    return;
  }
  if (spec.namespaces.length > 100) out.push({ path: "spec.namespaces", message: "must list at most 100" });
  spec.namespaces.forEach((ns, i) => {
    const at = `spec.namespaces[${i}]`;
    if (typeof ns?.name !== "string" || !isDns1123Label(ns.name)) {
      out.push({ path: `${at}.name`, message: "must be a DNS-1123 label (lower case, digits, '-')" });
      return;
    }
    // At the list, as the CRD's uniqueness rule reports it; the message says which entry.
    if (seen.has(ns.name))
      out.push({ path: "spec.namespaces", message: `duplicate namespace "${ns.name}" at [${i}]` });
    seen.add(ns.name);
    if ((SYSTEM_NAMESPACES as readonly string[]).includes(ns.name))
      out.push({ path: `${at}.name`, message: `"${ns.name}" is a system namespace` });
    checkLabels(ns.labels, `${at}.labels`, out);
    // At the map, as the CRD's CEL rule reports it; the message names the key.
    for (const key of Object.keys(ns.labels ?? {}))
      if (isProtectedLabelKey(key))
        out.push({
          path: `${at}.labels`,
          message: `label key ${key} is a protected key set by the operator`,
        });
    for (const key of Object.keys(ns.annotations ?? {}))
      if (!isLabelKey(key))
        out.push({ path: `${at}.annotations`, message: `invalid annotation key "${key}"` });
      else if (isProtectedAnnotationKey(key))
        out.push({
          path: `${at}.annotations`,
          message: `annotation key ${key} is a protected key set by the operator`,
        });
  });
}

const NAMESPACE_SERVICE_ACCOUNTS = "system:serviceaccounts:";

/** Who a broad group stands for, in the words of the CRD's message. */
function broadGroupMembers(name: string): string {
  if (name === "system:authenticated") return "every authenticated user";
  if (name === "system:unauthenticated") return "every anonymous request";
  if (name === "system:masters") return "the cluster superusers";
  if (name === "system:serviceaccounts") return "every ServiceAccount in the cluster";
  return `every ServiceAccount in namespace ${name.slice(NAMESPACE_SERVICE_ACCOUNTS.length)}`;
}

/**
 * Why a Group subject may not be bound (it is one of the broad system groups, see isBroadGroup),
 * or undefined. The same words as the CRD's CEL message, so `sws validate` and admission agree.
 */
export function broadGroupProblem(name: string): string | undefined {
  if (!isBroadGroup(name)) return undefined;
  return `Group ${name} binds ${broadGroupMembers(name)}: bind named users, groups or ServiceAccounts instead`;
}

function checkRbac(spec: SecureWorkspaceSpec, out: Problem[]): void {
  (spec.rbac?.bindings ?? []).forEach((b, i) => {
    const at = `spec.rbac.bindings[${i}]`;
    if (!["admin", "edit", "view"].includes(b.role))
      out.push({ path: `${at}.role`, message: "must be one of admin, edit, view" });
    if (!Array.isArray(b.subjects) || b.subjects.length === 0)
      out.push({ path: `${at}.subjects`, message: "needs at least one subject" });
    (b.subjects ?? []).forEach((s, j) => {
      const sat = `${at}.subjects[${j}]`;
      if (!s.name) out.push({ path: `${sat}.name`, message: "is required" });
      // A RoleBinding refuses a ServiceAccount subject whose name no ServiceAccount can have.
      if (s.kind === "ServiceAccount" && s.name && !isDns1123Subdomain(s.name))
        out.push({
          path: `${sat}.name`,
          message: `"${s.name}" is no ServiceAccount name (a DNS-1123 subdomain)`,
        });
      if (s.kind === "ServiceAccount" && !s.namespace)
        out.push({ path: `${sat}.namespace`, message: "is required for a ServiceAccount" });
      if (s.kind !== "ServiceAccount" && s.namespace)
        out.push({ path: `${sat}.namespace`, message: `must be empty for a ${s.kind}` });
      const broad = s.kind === "Group" && typeof s.name === "string" ? broadGroupProblem(s.name) : undefined;
      if (broad) out.push({ path: `${sat}.name`, message: broad });
    });
  });
}

function checkMesh(spec: SecureWorkspaceSpec, out: Problem[]): void {
  const mesh = spec.serviceMesh;
  if (!mesh) return;
  if ((mesh.provider ?? "none") === "none" && mesh.authorization?.mode === "WorkspaceOnly")
    out.push({ path: "spec.serviceMesh.authorization.mode", message: "WorkspaceOnly needs a mesh provider" });
  if (mesh.controlPlaneNamespace !== undefined && !isDns1123Label(mesh.controlPlaneNamespace))
    out.push({ path: "spec.serviceMesh.controlPlaneNamespace", message: "must be a DNS-1123 label" });
  (mesh.authorization?.allowFromNamespaces ?? []).forEach((n, i) => {
    if (!isDns1123Label(n))
      out.push({
        path: `spec.serviceMesh.authorization.allowFromNamespaces[${i}]`,
        message: "must be a DNS-1123 label",
      });
  });
}

/**
 * The values each guardrail takes, in the CRD's enum order; the first is the default. The CRD
 * (crds/secureworkspace.yaml) holds the same lists, test/unit/api/validation.test.ts proves it.
 */
export const GUARDRAIL_VALUES = {
  networkPolicy: ["WithinWorkspace", "SameNamespace", "Off"],
  rbac: ["Strict", "Off"],
  mesh: ["Strict", "Off"],
} as const satisfies { readonly [K in keyof Required<GuardrailsSpec>]: ReadonlyArray<GuardrailsSpec[K]> };

/**
 * An enum is structure, which checkSchema reports too; checked here as well because a guardrail
 * value nobody knows must never reach the baseline, where it would read as neither strict nor
 * relaxed.
 */
function checkGuardrails(spec: SecureWorkspaceSpec, out: Problem[]): void {
  const guardrails: unknown = spec.guardrails;
  // null is what the server prunes and then defaults: strict, like an absent field.
  if (guardrails === undefined || guardrails === null) return;
  if (typeof guardrails !== "object" || Array.isArray(guardrails)) {
    out.push({ path: "spec.guardrails", message: "must be an object" });
    return;
  }
  for (const [field, allowed] of Object.entries(GUARDRAIL_VALUES)) {
    const value = (guardrails as Record<string, unknown>)[field];
    if (value === undefined || value === null || (allowed as readonly unknown[]).includes(value)) continue;
    // A boolean is what a YAML 1.1 parser (kubectl's) makes of a bare Off.
    const hint =
      typeof value === "boolean" ? '; write "Off" in quotes (YAML 1.1 reads a bare Off as false)' : "";
    out.push({ path: `spec.guardrails.${field}`, message: `${unsupportedValue(value, allowed)}${hint}` });
  }
}

/**
 * Semantic checks of a spec (structure is checked by the CRD schema / src/api/schema.ts).
 * Returns every problem found, each with its field path; an empty list means valid.
 */
export function validateSpec(spec: SecureWorkspaceSpec): Problem[] {
  const out: Problem[] = [];
  checkNamespaces(spec, out);
  (spec.networkPolicy?.allowIngressFrom ?? []).forEach((a, i) =>
    checkAllowance(a, `spec.networkPolicy.allowIngressFrom[${i}]`, out),
  );
  (spec.networkPolicy?.allowEgressTo ?? []).forEach((a, i) =>
    checkAllowance(a, `spec.networkPolicy.allowEgressTo[${i}]`, out),
  );
  checkRbac(spec, out);
  checkQuantities(spec.resourceQuota?.hard, "spec.resourceQuota.hard", out, isIntegerQuotaResource);
  for (const field of ["default", "defaultRequest", "max", "min"] as const)
    checkQuantities(spec.limitRange?.[field], `spec.limitRange.${field}`, out);
  checkLimitOrder(spec, out);
  checkMesh(spec, out);
  checkGuardrails(spec, out);
  return out;
}
