/**
 * Tenant guardrails at admission (config/guardrails-policy.yaml), against the real API server and
 * real identities (TokenRequest tokens, never impersonation): a tenant ServiceAccount bound
 * ClusterRole admin in its workspace namespace, as a workspace's RoleBinding would, tries to
 * widen the baseline with its own NetworkPolicies, RoleBindings and PeerAuthentications. Each
 * refusal sits next to the legitimate object that is still accepted.
 *
 * The operator does not run here: the suite sets up what it would, with its token (namespaces
 * created by a POST carrying created-by and owner-uid, then labelled and annotated by an apply,
 * the guardrail annotations included). A relaxed guardrail is the operator rewriting an
 * annotation; the API server reads namespaces from its cache, so each such test waits until the
 * relaxation is in effect (and, after, until it is undone).
 *
 * The policies bind cluster-wide and spare nobody but the operator and the control plane, so they
 * go again in `after`, whatever happened, before anything else.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { stringify } from "yaml";
import {
  API_VERSION,
  CREATED_BY_ANNOTATION,
  GUARDRAIL_MESH_ANNOTATION,
  GUARDRAIL_NETWORK_POLICY_ANNOTATION,
  GUARDRAIL_RBAC_ANNOTATION,
  KIND,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  MESH_MTLS_ANNOTATION,
  OWNER_UID_ANNOTATION,
  WORKSPACE_LABEL,
  WORKSPACE_NAMESPACES_ANNOTATION,
} from "../../src/api/constants.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { ApiError } from "../../src/runtime/errors.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { waitFor } from "../support/wait.js";
import {
  createIfAbsent,
  GUARDRAILS_POLICY,
  installAdmissionPolicies,
  kubectl,
  operatorClient,
  refusal,
  removeAdmissionPolicies,
  serviceAccountClient,
  typeCheck,
} from "./support/admission.js";
import { installIstioCrds, uninstallIstioCrds } from "./support/istio.js";
import { adminClient, installOperatorPrerequisites, OPERATOR_NAMESPACE } from "./support/operator.js";
import { workspace } from "./support/workspaces.js";

const WS = "gr";
/** The workspace's two namespaces: the tenant is admin of GR_A. */
const GR_A = "gr-a";
const GR_B = "gr-b";
/** A namespace of no workspace. */
const OUTSIDE = "gr-outside";
const NAMESPACES = [GR_A, GR_B, OUTSIDE];
const TENANT_SA = "tenant";
/** The tenant's Role for PeerAuthentications (some distributions aggregate Istio's into admin). */
const ISTIO_ROLE = "tenant-istio";

/** What the operator writes on each namespace of the workspace, with every guardrail strict. */
const GUARDRAILS = {
  [WORKSPACE_NAMESPACES_ANNOTATION]: `${GR_A},${GR_B}`,
  [GUARDRAIL_NETWORK_POLICY_ANNOTATION]: "WithinWorkspace",
  [GUARDRAIL_RBAC_ANNOTATION]: "Strict",
  [GUARDRAIL_MESH_ANNOTATION]: "Strict",
  [MESH_MTLS_ANNOTATION]: "STRICT",
};

const NS = resourceOfKind("Namespace");
const NP = resourceOfKind("NetworkPolicy");
const RB = resourceOfKind("RoleBinding");
const PA = resourceOfKind("PeerAuthentication");

type Spec = Record<string, unknown>;

function networkPolicy(name: string, spec: Spec, namespace = GR_A): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name, namespace },
    spec: { podSelector: {}, ...spec },
  };
}

/** A policy that admits ingress from the peers given. */
function ingressFrom(name: string, ...from: Spec[]): KubeObject {
  return networkPolicy(name, { policyTypes: ["Ingress"], ingress: [{ from }] });
}

/** A policy that admits egress to the peers given. */
function egressTo(name: string, ...to: Spec[]): KubeObject {
  return networkPolicy(name, { policyTypes: ["Egress"], egress: [{ to }] });
}

function roleBinding(
  name: string,
  role: string,
  subjects: Spec[],
  kind: "ClusterRole" | "Role" = "ClusterRole",
): KubeObject {
  return {
    apiVersion: "rbac.authorization.k8s.io/v1",
    kind: "RoleBinding",
    metadata: { name, namespace: GR_A },
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind, name: role },
    ...(subjects.length > 0 ? { subjects } : {}),
  };
}

function group(name: string): Spec {
  return { apiGroup: "rbac.authorization.k8s.io", kind: "Group", name };
}

function user(name: string): Spec {
  return { apiGroup: "rbac.authorization.k8s.io", kind: "User", name };
}

function serviceAccount(namespace: string, name: string): Spec {
  return { kind: "ServiceAccount", name, namespace };
}

function peerAuthentication(name: string, spec: Spec, apiVersion = "security.istio.io/v1"): KubeObject {
  return { apiVersion, kind: "PeerAuthentication", metadata: { name, namespace: GR_A }, spec };
}

/** A workload PeerAuthentication with one port's mode (Istio requires a selector for ports). */
function portLevel(name: string, mode: string): KubeObject {
  return peerAuthentication(name, {
    selector: { matchLabels: { app: "db" } },
    mtls: { mode: "STRICT" },
    portLevelMtls: { "5432": { mode } },
  });
}

/** Asserts a 403 from the guardrails whose message includes every one of `parts`. */
function expectRefused(err: ApiError, ...parts: string[]): void {
  expect(err.statusCode, err.serverMessage).to.equal(403);
  expect(err.serverMessage).to.include(`ValidatingAdmissionPolicy '${GUARDRAILS_POLICY}'`);
  for (const part of parts) expect(err.serverMessage).to.include(part);
}

/**
 * Whether a dry-run create of `obj`, renamed `<name>-probe` (never an update of an object a test
 * made: an update that leaves the spec alone is not checked), is accepted; false: refused by the
 * guardrails; anything else throws.
 */
async function accepts(client: TestKubeClient, obj: KubeObject): Promise<boolean> {
  try {
    await client.apply(
      { ...obj, metadata: { ...obj.metadata, name: `${obj.metadata.name}-probe` } },
      { dryRun: true },
    );
    return true;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403 && err.serverMessage.includes(GUARDRAILS_POLICY))
      return false;
    throw err;
  }
}

describe("admission: tenant guardrails (real API server)", function () {
  this.timeout(240_000);
  let admin: TestKubeClient;
  let operator: TestKubeClient;
  let tenant: TestKubeClient;
  let tenantKubeconfig: string;
  let scratch: string;
  let wsUid: string;
  let istioWasServed = false;

  const ownerReferences = (): unknown[] => [
    { apiVersion: API_VERSION, kind: KIND, name: WS, uid: wsUid, controller: true, blockOwnerDeletion: true },
  ];
  const managedLabels = { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [WORKSPACE_LABEL]: WS };

  /** The operator's create of a namespace: a bare POST with its marks, then an apply of the rest. */
  async function operatorCreatesNamespace(name: string): Promise<void> {
    const marks = { [CREATED_BY_ANNOTATION]: WS, [OWNER_UID_ANNOTATION]: wsUid };
    await createIfAbsent(operator, {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, annotations: marks },
    });
    await operator.apply({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name, labels: managedLabels, annotations: { ...marks, ...GUARDRAILS } },
    });
  }

  /**
   * Runs `body` with GR_A's guardrail annotations changed as the operator would change them, once
   * `inEffect` holds (the API server's namespace cache caught up), and puts them back after,
   * waiting until `restored` holds.
   */
  async function relaxed(
    annotations: Record<string, string>,
    waits: { inEffect: () => Promise<boolean>; restored: () => Promise<boolean> },
    body: () => Promise<void>,
  ): Promise<void> {
    await operator.mergePatch(NS, GR_A, { metadata: { annotations } });
    try {
      await waitFor(waits.inEffect, {
        message: `guardrails of ${GR_A} relaxed to ${JSON.stringify(annotations)}`,
      });
      await body();
    } finally {
      await operator.mergePatch(NS, GR_A, { metadata: { annotations: GUARDRAILS } });
      await waitFor(waits.restored, { message: `guardrails of ${GR_A} restored` });
    }
  }

  before(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), "sws-guardrails-"));
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await operatorClient();
    istioWasServed = await admin.serves("security.istio.io/v1", "peerauthentications");
    await installIstioCrds();
    await admin.apply(workspace(WS, { namespaces: [{ name: GR_A }, { name: GR_B }] }));
    wsUid = (await admin.get(resourceOfKind("SecureWorkspace"), WS)).metadata.uid ?? "";
    expect(wsUid).to.not.equal("");

    await installAdmissionPolicies();

    // What the operator would have done for the workspace, under all three policies.
    await operatorCreatesNamespace(GR_A);
    await operatorCreatesNamespace(GR_B);
    await operator.apply({
      ...roleBinding("sws-admin-0", "admin", [serviceAccount(GR_A, TENANT_SA)]),
      metadata: {
        name: "sws-admin-0",
        namespace: GR_A,
        labels: managedLabels,
        ownerReferences: ownerReferences(),
      },
    });
    await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: OUTSIDE } });

    // The tenant, and its right to PeerAuthentications (granted by a cluster admin, who is held
    // by the guardrails too: a ServiceAccount of the namespace is fine).
    await createIfAbsent(admin, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: TENANT_SA, namespace: GR_A },
    });
    await admin.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: { name: ISTIO_ROLE, namespace: GR_A },
      rules: [{ apiGroups: ["security.istio.io"], resources: ["peerauthentications"], verbs: ["*"] }],
    });
    await admin.apply(roleBinding(ISTIO_ROLE, ISTIO_ROLE, [serviceAccount(GR_A, TENANT_SA)], "Role"));
    let kc;
    ({ client: tenant, kc } = await serviceAccountClient(admin, GR_A, TENANT_SA));
    tenantKubeconfig = path.join(scratch, "tenant.json");
    writeFileSync(tenantKubeconfig, kc.exportConfig(), { mode: 0o600 });
    // RBAC is served from a cache: wait until both grants are visible.
    await waitFor(async () => (await tenant.list(NP, { namespace: GR_A })).items.length >= 0, {
      message: "the tenant's admin RoleBinding in force",
    });
    await waitFor(async () => (await tenant.list(PA, { namespace: GR_A })).items.length >= 0, {
      message: "the tenant's PeerAuthentication Role in force",
    });
  });

  after(async () => {
    tenant?.close();
    try {
      // Other suites edit managed objects as cluster admin: the policies must not outlive this suite.
      await removeAdmissionPolicies();
    } finally {
      operator?.close();
      if (admin) {
        await admin.delete(resourceOfKind("SecureWorkspace"), WS);
        for (const ns of NAMESPACES) await admin.delete(NS, ns);
        // The reconcile suite expects Istio absent at first: leave the CRDs as they were.
        if (!istioWasServed) await uninstallIstioCrds();
        admin.close();
      }
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  });

  describe("NetworkPolicy (guardrail WithinWorkspace, the default)", () => {
    it("refuses an ingress rule without peers (ingress: [{}], or ports only), and accepts one from pods of the namespace", async () => {
      const allowAll = networkPolicy("allow-all-ingress", { policyTypes: ["Ingress"], ingress: [{}] });
      expectRefused(
        await refusal(tenant.create(allowAll)),
        `NetworkPolicy ${GR_A}/allow-all-ingress refused: an ingress rule without peers (from) admits traffic from everywhere, outside SecureWorkspace ${WS}`,
        "declare the access in the SecureWorkspace's spec.networkPolicy.allowIngressFrom instead",
        `namespaceSelector pinned by matchLabels kubernetes.io/metadata.name (one of ${GR_A}, ${GR_B}) or secureworkspace.io/workspace: ${WS}`,
      );
      const portsOnly = networkPolicy("port-8080", {
        policyTypes: ["Ingress"],
        ingress: [{ ports: [{ protocol: "TCP", port: 8080 }] }],
      });
      expectRefused(await refusal(tenant.create(portsOnly)), "an ingress rule without peers");

      const sameNamespace = await tenant.apply(ingressFrom("from-own-pods", { podSelector: {} }));
      expect(sameNamespace.metadata.name).to.equal("from-own-pods");
      await tenant.apply(
        networkPolicy("web-from-frontend", {
          podSelector: { matchLabels: { app: "web" } },
          policyTypes: ["Ingress"],
          ingress: [
            { from: [{ podSelector: { matchLabels: { app: "frontend" } } }], ports: [{ port: 8080 }] },
          ],
        }),
      );
    });

    it("refuses an egress rule without peers (egress: [{}]), and accepts one to pods of the namespace", async () => {
      const allowAll = networkPolicy("allow-all-egress", { policyTypes: ["Egress"], egress: [{}] });
      expectRefused(
        await refusal(tenant.create(allowAll)),
        `NetworkPolicy ${GR_A}/allow-all-egress refused: an egress rule without peers (to) admits traffic to everywhere, outside SecureWorkspace ${WS}`,
        "spec.networkPolicy.allowEgressTo instead",
      );
      // One open rule among pinned ones is enough to open everything.
      const mixed = networkPolicy("mixed-egress", {
        policyTypes: ["Egress"],
        egress: [{ to: [{ podSelector: {} }] }, { ports: [{ port: 443 }] }],
      });
      expectRefused(await refusal(tenant.create(mixed)), "an egress rule without peers (to)");
      await tenant.apply(egressTo("to-own-pods", { podSelector: {} }));
    });

    it("refuses an empty or unpinned namespaceSelector, and accepts one pinned to gr-b by name or by the workspace label", async () => {
      const refused: Array<[string, Spec]> = [
        ["any-namespace", {}],
        ["team-x", { matchLabels: { team: "x" } }],
        [
          "not-kube-system",
          {
            matchExpressions: [
              { key: "kubernetes.io/metadata.name", operator: "NotIn", values: ["kube-system"] },
            ],
          },
        ],
        [
          "named-anything",
          { matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "Exists" }] },
        ],
      ];
      for (const [name, namespaceSelector] of refused)
        expectRefused(
          await refusal(tenant.create(ingressFrom(name, { namespaceSelector }))),
          `NetworkPolicy ${GR_A}/${name} refused: an ingress namespaceSelector admits traffic from outside SecureWorkspace ${WS}`,
          "spec.networkPolicy.allowIngressFrom instead",
        );
      expectRefused(
        await refusal(tenant.create(egressTo("to-any-namespace", { namespaceSelector: {} }))),
        "an egress namespaceSelector admits traffic to outside SecureWorkspace",
        "spec.networkPolicy.allowEgressTo instead",
      );

      const byName = { matchLabels: { "kubernetes.io/metadata.name": GR_B } };
      await tenant.apply(ingressFrom("from-gr-b", { namespaceSelector: byName }));
      await tenant.apply(
        ingressFrom("from-gr-b-api", {
          namespaceSelector: byName,
          podSelector: { matchLabels: { app: "api" } },
        }),
      );
      await tenant.apply(
        ingressFrom("from-workspace", { namespaceSelector: { matchLabels: { [WORKSPACE_LABEL]: WS } } }),
      );
      await tenant.apply(egressTo("to-gr-b", { namespaceSelector: byName }));
      await tenant.apply(
        ingressFrom("from-listed", {
          namespaceSelector: {
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "In", values: [GR_A, GR_B] }],
          },
        }),
      );
      // Once pinned, any further term only narrows the selection (a label selector is an AND).
      await tenant.apply(
        ingressFrom("from-workspace-not-b", {
          namespaceSelector: {
            matchLabels: { [WORKSPACE_LABEL]: WS },
            matchExpressions: [{ key: "kubernetes.io/metadata.name", operator: "NotIn", values: [GR_B] }],
          },
        }),
      );
    });

    it("refuses a namespaceSelector pinned to gr-outside, to another workspace, or to a list reaching outside", async () => {
      const outside: Array<[string, Spec]> = [
        ["from-outside", { matchLabels: { "kubernetes.io/metadata.name": OUTSIDE } }],
        ["from-kube-system", { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }],
        ["from-other-workspace", { matchLabels: { [WORKSPACE_LABEL]: "other" } }],
        [
          "from-b-and-outside",
          {
            matchExpressions: [
              { key: "kubernetes.io/metadata.name", operator: "In", values: [GR_B, OUTSIDE] },
            ],
          },
        ],
      ];
      for (const [name, namespaceSelector] of outside)
        expectRefused(
          await refusal(tenant.create(ingressFrom(name, { namespaceSelector }))),
          `NetworkPolicy ${GR_A}/${name} refused: an ingress namespaceSelector admits traffic from outside SecureWorkspace ${WS}`,
        );
      // One foreign peer among pinned ones is refused as a whole.
      expectRefused(
        await refusal(
          tenant.create(
            ingressFrom(
              "from-b-or-outside",
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": GR_B } } },
              { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": OUTSIDE } } },
            ),
          ),
        ),
        "an ingress namespaceSelector admits traffic from outside",
      );
      // The tenant's own DNS allowance to kube-system: the baseline's sws-allow-dns already has it.
      expectRefused(
        await refusal(
          tenant.create(
            egressTo("dns", {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
              podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
            }),
          ),
        ),
        "an egress namespaceSelector admits traffic to outside",
      );
      await tenant.apply(
        ingressFrom("from-b-only", {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": GR_B } },
        }),
      );
    });

    it("refuses an ipBlock, in ingress and egress", async () => {
      expectRefused(
        await refusal(tenant.create(ingressFrom("from-anywhere", { ipBlock: { cidr: "0.0.0.0/0" } }))),
        `NetworkPolicy ${GR_A}/from-anywhere refused: an ingress ipBlock admits traffic from outside SecureWorkspace ${WS}: declare it in the SecureWorkspace's spec.networkPolicy.allowIngressFrom instead`,
      );
      expectRefused(
        await refusal(
          tenant.create(
            egressTo("to-database", { ipBlock: { cidr: "10.20.0.0/16", except: ["10.20.1.0/24"] } }),
          ),
        ),
        `NetworkPolicy ${GR_A}/to-database refused: an egress ipBlock admits traffic to outside SecureWorkspace ${WS}: declare it in the SecureWorkspace's spec.networkPolicy.allowEgressTo instead`,
      );
    });

    it("checks updates too: widening an accepted policy is refused, relabelling it is not", async () => {
      await tenant.apply(ingressFrom("grows", { podSelector: { matchLabels: { app: "a" } } }));
      const widened = await refusal(tenant.mergePatch(NP, "grows", { spec: { ingress: [{}] } }, GR_A));
      expectRefused(widened, `NetworkPolicy ${GR_A}/grows refused: an ingress rule without peers`);
      const relabelled = await tenant.mergePatch(NP, "grows", { metadata: { labels: { team: "a" } } }, GR_A);
      expect(relabelled.metadata.labels).to.include({ team: "a" });
    });
  });

  describe("NetworkPolicy guardrail relaxed by the workspace", () => {
    const pinnedToB = ingressFrom("from-gr-b-same", {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": GR_B } },
    });
    const allowAll = networkPolicy("allow-everything", {
      policyTypes: ["Ingress", "Egress"],
      ingress: [{}],
      egress: [{}],
    });

    it("SameNamespace: refuses a namespaceSelector even pinned to gr-b, and accepts podSelector-only peers", async () => {
      await relaxed(
        { [GUARDRAIL_NETWORK_POLICY_ANNOTATION]: "SameNamespace" },
        {
          inEffect: async () => !(await accepts(tenant, pinnedToB)),
          restored: () => accepts(tenant, pinnedToB),
        },
        async () => {
          expectRefused(
            await refusal(tenant.create(pinnedToB)),
            `NetworkPolicy ${GR_A}/from-gr-b-same refused: an ingress namespaceSelector admits traffic from outside SecureWorkspace ${WS}`,
            "keep its peers in this namespace: podSelector only (the workspace's NetworkPolicy guardrail is SameNamespace)",
          );
          expectRefused(await refusal(tenant.create(allowAll)), "an ingress rule without peers");
          await tenant.apply(
            ingressFrom("same-namespace-only", { podSelector: { matchLabels: { app: "a" } } }),
          );
        },
      );
    });

    it("Off: accepts an allow-all policy; once strict again it stays, may be relabelled, and cannot be changed", async () => {
      await relaxed(
        { [GUARDRAIL_NETWORK_POLICY_ANNOTATION]: "Off" },
        {
          inEffect: () => accepts(tenant, allowAll),
          restored: async () => !(await accepts(tenant, allowAll)),
        },
        async () => {
          await tenant.apply(allowAll);
          await tenant.apply(ingressFrom("from-anywhere-off", { ipBlock: { cidr: "0.0.0.0/0" } }));
        },
      );
      // Strict again: the object made under Off is still there (the operator reports it); an
      // update that leaves its spec alone passes, one that changes it is checked.
      const relabelled = await tenant.mergePatch(
        NP,
        "allow-everything",
        { metadata: { labels: { team: "a" } } },
        GR_A,
      );
      expect(relabelled.metadata.labels).to.include({ team: "a" });
      const changed = await refusal(
        tenant.mergePatch(NP, "allow-everything", { spec: { policyTypes: ["Ingress"], egress: null } }, GR_A),
      );
      expectRefused(changed, `NetworkPolicy ${GR_A}/allow-everything refused: an ingress rule without peers`);
      expect(await tenant.delete(NP, "allow-everything", GR_A)).to.equal(true);
    });
  });

  describe("RoleBinding (guardrail Strict, the default)", () => {
    it("refuses binding system:authenticated, system:unauthenticated, system:masters or the user system:anonymous", async () => {
      for (const subject of [
        group("system:authenticated"),
        group("system:unauthenticated"),
        group("system:masters"),
        user("system:anonymous"),
      ]) {
        const err = await refusal(
          tenant.create(roleBinding("view-everyone", "view", [user("alice"), subject])),
        );
        expectRefused(
          err,
          `RoleBinding ${GR_A}/view-everyone refused: ${String(subject["kind"])} ${String(subject["name"])} would grant the role to every user or ServiceAccount of that kind, far outside SecureWorkspace ${WS}`,
          "bind named users or groups, or ServiceAccounts of the workspace's namespaces, instead",
        );
      }
    });

    it("refuses binding system:serviceaccounts and system:serviceaccounts:gr-a", async () => {
      for (const name of ["system:serviceaccounts", `system:serviceaccounts:${GR_A}`]) {
        const err = await refusal(tenant.create(roleBinding("view-service-accounts", "view", [group(name)])));
        expectRefused(err, `RoleBinding ${GR_A}/view-service-accounts refused: Group ${name} would grant`);
      }
    });

    it("refuses binding a ServiceAccount of kube-system, default or the operator's namespace, also named as its user", async () => {
      const cases: Array<[Spec, string]> = [
        [serviceAccount("kube-system", "default"), "ServiceAccount kube-system/default"],
        [serviceAccount("default", "default"), "ServiceAccount default/default"],
        [
          serviceAccount(OPERATOR_NAMESPACE, "secure-workspace-operator"),
          `ServiceAccount ${OPERATOR_NAMESPACE}/secure-workspace-operator`,
        ],
        [
          user("system:serviceaccount:kube-system:replicaset-controller"),
          "User system:serviceaccount:kube-system:replicaset-controller",
        ],
      ];
      for (const [subject, named] of cases) {
        const err = await refusal(tenant.create(roleBinding("edit-system", "edit", [subject])));
        expectRefused(
          err,
          `RoleBinding ${GR_A}/edit-system refused: ${named} belongs to a protected namespace (a system namespace, the operator namespace, or one matching kube-*, default, *-system), outside SecureWorkspace ${WS}`,
          "have it declared in the SecureWorkspace's spec.rbac.bindings instead",
        );
      }
    });

    it("accepts view for a named user or group, edit for gr-a's own ServiceAccount and for one of gr-b", async () => {
      await tenant.apply(roleBinding("view-alice", "view", [user("alice"), group("team-a-auditors")]));
      await tenant.apply(roleBinding("edit-deployer", "edit", [serviceAccount(GR_A, "deployer")]));
      await tenant.apply(roleBinding("edit-deployer-b", "edit", [serviceAccount(GR_B, "deployer")]));
      // A ServiceAccount subject without namespace is one of the binding's namespace.
      await tenant.apply(roleBinding("edit-ci", "edit", [{ kind: "ServiceAccount", name: "ci" }]));
      const widened = await refusal(
        tenant.mergePatch(RB, "view-alice", { subjects: [group("system:authenticated")] }, GR_A),
      );
      expectRefused(widened, `RoleBinding ${GR_A}/view-alice refused: Group system:authenticated`);
    });

    it("keeps the tenant's self-service (MTB): its own Role, RoleBindings to it, every NetworkPolicy verb", async () => {
      // MTB-PL2-BC-OPS-3 (create roles), -OPS-2 (create role bindings: a RoleBinding without
      // subjects to the tenant's Role, dry run), -OPS-4 (network policies: can-i for each verb).
      await tenant.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "Role",
        metadata: { name: "pod-reader", namespace: GR_A },
        rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get", "list", "watch"] }],
      });
      await tenant.apply(roleBinding("pod-reader-empty", "pod-reader", [], "Role"), { dryRun: true });
      await tenant.apply(
        roleBinding("pod-reader", "pod-reader", [user("bob"), serviceAccount(GR_A, "ci")], "Role"),
      );
      for (const verb of [
        "get",
        "list",
        "watch",
        "create",
        "update",
        "patch",
        "delete",
        "deletecollection",
      ]) {
        const { stdout } = await kubectl(
          ["auth", "can-i", verb, "networkpolicies", "-n", GR_A],
          tenantKubeconfig,
        );
        expect(stdout.trim(), `can-i ${verb} networkpolicies`).to.equal("yes");
      }
      for (const resource of ["roles", "rolebindings"]) {
        const { stdout } = await kubectl(["auth", "can-i", "create", resource, "-n", GR_A], tenantKubeconfig);
        expect(stdout.trim(), `can-i create ${resource}`).to.equal("yes");
      }
    });

    it("Off: accepts a binding to system:authenticated", async () => {
      const everyone = roleBinding("view-everyone-off", "view", [group("system:authenticated")]);
      await relaxed(
        { [GUARDRAIL_RBAC_ANNOTATION]: "Off" },
        {
          inEffect: () => accepts(tenant, everyone),
          restored: async () => !(await accepts(tenant, everyone)),
        },
        async () => {
          await tenant.apply(everyone, { dryRun: true });
        },
      );
    });
  });

  describe("Istio PeerAuthentication (guardrail Strict, the default)", () => {
    it("refuses DISABLE, PERMISSIVE and a port-level PERMISSIVE under the workspace's STRICT, and accepts STRICT and UNSET", async () => {
      const refused: Array<[KubeObject, string]> = [
        [peerAuthentication("off", { mtls: { mode: "DISABLE" } }), "spec.mtls.mode DISABLE"],
        [peerAuthentication("lenient", { mtls: { mode: "PERMISSIVE" } }), "spec.mtls.mode PERMISSIVE"],
        [portLevel("db-port", "PERMISSIVE"), "spec.portLevelMtls[5432].mode PERMISSIVE"],
        [portLevel("db-port-off", "DISABLE"), "spec.portLevelMtls[5432].mode DISABLE"],
      ];
      for (const [pa, what] of refused)
        expectRefused(
          await refusal(tenant.create(pa)),
          `PeerAuthentication ${GR_A}/${pa.metadata.name} refused: ${what} is weaker than the mTLS mode STRICT of SecureWorkspace ${WS}`,
          "use STRICT, or UNSET to inherit it; change the SecureWorkspace's spec.serviceMesh.mtls instead",
        );
      await tenant.apply(peerAuthentication("strict", { mtls: { mode: "STRICT" } }));
      await tenant.apply(
        peerAuthentication("inherit", { selector: { matchLabels: { app: "web" } }, mtls: { mode: "UNSET" } }),
      );
      await tenant.apply(portLevel("db-port-strict", "STRICT"));
      const weakened = await refusal(
        tenant.mergePatch(PA, "strict", { spec: { mtls: { mode: "DISABLE" } } }, GR_A),
      );
      expectRefused(weakened, `PeerAuthentication ${GR_A}/strict refused: spec.mtls.mode DISABLE`);
    });

    it("refuses DISABLE through security.istio.io/v1beta1 too", async function () {
      // The project's fixture CRDs (a clone without ../shared) serve v1 only.
      if (!(await admin.serves("security.istio.io/v1beta1", "peerauthentications"))) this.skip();
      const file = path.join(scratch, "v1beta1.yaml");
      writeFileSync(
        file,
        stringify(peerAuthentication("off-beta", { mtls: { mode: "DISABLE" } }, "security.istio.io/v1beta1")),
      );
      const err = await kubectl(["create", "-f", file], tenantKubeconfig).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.include(GUARDRAILS_POLICY).and.to.include("spec.mtls.mode DISABLE is weaker");
    });

    it("under the workspace's PERMISSIVE: refuses DISABLE, accepts PERMISSIVE", async () => {
      const permissive = peerAuthentication("lenient-ok", { mtls: { mode: "PERMISSIVE" } });
      await relaxed(
        { [MESH_MTLS_ANNOTATION]: "PERMISSIVE" },
        {
          inEffect: () => accepts(tenant, permissive),
          restored: async () => !(await accepts(tenant, permissive)),
        },
        async () => {
          expectRefused(
            await refusal(tenant.create(peerAuthentication("off-permissive", { mtls: { mode: "DISABLE" } }))),
            `PeerAuthentication ${GR_A}/off-permissive refused: spec.mtls.mode DISABLE is weaker than the mTLS mode PERMISSIVE of SecureWorkspace ${WS}`,
          );
          expectRefused(
            await refusal(tenant.create(portLevel("db-port-permissive", "DISABLE"))),
            "spec.portLevelMtls[5432].mode DISABLE is weaker than the mTLS mode PERMISSIVE",
          );
          await tenant.apply(permissive);
        },
      );
    });

    it("guardrail Off: accepts DISABLE", async () => {
      const disabled = peerAuthentication("off-allowed", { mtls: { mode: "DISABLE" } });
      await relaxed(
        { [GUARDRAIL_MESH_ANNOTATION]: "Off" },
        {
          inEffect: () => accepts(tenant, disabled),
          restored: async () => !(await accepts(tenant, disabled)),
        },
        async () => {
          await tenant.apply(disabled);
        },
      );
    });
  });

  describe("CEL cost", () => {
    /** A workspace of 100 namespaces, the API's maximum: gr-a, gr-b and 98 more. */
    const hundred = [GR_A, GR_B, ...Array.from({ length: 98 }, (_, i) => `gr-${i}`)].sort();
    /** A policy of `rules` rules of `peers` peers each, every peer pinned by an In list of `values` names. */
    const sized = (name: string, rules: number, peers: number, values: number): KubeObject => {
      const peer = (i: number): Spec => ({
        namespaceSelector: {
          matchLabels: { team: "a" },
          matchExpressions: [
            {
              key: "kubernetes.io/metadata.name",
              operator: "In",
              values: Array.from({ length: values }, (_, j) => hundred[(i + j) % hundred.length]),
            },
          ],
        },
        podSelector: { matchLabels: { app: "api" } },
      });
      const list = Array.from({ length: rules }, (_, r) =>
        Array.from({ length: peers }, (_, p) => peer(r * peers + p)),
      );
      return networkPolicy(name, {
        policyTypes: ["Ingress", "Egress"],
        ingress: list.map((from) => ({ from })),
        egress: list.map((to) => ({ to })),
      });
    };

    it("checks a large policy in a 100-namespace workspace, and refuses (never admits) one beyond the cost limit", async () => {
      const farPeer = ingressFrom("far", {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "gr-97" } },
      });
      await relaxed(
        { [WORKSPACE_NAMESPACES_ANNOTATION]: hundred.join(",") },
        { inEffect: () => accepts(tenant, farPeer), restored: async () => !(await accepts(tenant, farPeer)) },
        async () => {
          // 20 x 10 peers, each listing 10 namespaces, both ways: 4 000 names looked up in 100.
          await tenant.apply(sized("large", 20, 10, 10), { dryRun: true });
          // 50 x 20 peers of 50 names each way: CEL's per-expression cost limit is reached. The
          // policy fails closed (failurePolicy Fail): refused, with the server's reason.
          const err = await refusal(tenant.create(sized("oversized", 50, 20, 50)));
          expect(err.serverMessage).to.include(GUARDRAILS_POLICY).and.to.include("cost limit exceeded");
        },
      );
    });
  });

  describe("who and where", () => {
    it("does not bind the operator: it writes sws-allow-dns to kube-system's DNS, which the tenant may not", async () => {
      const dns = {
        policyTypes: ["Egress"],
        egress: [
          {
            to: [
              {
                namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
              },
            ],
            ports: [
              { protocol: "UDP", port: 53 },
              { protocol: "TCP", port: 53 },
            ],
          },
        ],
      };
      const applied = await operator.apply({
        ...networkPolicy("sws-allow-dns", dns),
        metadata: {
          name: "sws-allow-dns",
          namespace: GR_A,
          labels: managedLabels,
          ownerReferences: ownerReferences(),
        },
      });
      expect(applied.metadata.labels).to.include(managedLabels);
      expectRefused(
        await refusal(tenant.create(networkPolicy("my-dns", dns))),
        "an egress namespaceSelector",
      );
    });

    it("binds a cluster admin too, and applies only in a workspace's namespaces", async () => {
      const allowAll = (namespace: string): KubeObject =>
        networkPolicy("admin-allow-all", { policyTypes: ["Ingress"], ingress: [{}] }, namespace);
      expectRefused(
        await refusal(admin.create(allowAll(GR_B))),
        `NetworkPolicy ${GR_B}/admin-allow-all refused`,
      );
      await admin.apply(allowAll(OUTSIDE));
      await admin.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "view-everyone", namespace: OUTSIDE },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [group("system:authenticated")],
      });
    });
  });

  it("type-checks cleanly on the API server against every kind it matches (Istio's included)", async () => {
    const status = await typeCheck([GUARDRAILS_POLICY]);
    expect(status[GUARDRAILS_POLICY]?.typeChecking?.expressionWarnings ?? []).to.deep.equal([]);
  });
});
