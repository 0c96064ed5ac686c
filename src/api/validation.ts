/**
 * Semantic validation: the rules the CRD enforces with CEL, plus what a schema can't say well
 * (quantities, CIDRs, selector keys). Runs offline in `sws validate` and in the reconciler for
 * objects stored before a rule existed, so a bad object becomes a Stalled condition, never a crash.
 */
import { isIP } from "node:net";
import { isProtectedAnnotationKey, isProtectedLabelKey, SYSTEM_NAMESPACES } from "./constants.js";
import type { Problem } from "./problems.js";
import { parseQuantity } from "./quantity.js";
import type { EgressAllowance, IngressAllowance, PolicyPort, SecureWorkspaceSpec } from "./types.js";

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const LABEL_VALUE = /^(([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?)$/;

/** Whether a string is a Kubernetes resource quantity ("500m", "2Gi", "1e3"). */
export function isQuantity(value: string): boolean {
  return parseQuantity(value) !== undefined;
}

/** Whether a string is an IPv4 or IPv6 CIDR with a prefix length in range. */
export function isCidr(value: string): boolean {
  const slash = value.indexOf("/");
  if (slash < 0) return false;
  const ip = value.slice(0, slash);
  const prefix = value.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(ip);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/** Whether a string is a DNS-1123 label (a namespace name). */
export function isDns1123Label(value: string): boolean {
  return value.length <= 63 && DNS1123_LABEL.test(value);
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

function checkLabels(labels: Record<string, string> | undefined, path: string, out: Problem[]): void {
  for (const [key, value] of Object.entries(labels ?? {})) {
    if (!isLabelKey(key)) out.push({ path: `${path}[${key}]`, message: `invalid label key "${key}"` });
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
    if (!isCidr(a.ipBlock.cidr))
      out.push({ path: `${path}.ipBlock.cidr`, message: `"${a.ipBlock.cidr}" is not a valid CIDR` });
    (a.ipBlock.except ?? []).forEach((c, i) => {
      if (!isCidr(c))
        out.push({ path: `${path}.ipBlock.except[${i}]`, message: `"${c}" is not a valid CIDR` });
    });
  }
  checkLabels(a.namespaceSelector?.matchLabels, `${path}.namespaceSelector.matchLabels`, out);
  checkLabels(a.podSelector?.matchLabels, `${path}.podSelector.matchLabels`, out);
  checkPorts(a.ports, path, out);
}

function checkQuantities(map: Record<string, string> | undefined, path: string, out: Problem[]): void {
  for (const [key, value] of Object.entries(map ?? {})) {
    if (typeof value !== "string" || !isQuantity(value))
      out.push({ path: `${path}[${key}]`, message: `"${String(value)}" is not a valid quantity` });
  }
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
    if (seen.has(ns.name)) out.push({ path: `${at}.name`, message: `duplicate namespace "${ns.name}"` });
    seen.add(ns.name);
    if ((SYSTEM_NAMESPACES as readonly string[]).includes(ns.name))
      out.push({ path: `${at}.name`, message: `"${ns.name}" is a system namespace` });
    checkLabels(ns.labels, `${at}.labels`, out);
    for (const key of Object.keys(ns.labels ?? {}))
      if (isProtectedLabelKey(key))
        out.push({ path: `${at}.labels[${key}]`, message: "is a protected key set by the operator" });
    for (const key of Object.keys(ns.annotations ?? {}))
      if (isProtectedAnnotationKey(key))
        out.push({ path: `${at}.annotations[${key}]`, message: "is a protected key set by the operator" });
  });
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
      if (s.kind === "ServiceAccount" && !s.namespace)
        out.push({ path: `${sat}.namespace`, message: "is required for a ServiceAccount" });
      if (s.kind !== "ServiceAccount" && s.namespace)
        out.push({ path: `${sat}.namespace`, message: `must be empty for a ${s.kind}` });
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
  checkQuantities(spec.resourceQuota?.hard, "spec.resourceQuota.hard", out);
  for (const field of ["default", "defaultRequest", "max", "min"] as const)
    checkQuantities(spec.limitRange?.[field], `spec.limitRange.${field}`, out);
  checkMesh(spec, out);
  return out;
}
