/** Reading an object from the API server as a SecureWorkspace: only what says it is one is taken. */
import { expect } from "chai";
import { asSecureWorkspace } from "../../../src/api/types.js";

const served = {
  apiVersion: "secureworkspace.io/v1alpha1",
  kind: "SecureWorkspace",
  metadata: { name: "team-a", uid: "u-1" },
  spec: { namespaces: [{ name: "team-a" }] },
};

describe("asSecureWorkspace", () => {
  it("takes an object whose kind, apiVersion, name and spec say it is a SecureWorkspace", () => {
    expect(asSecureWorkspace(served)?.metadata.name).to.equal("team-a");
  });

  it("refuses another kind, another version, a missing spec or a nameless object", () => {
    expect(asSecureWorkspace({ ...served, kind: "Namespace" })).to.equal(undefined);
    expect(asSecureWorkspace({ ...served, apiVersion: "secureworkspace.io/v1" })).to.equal(undefined);
    expect(asSecureWorkspace({ ...served, spec: undefined })).to.equal(undefined);
    expect(asSecureWorkspace({ ...served, spec: ["a"] })).to.equal(undefined);
    expect(asSecureWorkspace({ ...served, metadata: {} })).to.equal(undefined);
  });
});
