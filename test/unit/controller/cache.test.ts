/** Pure helpers of the cluster cache: object ordering by resourceVersion and the cache transform. */
import { expect } from "chai";
import { newer, newerOrSame, withoutManagedFields } from "../../../src/controller/cache.js";
import type { KubeObject } from "../../../src/kube/client.js";

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
