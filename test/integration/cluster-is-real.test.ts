/**
 * Proof that the test cluster is a real Kubernetes control plane, built from Go modules:
 * version, namespace lifecycle (kube-controller-manager), Pod Security admission, RBAC with
 * aggregated roles, and server-side apply semantics.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { KubeConfig } from "@kubernetes/client-node";
import { type KubeObject } from "../../src/runtime/client.js";
import { TestKubeClient } from "../support/test-client.js";
import { ApiError, isNotFound } from "../../src/runtime/errors.js";
import { resourceOfKind, RESOURCES } from "../../src/api/resources.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { adminKubeConfig } from "../harness/test-env.js";
import { waitFor } from "../support/wait.js";
import { FIELD_MANAGER } from "../../src/api/constants.js";

const NS = resourceOfKind("Namespace");
const CM = resourceOfKind("ConfigMap");

function podSpec(privileged: boolean): Record<string, unknown> {
  const securityContext = privileged
    ? { privileged: true }
    : {
        allowPrivilegeEscalation: false,
        runAsNonRoot: true,
        runAsUser: 1000,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
      };
  return { containers: [{ name: "app", image: "registry.example/app:1", securityContext }] };
}

async function refusal(p: Promise<unknown>): Promise<ApiError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
}

describe("the test cluster is a real Kubernetes control plane", function () {
  this.timeout(120_000);
  let admin: TestKubeClient;
  before(() => {
    admin = new TestKubeClient(adminKubeConfig(), { resources: RESOURCES, fieldManager: "cluster-test" });
  });
  after(() => admin.close());

  it("reports the Kubernetes version it was built from on /version", async () => {
    const version = (await admin.getPath("/version")) as { gitVersion: string; major: string; minor: string };
    const pinned = readFileSync(path.join(repoRoot(), "test", "apiserver", "k8s-version"), "utf8").trim();
    expect(version.gitVersion).to.equal(pinned);
    expect(`v${version.major}.${version.minor}`).to.equal(pinned.split(".").slice(0, 2).join("."));
  });

  it("creates a namespace and deletes it to completion (kube-controller-manager runs)", async () => {
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "lifecycle" } });
    await admin.create({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "c", namespace: "lifecycle" },
      data: { a: "b" },
    });
    await admin.delete(NS, "lifecycle");
    await waitFor(
      async () => {
        try {
          await admin.get(NS, "lifecycle");
          return false;
        } catch (err) {
          return isNotFound(err);
        }
      },
      { timeoutMs: 90_000, message: "namespace lifecycle gone" },
    );
  });

  it("refuses a privileged pod in a restricted namespace with the Pod Security message, and admits a compliant one", async () => {
    await admin.create({
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "psa-restricted", labels: { "pod-security.kubernetes.io/enforce": "restricted" } },
    });
    await waitFor(async () => admin.get(resourceOfKind("ServiceAccount"), "default", "psa-restricted"), {
      message: "default ServiceAccount",
    });
    const pod = (name: string, privileged: boolean): KubeObject => ({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name, namespace: "psa-restricted" },
      spec: podSpec(privileged),
    });
    const refused = await refusal(admin.create(pod("privileged", true)));
    expect(refused?.statusCode).to.equal(403);
    expect(refused?.serverMessage).to.contain('violates PodSecurity "restricted:latest"');
    expect(await refusal(admin.create(pod("compliant", false)))).to.equal(undefined);
  });

  it("denies a ServiceAccount without RBAC (403) and allows it after a RoleBinding to the aggregated view role", async () => {
    await admin.create({ apiVersion: "v1", kind: "Namespace", metadata: { name: "rbac-check" } });
    await admin.create({
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "reader", namespace: "rbac-check" },
    });
    const token = await admin.requestToken("rbac-check", "reader", 600);
    const adminKc = adminKubeConfig();
    const cluster = adminKc.getCurrentCluster();
    if (!cluster) throw new Error("no cluster");
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: "reader", token }],
      contexts: [{ name: "c", cluster: cluster.name, user: "reader" }],
      currentContext: "c",
    });
    const reader = new TestKubeClient(kc, { fieldManager: FIELD_MANAGER, resources: RESOURCES });
    try {
      const denied = await refusal(reader.list(CM, { namespace: "rbac-check" }));
      expect(denied?.statusCode).to.equal(403);
      await admin.apply({
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "reader-view", namespace: "rbac-check" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ kind: "ServiceAccount", name: "reader", namespace: "rbac-check" }],
      });
      // The view role's rules come from the clusterrole-aggregation controller.
      const list = await waitFor(async () => reader.list(CM, { namespace: "rbac-check" }), {
        message: "reader may list ConfigMaps",
      });
      expect(list.items).to.be.an("array");
    } finally {
      reader.close();
    }
  });

  it("leaves resourceVersion unchanged when the same object is server-side applied twice by one field manager", async () => {
    const cm: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "ssa-twice", namespace: "default" },
      data: { key: "value" },
    };
    const first = await admin.apply(cm);
    const second = await admin.apply(cm);
    expect(second.metadata.resourceVersion).to.equal(first.metadata.resourceVersion);
    const changed = await admin.apply({ ...cm, data: { key: "other" } });
    expect(changed.metadata.resourceVersion).to.not.equal(first.metadata.resourceVersion);
  });
});
