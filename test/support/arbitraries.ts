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
