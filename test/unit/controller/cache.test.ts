/** Pure helpers of the cluster cache: the cache transform and what counts as a routine change. */
import { expect } from "chai";
import { onlyStatusChanged, withoutManagedFields } from "../../../src/controller/cache.js";
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
