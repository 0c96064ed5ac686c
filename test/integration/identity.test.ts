/**
 * The start-up identity check on a real API server: the operator learns its username with a
 * SelfSubjectReview, reads the installed admission policies, and refuses to start when the
 * tamper-protection policy exempts another identity (every update would be refused); without
 * policies, or with the policy config/ ships, it starts.
 *
 * The policies (config/'s, the operator's identity rewritten where a test says so) are installed
 * without their bindings: they change no request, only what the check reads. Policies another
 * suite left behind are put back afterwards.
 */
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  AdmissionregistrationV1Api,
  ApiException,
  type V1ValidatingAdmissionPolicy,
} from "@kubernetes/client-node";
import { expect } from "chai";
import { Manager } from "../../src/controller/manager.js";
import type { TestKubeClient } from "../support/test-client.js";
import { CONFINEMENT_POLICY, IdentityError, TAMPER_POLICY } from "../../src/controller/identity.js";
import { resourceOfKind } from "../../src/api/resources.js";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { adminKubeConfig } from "../harness/test-env.js";
import { writeOperatorKubeconfig } from "../support/operator-process.js";
import { waitFor } from "../support/wait.js";
import {
  adminClient,
  captureLog,
  configDocs,
  installOperatorPrerequisites,
  OPERATOR_NAMESPACE,
  OPERATOR_SA,
  operatorKubeConfig,
} from "./support/operator.js";

const OPERATOR_USER = `system:serviceaccount:${OPERATOR_NAMESPACE}:${OPERATOR_SA}`;
const OTHER_USER = "system:serviceaccount:elsewhere:secure-workspace-operator";
/** Grants the ServiceAccount `get` on the two policies, in case config/rbac.yaml does not yet. */
const READER = "sws-test-read-admission-policies";

/** The policy `name` as config/ ships it, with the operator's identity replaced by `user`. */
function shippedPolicyFor(file: string, name: string, user: string): V1ValidatingAdmissionPolicy {
  const shipped = configDocs(file).find(
    (d) => d.kind === "ValidatingAdmissionPolicy" && d.metadata.name === name,
  );
  if (!shipped) throw new Error(`config/${file} has no ${name}`);
  const text = JSON.stringify(shipped).replaceAll(`'${OPERATOR_USER}'`, `'${user}'`);
  if (!text.includes(`'${user}'`)) throw new Error(`config/${file}: ${name} does not name ${OPERATOR_USER}`);
  return JSON.parse(text) as V1ValidatingAdmissionPolicy;
}

/** The tamper policy config/ ships, its operator exemption naming `user`. */
const tamperPolicyFor = (user: string): V1ValidatingAdmissionPolicy =>
  shippedPolicyFor("admission-policy.yaml", TAMPER_POLICY, user);
/** The confinement policy config/ ships, applying to `user`. */
const confinementPolicyFor = (user: string): V1ValidatingAdmissionPolicy =>
  shippedPolicyFor("operator-confinement-policy.yaml", CONFINEMENT_POLICY, user);

/** Runs `node dist/src/main.js` as the operator's ServiceAccount until it exits (or 60 s pass). */
async function runMain(kubeconfig: string): Promise<{ code: number | null; stderr: string; ms: number }> {
  const started = Date.now();
  const child = spawn(
    process.execPath,
    [
      path.join(repoRoot(), "dist", "src", "main.js"),
      ...["--kubeconfig", kubeconfig, "--namespace", OPERATOR_NAMESPACE],
      ...["--health-port", "0", "--health-host", "127.0.0.1", "--log-format", "json"],
    ],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
  child.stdout.resume();
  const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
  const code = await new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  clearTimeout(timer);
  return { code, stderr, ms: Date.now() - started };
}

describe("the start-up identity check against the installed admission policies", function () {
  this.timeout(180_000);
  let admin: TestKubeClient;
  let policies: AdmissionregistrationV1Api;
  /** Policies present before this suite, restored after it. */
  const saved: V1ValidatingAdmissionPolicy[] = [];

  async function remove(name: string): Promise<void> {
    try {
      await policies.deleteValidatingAdmissionPolicy({ name });
    } catch (err) {
      if (!(err instanceof ApiException && err.code === 404)) throw err;
    }
    await waitFor(
      async () => {
        try {
          await policies.readValidatingAdmissionPolicy({ name });
          return false;
        } catch (err) {
          return err instanceof ApiException && err.code === 404;
        }
      },
      { message: `${name} deleted` },
    );
  }

  async function install(policy: V1ValidatingAdmissionPolicy): Promise<void> {
    await remove(policy.metadata?.name ?? "");
    await policies.createValidatingAdmissionPolicy({ body: policy });
  }

  before(async () => {
    await installOperatorPrerequisites();
    admin = adminClient();
    policies = adminKubeConfig().makeApiClient(AdmissionregistrationV1Api);
    for (const name of [TAMPER_POLICY, CONFINEMENT_POLICY]) {
      try {
        const found = await policies.readValidatingAdmissionPolicy({ name });
        saved.push({
          apiVersion: "admissionregistration.k8s.io/v1",
          kind: "ValidatingAdmissionPolicy",
          metadata: { name, ...(found.metadata?.labels ? { labels: found.metadata.labels } : {}) },
          ...(found.spec ? { spec: found.spec } : {}),
        });
      } catch (err) {
        if (!(err instanceof ApiException && err.code === 404)) throw err;
      }
      await remove(name);
    }
    const rule = {
      apiGroups: ["admissionregistration.k8s.io"],
      resources: ["validatingadmissionpolicies"],
      verbs: ["get"],
      resourceNames: [TAMPER_POLICY, CONFINEMENT_POLICY],
    };
    await admin.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: READER },
      rules: [rule],
    });
    await admin.apply({
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: READER },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: READER },
      subjects: [{ kind: "ServiceAccount", name: OPERATOR_SA, namespace: OPERATOR_NAMESPACE }],
    });
  });

  after(async () => {
    for (const name of [TAMPER_POLICY, CONFINEMENT_POLICY]) await remove(name);
    for (const policy of saved) await policies.createValidatingAdmissionPolicy({ body: policy });
    await admin.delete(resourceOfKind("ClusterRoleBinding"), READER);
    await admin.delete(resourceOfKind("ClusterRole"), READER);
    admin.close();
  });

  /** Runs an in-process Manager as the ServiceAccount until its caches sync, then stops it. */
  async function startsAndSyncs(): Promise<ReturnType<typeof captureLog>> {
    const log = captureLog();
    const manager = new Manager({
      kc: await operatorKubeConfig(),
      log,
      operatorNamespace: OPERATOR_NAMESPACE,
      resyncPeriodMs: 0,
      shutdownGraceMs: 5000,
    });
    const stop = new AbortController();
    const running = manager.run(stop.signal);
    try {
      await Promise.race([
        waitFor(() => manager.synced, { message: "caches synced" }),
        running.then(() => {
          throw new Error("the manager stopped by itself");
        }),
      ]);
    } finally {
      stop.abort();
      await running;
    }
    return log;
  }

  it("starts without policies, having learnt its username and read that none is installed", async () => {
    const log = await startsAndSyncs();
    const identity = log.lines.find((l) => l.message === "identity");
    expect(identity?.fields).to.deep.equal({
      username: OPERATOR_USER,
      policies: { [TAMPER_POLICY]: "absent", [CONFINEMENT_POLICY]: "absent" },
    });
    expect(log.lines.filter((l) => l.message === "admission policy check")).to.deep.equal([]);
  });

  it("starts under the policies config/ ships, which exempt and confine its ServiceAccount", async () => {
    await install(tamperPolicyFor(OPERATOR_USER));
    await install(confinementPolicyFor(OPERATOR_USER));
    try {
      const log = await startsAndSyncs();
      expect(log.lines.find((l) => l.message === "identity")?.fields?.["policies"]).to.deep.equal({
        [TAMPER_POLICY]: "exempts",
        [CONFINEMENT_POLICY]: "names",
      });
    } finally {
      await remove(TAMPER_POLICY);
      await remove(CONFINEMENT_POLICY);
    }
  });

  it("starts, with a warning, when the confinement policy names another identity", async () => {
    await install(confinementPolicyFor(OTHER_USER));
    try {
      const log = await startsAndSyncs();
      const warnings = log.lines.filter((l) => l.message === "admission policy check");
      expect(warnings).to.have.length(1);
      expect(String(warnings[0]?.fields?.["warning"])).to.contain(
        `${CONFINEMENT_POLICY} does not name ${OPERATOR_USER}: this operator is not confined`,
      );
    } finally {
      await remove(CONFINEMENT_POLICY);
    }
  });

  describe("with a tamper policy that exempts another identity", () => {
    before(async () => install(tamperPolicyFor(OTHER_USER)));
    after(async () => remove(TAMPER_POLICY));

    it("refuses to start in-process, before any informer, with the reason", async () => {
      const log = captureLog();
      const manager = new Manager({
        kc: await operatorKubeConfig(),
        log,
        operatorNamespace: OPERATOR_NAMESPACE,
      });
      let failure: unknown;
      try {
        await manager.run(new AbortController().signal);
      } catch (err) {
        failure = err;
      }
      expect(failure).to.be.instanceOf(IdentityError);
      expect((failure as Error).message).to.contain(
        `the installed ValidatingAdmissionPolicy ${TAMPER_POLICY} exempts ${OTHER_USER}, ` +
          `but this operator runs as ${OPERATOR_USER}: every update of a managed object would be refused`,
      );
      expect(manager.synced).to.be.false;
      expect(log.lines.map((l) => l.message)).to.not.include("caches synced");
    });

    it("makes the operator process exit non-zero at once, the message on stderr", async () => {
      const dir = mkdtempSync(path.join(tmpdir(), "sws-identity-"));
      const kubeconfig = await writeOperatorKubeconfig(path.join(dir, "kubeconfig"));
      const { code, stderr, ms } = await runMain(kubeconfig);
      expect(code, stderr).to.equal(1);
      expect(stderr).to.contain(
        `secure-workspace-operator: the installed ValidatingAdmissionPolicy ${TAMPER_POLICY} exempts ${OTHER_USER}, ` +
          `but this operator runs as ${OPERATOR_USER}`,
      );
      expect(stderr).to.contain("overlay recipe in config/kustomization.yaml");
      expect(ms, "exits fast, not after retries").to.be.below(30_000);
    });
  });
});
