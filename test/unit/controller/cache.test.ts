/** Pure helpers of the cluster cache: object ordering by resourceVersion, the cache transform, echoes. */
import { expect } from "chai";
import {
  deliveredAlready,
  isEchoOf,
  newer,
  newerOrSame,
  onlyStatusChanged,
  withoutManagedFields,
} from "../../../src/controller/cache.js";
import type { KubeObject } from "../../../src/runtime/client.js";

const at = (resourceVersion: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "x", resourceVersion },
});

describe("cluster cache helpers", () => {
  it("orders integer resourceVersions numerically, not as text", () => {
    expect(newerOrSame(at("10"), "9")).to.be.true;
    expect(newer(at("10"), "9")).to.be.true;
    expect(newerOrSame(at("9"), "10")).to.be.false;
    expect(newer(at("10"), "10")).to.be.false;
    expect(newerOrSame(at("10"), "10")).to.be.true;
  });

  it("assumes no order between opaque resourceVersions, only equality", () => {
    expect(newerOrSame(at("abc"), "abc")).to.be.true;
    expect(newerOrSame(at("abd"), "abc")).to.be.false;
  });

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

describe("isEchoOf", () => {
  it("calls the event of the very version the operator's write returned an echo", () => {
    expect(isEchoOf({ resourceVersion: "10", object: at("10") }, "update", at("10"))).to.be.true;
    expect(isEchoOf({ resourceVersion: "10", object: at("10") }, "add", at("10"))).to.be.true;
  });

  it("does not call a later version an echo: someone else wrote after the operator", () => {
    expect(isEchoOf({ resourceVersion: "10", object: at("10") }, "update", at("11"))).to.be.false;
  });

  it("does not call a delete of an object the operator wrote an echo", () => {
    expect(isEchoOf({ resourceVersion: "10", object: at("10") }, "delete", at("10"))).to.be.false;
  });

  it("calls the delete of an object the operator deleted an echo, and a re-creation not", () => {
    expect(isEchoOf({ resourceVersion: "10", object: undefined }, "delete", at("10"))).to.be.true;
    expect(isEchoOf({ resourceVersion: "10", object: undefined }, "add", at("12"))).to.be.false;
  });
});

describe("deliveredAlready (whether a write still needs remembering)", () => {
  it("is true when the watch delivered the written version, or a newer one, before the answer came", () => {
    expect(deliveredAlready(at("10"), undefined, "10", false)).to.be.true;
    expect(deliveredAlready(at("11"), undefined, "10", false)).to.be.true;
  });

  it("is false while the cache holds an older version or nothing yet: reads need the write", () => {
    expect(deliveredAlready(at("9"), undefined, "10", false)).to.be.false;
    expect(deliveredAlready(undefined, undefined, "10", false)).to.be.false;
    expect(deliveredAlready(at("abc"), undefined, "abd", false)).to.be.false;
  });

  it("is true for a delete whose object the watch already removed", () => {
    expect(deliveredAlready(undefined, undefined, "10", true)).to.be.true;
  });

  it("is false for a delete while the cache still shows the object, or an own write of it is pending", () => {
    expect(deliveredAlready(at("10"), undefined, "10", true)).to.be.false;
    expect(deliveredAlready(undefined, { resourceVersion: "10", object: at("10") }, "10", true)).to.be.false;
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
