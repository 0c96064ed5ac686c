/**
 * Pod Security end to end: the operator labels a workspace's namespace restricted, the API server
 * refuses a privileged pod there, and a restricted pod runs on the real node with what restricted
 * promises, read from the host's /proc: seccomp filter (RuntimeDefault), no effective
 * capabilities, a non-root user, no_new_privs.
 */
import { expect } from "chai";
import type { TestKubeClient } from "../support/test-client.js";
import {
  adminClient,
  installOperatorPrerequisites,
  startOperator,
  type RunningOperator,
} from "../integration/support/operator.js";
import { deleteWorkspace, waitReady, workspace } from "../integration/support/workspaces.js";
import { containerPid, processView } from "./support/host-view.js";
import { apply, kubectl, probePod, waitPodsReady } from "./support/pods.js";

const WS = "sws-node-pod-security";
const NS = "sws-node-restricted";

describe("Pod Security on a real node", function () {
  let operator: RunningOperator;
  let admin: TestKubeClient;

  before(async function () {
    await installOperatorPrerequisites();
    admin = adminClient();
    operator = await startOperator();
    await admin.apply(workspace(WS, { namespaces: [{ name: NS }] }));
    await waitReady(admin, WS);
  });

  after(async function () {
    await deleteWorkspace(admin, WS).catch(() => undefined);
    await kubectl(["delete", "namespace", NS, "--ignore-not-found", "--wait=false"]).catch(() => "");
    await operator?.stop();
    admin?.close();
  });

  it("labels the workspace's namespace to enforce restricted", async function () {
    const labels = JSON.parse(
      await kubectl(["get", "namespace", NS, "-o", "jsonpath={.metadata.labels}"]),
    ) as Record<string, string>;
    expect(labels["pod-security.kubernetes.io/enforce"]).to.equal("restricted");
  });

  it("refuses a privileged pod at admission", async function () {
    const pod = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "privileged", namespace: NS },
      spec: {
        containers: [
          {
            name: "c",
            image: "sws.local/probe:test",
            imagePullPolicy: "Never",
            securityContext: { privileged: true },
          },
        ],
      },
    };
    const refusal = await apply([pod]).then(
      () => "",
      (err: Error) => err.message,
    );
    expect(refusal).to.match(/violates PodSecurity "restricted/);
    expect(refusal).to.include("privileged");
  });

  it("runs a restricted pod with seccomp RuntimeDefault, no capabilities, non-root, no_new_privs", async function () {
    const ref = { namespace: NS, name: "restricted" };
    await apply([probePod(ref, { serve: { tcp: [8080] } })]);
    await waitPodsReady([ref]);
    const view = processView(await containerPid(NS, "restricted", "probe"));
    expect(view.seccomp, "seccomp mode (2 = filter)").to.equal(2);
    expect(view.capEff, "effective capabilities").to.match(/^0+$/);
    expect(view.uid, "effective uid").to.equal(65532);
    expect(view.noNewPrivs, "no_new_privs").to.equal(true);
  });
});
