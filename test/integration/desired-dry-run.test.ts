/**
 * The baseline's output is valid Kubernetes: every desired object of every example is accepted
 * by the real API server through a server-side-apply dry run, PeerAuthentication and
 * AuthorizationPolicy against Istio's own CRD schema when ../shared provides it.
 */
import { expect } from "chai";
import type { SecureWorkspace } from "../../src/api/types.js";
import { desiredState } from "../../src/baseline/index.js";
import type { KubeObject } from "../../src/runtime/client.js";
import type { TestKubeClient } from "../support/test-client.js";
import { ApiError } from "../../src/runtime/errors.js";
import { installCrd } from "./support/crd.js";
import { installIstioCrds } from "./support/istio.js";
import { adminClient } from "./support/operator.js";
import { examples, workspace } from "./support/workspaces.js";
import { adminKubeConfig } from "../harness/test-env.js";

describe("desired objects pass the real API server's validation (dry run)", function () {
  this.timeout(120_000);
  let admin: TestKubeClient;
  let realIstio = false;

  before(async () => {
    await installCrd(adminKubeConfig());
    realIstio = (await installIstioCrds()).real;
    admin = adminClient();
  });
  after(() => admin.close());

  /**
   * Dry-runs a workspace's objects. Objects need their namespace to exist: each is dry-run in a
   * scratch namespace `dry-<name>` created for real (bare), so the real namespaces stay free for the
   * suites that run the operator (an existing namespace is adopted only once opted in).
   */
  async function dryRunAll(ws: SecureWorkspace): Promise<number> {
    const live = (await admin.apply(ws as unknown as KubeObject, {
      dryRun: true,
    })) as unknown as SecureWorkspace;
    const objects = desiredState({
      ...ws,
      metadata: { ...ws.metadata, uid: "00000000-0000-0000-0000-000000000001" },
      spec: live.spec,
    });
    let accepted = 0;
    for (const desired of objects) {
      const scratch = `dry-${desired.metadata.namespace ?? desired.metadata.name}`;
      const obj =
        desired.kind === "Namespace"
          ? { ...desired, metadata: { ...desired.metadata, name: scratch } }
          : { ...desired, metadata: { ...desired.metadata, namespace: scratch } };
      if (desired.kind === "Namespace")
        await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: scratch } });
      try {
        await admin.apply(obj, { dryRun: true });
        accepted++;
      } catch (err) {
        throw new Error(
          `${ws.metadata.name}: ${obj.kind}/${obj.metadata.name} refused: ${err instanceof ApiError ? err.serverMessage : String(err)}`,
          { cause: err },
        );
      }
    }
    return accepted;
  }

  for (const { file, ws } of examples()) {
    it(`accepts every object of examples/${file}`, async () => {
      expect(await dryRunAll(ws)).to.be.greaterThan(0);
    });
  }

  it("accepts PeerAuthentication and AuthorizationPolicy objects in every mTLS mode", async () => {
    for (const mtls of ["STRICT", "PERMISSIVE"] as const) {
      const ws = workspace(`dry-mesh-${mtls.toLowerCase()}`, {
        namespaces: [{ name: `dry-mesh-${mtls.toLowerCase()}` }],
        serviceMesh: {
          provider: "istio",
          mtls,
          authorization: { mode: "WorkspaceOnly", allowFromNamespaces: ["istio-ingress"] },
        },
      }) as unknown as SecureWorkspace;
      expect(await dryRunAll(ws)).to.be.greaterThan(0);
    }
    // Say which schema judged them, so a CI log shows whether Istio's real CRDs were used.
    console.log(`      (Istio CRDs: ${realIstio ? "Istio's own, from ../shared" : "the project's fixture"})`);
  });

  it("refuses a PeerAuthentication with an mTLS mode Istio does not know (the schema is really checked)", async () => {
    const bad: KubeObject = {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "bad", namespace: "dry-dry-mesh-strict" },
      spec: { mtls: { mode: "SOMETIMES" } },
    };
    const refused = await admin.apply(bad, { dryRun: true }).catch((e: unknown) => e);
    expect(refused).to.be.instanceOf(ApiError);
    expect((refused as ApiError).statusCode).to.equal(422);
  });
});
