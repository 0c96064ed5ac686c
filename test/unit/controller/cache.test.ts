/** Pure helpers of the cluster cache: the cache transform and what counts as a routine change. */
import { expect } from "chai";
import { keptOf, onlyStatusChanged, withoutManagedFields } from "../../../src/controller/cache.js";
import type { KubeObject } from "../../../src/runtime/client.js";

describe("cluster cache helpers", () => {
  it("drops managedFields from cached objects and keeps everything else", () => {
    const obj: KubeObject = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", labels: { a: "b" }, managedFields: [{ manager: "m" }] },
      data: { k: "v" },
    };
    expect(withoutManagedFields(obj)).to.deep.equal({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "x", labels: { a: "b" } },
      data: { k: "v" },
    });
  });
});

describe("onlyStatusChanged", () => {
  const quota = (rv: string, extra: Record<string, unknown>): KubeObject => ({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name: "sws-quota", namespace: "a", resourceVersion: rv, labels: { team: "a" } },
    spec: { hard: { pods: "10" } },
    ...extra,
  });

  it("is true when only status and resourceVersion moved (the quota controller's usage update)", () => {
    expect(onlyStatusChanged(quota("1", {}), quota("2", { status: { used: { pods: "1" } } }))).to.be.true;
  });

  it("is false when spec or metadata changed: that may be drift", () => {
    expect(onlyStatusChanged(quota("1", {}), quota("2", { spec: { hard: { pods: "99" } } }))).to.be.false;
    const relabelled = quota("2", {});
    relabelled.metadata.labels = {};
    expect(onlyStatusChanged(quota("1", {}), relabelled)).to.be.false;
  });
});

describe("keptOf (what the cache keeps of an object of a managed kind)", () => {
  const quota = (name: string, metadata: Partial<KubeObject["metadata"]>): KubeObject => ({
    apiVersion: "v1",
    kind: "ResourceQuota",
    metadata: { name, namespace: "team-a", uid: "q-1", resourceVersion: "7", ...metadata },
    spec: { hard: { pods: "10" } },
  });
  const workspaceController = {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    name: "team",
    uid: "ws-1",
    controller: true,
  };

  it("keeps the operator's own objects whole: by its label, or at its name with a workspace as controller", () => {
    const labelled = quota("anything", {
      labels: { "app.kubernetes.io/managed-by": "secure-workspace-operator" },
    });
    expect(keptOf(labelled)).to.equal(labelled);
    const unlabelled = quota("sws-quota", { ownerReferences: [workspaceController] });
    expect(keptOf(unlabelled)).to.equal(unlabelled); // a stripped label is drift, compared field by field
  });

  it("keeps of someone else's object at the operator's name only what the conflict report needs", () => {
    const owner = { apiVersion: "v1", kind: "ConfigMap", name: "mine", uid: "c-1", controller: true };
    const kept = keptOf(
      quota("sws-quota", { labels: { team: "a" }, ownerReferences: [owner], annotations: { a: "b" } }),
    );
    expect(kept).to.deep.equal({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: {
        name: "sws-quota",
        namespace: "team-a",
        uid: "q-1",
        resourceVersion: "7",
        labels: { team: "a" },
        ownerReferences: [owner],
      },
    });
  });

  it("keeps the rules of others' policies (the posture reads them) but not their annotations", () => {
    const policy: KubeObject = {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-all", namespace: "team-a", annotations: { big: "x".repeat(1000) } },
      spec: { podSelector: {}, ingress: [{}] },
    };
    expect(keptOf(policy)).to.deep.equal({ ...policy, metadata: { name: "allow-all", namespace: "team-a" } });
  });

  it("reduces others' objects of other kinds to their identity", () => {
    expect(keptOf(quota("team-quota", { labels: { team: "a" } }))).to.deep.equal({
      apiVersion: "v1",
      kind: "ResourceQuota",
      metadata: { name: "team-quota", namespace: "team-a", uid: "q-1", resourceVersion: "7" },
    });
  });
});
