/**
 * config/ as a platform team installs it, against the real API server: the kustomization
 * (`kubectl apply -k config/`), the Deployment's pod under Pod Security "restricted", and tamper
 * protection by the ValidatingAdmissionPolicy while the operator runs under its own token,
 * confined by the second policy (operator-confinement-policy.yaml) to its workspaces.
 *
 * The policies bind cluster-wide and spare nobody but the operator and the control plane (not
 * system:masters, which the other suites use to play "another user"), so this suite removes them
 * again in `after`, whatever happened. The local cluster's kube-controller-manager runs as the
 * admin user, not as the exempt controller identities: while the policy is installed, a
 * namespace holding managed objects cannot be deleted here, so namespaces go after the policy.
 * The attacks on the trust boundary under other identities are in security-admission.test.ts.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { expect } from "chai";
import {
  CREATED_BY_ANNOTATION,
  MANAGED_BY_LABEL,
  MANAGED_BY_VALUE,
  NAMES,
  OWNER_UID_ANNOTATION,
  WORKSPACE_LABEL,
} from "../../src/api/constants.js";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { testEnv } from "../harness/test-env.js";
import { waitFor } from "../support/wait.js";
import {
  CONFINEMENT_POLICY,
  createIfAbsent,
  GUARDRAILS_POLICY,
  installAdmissionPolicies,
  KUBECTL,
  kubectl,
  refusal,
  removeAdmissionPolicies,
  serviceAccountClient,
  TAMPER_POLICY,
  typeCheck,
} from "./support/admission.js";
import {
  adminClient,
  configDocs,
  installOperatorPrerequisites,
  OPERATOR_NAMESPACE,
  OPERATOR_SA,
  startOperator,
  type RunningOperator,
} from "./support/operator.js";
import { deleteWorkspace, getObject, waitReady, workspace } from "./support/workspaces.js";

const POLICY = TAMPER_POLICY;
const WS = "vap-guarded";
const NS = "vap-guarded-a";
const USERS_NS = "vap-e2e-users";
const TENANT_SA = "tenant";
const EDITOR_SA = "namespace-editor";
const EDITOR_ROLE = "vap-e2e-namespace-editor";
const REFUSAL = `is managed by SecureWorkspace ${WS}: change the SecureWorkspace instead`;

const execFileAsync = promisify(execFile);

/** The Deployment's pod template as a Pod in the operator namespace. */
function templatePod(): KubeObject {
  const deployment = configDocs("deployment.yaml").find((d) => d.kind === "Deployment");
  if (!deployment) throw new Error("config/deployment.yaml holds no Deployment");
  const template = (
    deployment["spec"] as { template: { metadata: { labels: Record<string, string> }; spec: unknown } }
  ).template;
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name: "operator-template-check",
      namespace: OPERATOR_NAMESPACE,
      labels: template.metadata.labels,
    },
    spec: template.spec,
  };
}

describe("deployment manifests and tamper protection (real API server)", function () {
  this.timeout(180_000);
  let admin: TestKubeClient;

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
  });

  after(() => admin?.close());

  describe("config/ kustomization", () => {
    it("passes `kubectl apply -k config/ --dry-run=server` with every object and no Pod Security warning", async () => {
      const { stdout, stderr } = await kubectl(["apply", "-k", "config/", "--dry-run=server"]);
      for (const object of [
        "namespace/secure-workspace-system",
        "customresourcedefinition.apiextensions.k8s.io/secureworkspaces.secureworkspace.io",
        "clusterrole.rbac.authorization.k8s.io/secure-workspace-operator",
        "deployment.apps/secure-workspace-operator",
        "poddisruptionbudget.policy/secure-workspace-operator",
        "service/secure-workspace-operator-metrics",
        `validatingadmissionpolicy.admissionregistration.k8s.io/${POLICY}`,
        `validatingadmissionpolicybinding.admissionregistration.k8s.io/${POLICY}`,
        `validatingadmissionpolicy.admissionregistration.k8s.io/${CONFINEMENT_POLICY}`,
        `validatingadmissionpolicybinding.admissionregistration.k8s.io/${CONFINEMENT_POLICY}`,
        `validatingadmissionpolicy.admissionregistration.k8s.io/${GUARDRAILS_POLICY}`,
        `validatingadmissionpolicybinding.admissionregistration.k8s.io/${GUARDRAILS_POLICY}`,
      ])
        expect(stdout).to.match(new RegExp(`^${object.replace(/\./g, "\\.")} .*\\(server dry run\\)$`, "m"));
      // The operator namespace warns at "restricted": a non-compliant pod template would say so here.
      expect(stderr).to.not.match(/PodSecurity|would violate/);
    });

    it("applies the CRD and the RBAC for real, and the ServiceAccount gets least privilege", async () => {
      await kubectl([
        "apply",
        "--server-side",
        "--force-conflicts",
        "--field-manager=e2e-kubectl",
        "-f",
        "crds/secureworkspace.yaml",
        "-f",
        "config/namespace.yaml",
        "-f",
        "config/rbac.yaml",
      ]);
      await kubectl([
        "wait",
        "--for=condition=Established",
        "crd/secureworkspaces.secureworkspace.io",
        "--timeout=60s",
      ]);
      const as = `--as=system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}`;
      // `kubectl auth can-i` answers "yes" (exit 0) or "no" (exit 1).
      const canI = async (...args: string[]): Promise<string> => {
        const cmd = ["--kubeconfig", testEnv().kubeconfigPath, "auth", "can-i", as, ...args];
        return execFileAsync(KUBECTL, cmd).then(
          ({ stdout }) => stdout.trim(),
          (err: { code?: number; stdout?: string }) => {
            if (err.code === 1 && err.stdout?.trim() === "no") return "no";
            throw err;
          },
        );
      };
      expect(await canI("patch", "secureworkspaces.secureworkspace.io/status")).to.equal("yes");
      expect(await canI("create", "networkpolicies.networking.k8s.io", "-n", "any-team")).to.equal("yes");
      expect(await canI("update", "leases.coordination.k8s.io", "-n", OPERATOR_NAMESPACE)).to.equal("yes");
      expect(await canI("update", "leases.coordination.k8s.io", "-n", "kube-system")).to.equal("no");
      expect(await canI("get", "secrets", "-n", "any-team")).to.equal("no");
      expect(await canI("bind", "clusterroles.rbac.authorization.k8s.io/cluster-admin")).to.equal("no");
      expect(await canI("escalate", "clusterroles.rbac.authorization.k8s.io/admin")).to.equal("no");
      // It reads the two policies that exempt and confine it (a start-up check), and no others.
      const vap = "validatingadmissionpolicies.admissionregistration.k8s.io";
      expect(await canI("get", `${vap}/${POLICY}`)).to.equal("yes");
      expect(await canI("get", `${vap}/${CONFINEMENT_POLICY}`)).to.equal("yes");
      expect(await canI("get", `${vap}/another-policy`)).to.equal("no");
      expect(await canI("list", vap)).to.equal("no");
      expect(await canI("update", `${vap}/${POLICY}`)).to.equal("no");
    });

    it("runs the Deployment's pod under Pod Security restricted in the operator namespace", async () => {
      const ns = await admin.get(resourceOfKind("Namespace"), OPERATOR_NAMESPACE);
      expect(ns.metadata.labels).to.include({ "pod-security.kubernetes.io/enforce": "restricted" });
      const pod = templatePod();
      const accepted = await admin.apply(pod, { dryRun: true });
      expect(accepted.metadata.namespace).to.equal(OPERATOR_NAMESPACE);
      // The control: the same pod, one setting weaker, is refused by Pod Security admission.
      const spec = structuredClone(pod["spec"]) as {
        containers: Array<{ securityContext: Record<string, unknown> }>;
      };
      const container = spec.containers[0];
      if (!container) throw new Error("the pod template has no container");
      container.securityContext["allowPrivilegeEscalation"] = true;
      const err = await refusal(admin.apply({ ...pod, spec }, { dryRun: true }));
      expect(err.statusCode).to.equal(403);
      expect(err.serverMessage).to.match(/violates PodSecurity "restricted/);
    });
  });

  describe("tamper protection and operator confinement (ValidatingAdmissionPolicies)", () => {
    let operator: RunningOperator | undefined;
    let tenant: TestKubeClient;
    let tenantKc: KubeConfig;
    let editor: TestKubeClient;
    let scratch: string;

    before(async () => {
      scratch = mkdtempSync(path.join(tmpdir(), "sws-vap-"));
      // Both policies, as `kubectl apply -k config/` installs them: the operator below runs confined.
      await installAdmissionPolicies();

      operator = await startOperator({ workers: 2 });
      await waitFor(() => operator?.manager.synced, { message: "operator caches synced" });
      await admin.apply(
        workspace(WS, {
          namespaces: [{ name: NS }],
          rbac: {
            bindings: [
              { role: "admin", subjects: [{ kind: "ServiceAccount", name: TENANT_SA, namespace: NS }] },
            ],
          },
          resourceQuota: { hard: { pods: "20" } },
          limitRange: { default: { cpu: "500m", memory: "512Mi" } },
        }),
      );
      await waitReady(admin, WS);

      // The tenant: admin of its namespace through the workspace's own RoleBinding.
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: TENANT_SA, namespace: NS },
      });
      ({ client: tenant, kc: tenantKc } = await serviceAccountClient(admin, NS, TENANT_SA));
      // A cluster user who may edit Namespaces by RBAC, but is not the operator.
      await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: USERS_NS } });
      await createIfAbsent(admin, {
        apiVersion: "v1",
        kind: "ServiceAccount",
        metadata: { name: EDITOR_SA, namespace: USERS_NS },
      });
      await admin.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: EDITOR_ROLE },
        rules: [{ apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "patch", "update"] }],
      });
      await admin.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRoleBinding",
        metadata: { name: EDITOR_ROLE },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: EDITOR_ROLE },
        subjects: [{ kind: "ServiceAccount", name: EDITOR_SA, namespace: USERS_NS }],
      });
      ({ client: editor } = await serviceAccountClient(admin, USERS_NS, EDITOR_SA));
    });

    after(async () => {
      tenant?.close();
      editor?.close();
      try {
        if (operator) {
          if ((await getObject(admin, "SecureWorkspace", undefined, WS)) !== undefined)
            await deleteWorkspace(admin, WS);
          await operator.stop();
          const forbidden = operator.log.lines.filter((l) =>
            JSON.stringify(l.fields ?? {}).includes(": 403 "),
          );
          expect(forbidden, "the operator was refused (RBAC or an admission policy)").to.deep.equal([]);
        }
      } finally {
        // Other suites edit managed objects as cluster admin: the policies must not outlive this suite.
        await removeAdmissionPolicies();
        for (const ns of [USERS_NS, NS]) await admin.delete(resourceOfKind("Namespace"), ns);
        await admin.delete(resourceOfKind("ClusterRoleBinding"), EDITOR_ROLE);
        await admin.delete(resourceOfKind("ClusterRole"), EDITOR_ROLE);
        rmSync(scratch, { recursive: true, force: true });
      }
    });

    it("type-checks cleanly on the API server against every kind it matches", async () => {
      const status = await typeCheck([POLICY, CONFINEMENT_POLICY]);
      for (const policy of [POLICY, CONFINEMENT_POLICY])
        expect(status[policy]?.typeChecking?.expressionWarnings ?? [], policy).to.deep.equal([]);
    });

    it("lets the confined operator create its namespace: created-by and owner-uid from its POST, labels from its apply", async () => {
      const ns = await admin.get(resourceOfKind("Namespace"), NS);
      const ws = await admin.get(resourceOfKind("SecureWorkspace"), WS);
      expect(ns.metadata.annotations).to.include({
        [CREATED_BY_ANNOTATION]: WS,
        [OWNER_UID_ANNOTATION]: ws.metadata.uid,
      });
      expect(ns.metadata.labels).to.include({
        [MANAGED_BY_LABEL]: MANAGED_BY_VALUE,
        [WORKSPACE_LABEL]: WS,
        "pod-security.kubernetes.io/enforce": "restricted",
      });
    });

    it("lets the tenant manage its own NetworkPolicies (RBAC allows it: refusals below are the policy's)", async () => {
      const own: KubeObject = {
        apiVersion: "networking.k8s.io/v1",
        kind: "NetworkPolicy",
        metadata: { name: "team-own", namespace: NS },
        spec: { podSelector: {}, policyTypes: ["Ingress"] },
      };
      await tenant.apply(own);
      await tenant.apply({ ...own, metadata: { ...own.metadata, labels: { team: "a" } } });
      expect(await tenant.delete(resourceOfKind("NetworkPolicy"), "team-own", NS)).to.equal(true);
    });

    it("refuses the tenant deleting sws-default-deny, with the policy's message", async () => {
      const err = await refusal(tenant.delete(resourceOfKind("NetworkPolicy"), NAMES.defaultDeny, NS));
      expect(err.statusCode).to.equal(403);
      expect(err.serverMessage)
        .to.include(POLICY)
        .and.to.include(`NetworkPolicy ${NS}/${NAMES.defaultDeny} ${REFUSAL}`);
      expect(await getObject(admin, "NetworkPolicy", NS, NAMES.defaultDeny)).to.not.equal(undefined);
    });

    it("refuses the tenant deleting every NetworkPolicy at once (a DELETE collection)", async () => {
      const kubeconfig = path.join(scratch, "tenant.json");
      writeFileSync(kubeconfig, tenantKc.exportConfig(), { mode: 0o600 });
      const err = await kubectl(
        ["delete", "--raw", `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`],
        kubeconfig,
      ).then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message).to.include(REFUSAL);
      expect(await getObject(admin, "NetworkPolicy", NS, NAMES.defaultDeny)).to.not.equal(undefined);
    });

    it("refuses the tenant editing or unlabelling its managed RoleBinding", async () => {
      const bindings = await admin.list(resourceOfKind("RoleBinding"), {
        namespace: NS,
        labelSelector: `secureworkspace.io/workspace=${WS}`,
      });
      const binding = bindings.items[0];
      expect(binding, "the workspace's admin RoleBinding").to.not.equal(undefined);
      if (!binding) return;
      const addSubject = {
        subjects: [
          ...((binding["subjects"] as unknown[]) ?? []),
          { kind: "User", apiGroup: "rbac.authorization.k8s.io", name: "mallory" },
        ],
      };
      const edit = await refusal(
        tenant.mergePatch(resourceOfKind("RoleBinding"), binding.metadata.name, addSubject, NS),
      );
      expect(edit.serverMessage).to.include(`RoleBinding ${NS}/${binding.metadata.name} ${REFUSAL}`);
      const unlabel = { metadata: { labels: { "app.kubernetes.io/managed-by": null } } };
      const escape = await refusal(
        tenant.mergePatch(resourceOfKind("RoleBinding"), binding.metadata.name, unlabel, NS),
      );
      expect(escape.serverMessage).to.include(REFUSAL);
    });

    it("refuses a namespace editor changing the Pod Security label, with the policy's message", async () => {
      const patch = { metadata: { labels: { "pod-security.kubernetes.io/enforce": "privileged" } } };
      const err = await refusal(editor.mergePatch(resourceOfKind("Namespace"), NS, patch));
      expect(err.statusCode).to.equal(403);
      expect(err.serverMessage)
        .to.include(POLICY)
        .and.to.include(`Namespace ${NS} ${REFUSAL} (protected labels: pod-security.kubernetes.io/enforce)`);
      const ns = await admin.get(resourceOfKind("Namespace"), NS);
      expect(ns.metadata.labels).to.include({ "pod-security.kubernetes.io/enforce": "restricted" });
    });

    it("refuses removing the ownership label or setting a protected annotation on the namespace", async () => {
      const unown = {
        metadata: { labels: { "app.kubernetes.io/managed-by": null, "secureworkspace.io/workspace": null } },
      };
      const err = await refusal(editor.mergePatch(resourceOfKind("Namespace"), NS, unown));
      expect(err.serverMessage).to.match(
        /protected labels: (app\.kubernetes\.io\/managed-by, secureworkspace\.io\/workspace|secureworkspace\.io\/workspace, app\.kubernetes\.io\/managed-by)\)/,
      );
      const inject = { metadata: { annotations: { "linkerd.io/inject": "disabled" } } };
      const ann = await refusal(editor.mergePatch(resourceOfKind("Namespace"), NS, inject));
      expect(ann.serverMessage).to.include(`${REFUSAL} (protected annotations: linkerd.io/inject)`);
    });

    it("lets the namespace editor change the namespace's other labels and annotations", async () => {
      const patch = {
        metadata: { labels: { "cost-center": "42" }, annotations: { "team.example/owner": "a" } },
      };
      const ns = await editor.mergePatch(resourceOfKind("Namespace"), NS, patch);
      expect(ns.metadata.labels).to.include({
        "cost-center": "42",
        "pod-security.kubernetes.io/enforce": "restricted",
      });
    });

    it("spares nobody else: a cluster admin (system:masters) is refused too", async () => {
      const err = await refusal(admin.delete(resourceOfKind("NetworkPolicy"), NAMES.defaultDeny, NS));
      expect(err.statusCode).to.equal(403);
      expect(err.serverMessage).to.include(REFUSAL);
    });

    it("lets the operator's own ServiceAccount update, prune and relabel what it manages", async () => {
      // Stricter-to-looser spec: the operator rewrites the namespace's PSA labels (UPDATE) and
      // deletes the quota and a NetworkPolicy the spec no longer asks for (DELETE).
      await admin.apply(
        workspace(WS, {
          namespaces: [{ name: NS }],
          podSecurity: { enforce: "baseline" },
          networkPolicy: { allowDNS: false },
          rbac: {
            bindings: [
              { role: "admin", subjects: [{ kind: "ServiceAccount", name: TENANT_SA, namespace: NS }] },
            ],
          },
          limitRange: { default: { cpu: "500m", memory: "512Mi" } },
        }),
      );
      await waitReady(admin, WS);
      await waitFor(
        async () =>
          (await admin.get(resourceOfKind("Namespace"), NS)).metadata.labels?.[
            "pod-security.kubernetes.io/enforce"
          ] === "baseline",
        {
          message: "PSA label rewritten by the operator",
        },
      );
      await waitFor(async () => (await getObject(admin, "ResourceQuota", NS, NAMES.quota)) === undefined, {
        message: "sws-quota pruned",
      });
      await waitFor(async () => (await getObject(admin, "NetworkPolicy", NS, NAMES.allowDns)) === undefined, {
        message: "sws-allow-dns pruned",
      });
    });

    it("lets the operator clean up when the workspace is deleted: managed objects gone, namespace released", async () => {
      await deleteWorkspace(admin, WS);
      const managed = await admin.list(resourceOfKind("NetworkPolicy"), {
        namespace: NS,
        labelSelector: "app.kubernetes.io/managed-by=secure-workspace-operator",
      });
      expect(managed.items.map((o) => o.metadata.name)).to.deep.equal([]);
      const ns = await admin.get(resourceOfKind("Namespace"), NS);
      expect(ns.metadata.labels ?? {}).to.not.have.any.keys(
        "app.kubernetes.io/managed-by",
        "secureworkspace.io/workspace",
        "pod-security.kubernetes.io/enforce",
      );
      // The team's own label survived the release.
      expect(ns.metadata.labels).to.include({ "cost-center": "42" });
    });
  });
});
