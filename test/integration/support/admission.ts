/**
 * The admission policies of config/ against the real API server: installing and removing them
 * (waiting until the server enforces or stops enforcing them: it loads policies asynchronously),
 * clients that authenticate as real identities, and the server's type check of the policies.
 *
 * The policies bind cluster-wide and spare nobody but the operator (and the control plane), not
 * system:masters, which the other suites use to play "another user": a suite that installs them
 * removes them again in `after`, whatever happened.
 */
import { execFile, spawn } from "node:child_process";
import { promisify } from "node:util";
import { KubeConfig } from "@kubernetes/client-node";
import { type KubeObject } from "../../../src/runtime/client.js";
import { TestKubeClient } from "../../support/test-client.js";
import { ApiError } from "../../../src/runtime/errors.js";
import { resourceOfKind, RESOURCES } from "../../../src/api/resources.js";
import { controlPlaneBinaries, repoRoot } from "../../harness/control-plane-binaries.js";
import { adminKubeConfig, testEnv } from "../../harness/test-env.js";
import { waitFor } from "../../support/wait.js";
import { adminClient, operatorKubeConfig } from "./operator.js";
import { FIELD_MANAGER } from "../../../src/api/constants.js";

export const KUBECTL = process.env["KUBECTL"] ?? "kubectl";
export const TAMPER_POLICY = "secure-workspace-tamper-protection";
export const CONFINEMENT_POLICY = "secure-workspace-operator-confinement";
export const GUARDRAILS_POLICY = "secure-workspace-guardrails";
/** The files under config/ that hold the policies and their bindings. */
export const POLICY_FILES = [
  "config/admission-policy.yaml",
  "config/operator-confinement-policy.yaml",
  "config/guardrails-policy.yaml",
];
/**
 * A namespace that only serves to tell whether the guardrails are in force (they apply only in
 * namespaces labelled with a workspace, a label only the operator may set): created by the
 * operator's token when the policies are installed, deleted when they are removed.
 */
export const GUARDRAILS_PROBE_NAMESPACE = "sws-e2e-guardrails-probe";

const execFileAsync = promisify(execFile);

/** Runs kubectl against the test cluster (admin unless another kubeconfig is given). */
export async function kubectl(
  args: string[],
  kubeconfig = testEnv().kubeconfigPath,
): Promise<{ stdout: string; stderr: string }> {
  try {
    return await execFileAsync(KUBECTL, ["--kubeconfig", kubeconfig, ...args], {
      cwd: repoRoot(),
      maxBuffer: 32 * 1024 * 1024,
      timeout: 120_000,
    });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    throw new Error(`kubectl ${args.join(" ")} failed: ${e.stderr || e.message}\n${e.stdout ?? ""}`, {
      cause: err,
    });
  }
}

/** The ApiError a request was refused with (fails the test when it was accepted). */
export async function refusal(request: Promise<unknown>): Promise<ApiError> {
  try {
    await request;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error("expected the API server to refuse the request, but it was accepted");
}

/** Creates an object unless it exists (a reused `make cluster` may hold it from an earlier run). */
export async function createIfAbsent(client: TestKubeClient, obj: KubeObject): Promise<void> {
  try {
    await client.create(obj);
  } catch (err) {
    if (!(err instanceof ApiError && err.statusCode === 409)) throw err;
  }
}

/** A kubeconfig for one bearer token against the test cluster. */
function tokenKubeConfig(user: string, token: string): KubeConfig {
  const cluster = adminKubeConfig().getCurrentCluster();
  if (!cluster) throw new Error("admin kubeconfig has no cluster");
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [cluster],
    users: [{ name: user, token }],
    contexts: [{ name: user, cluster: cluster.name, user }],
    currentContext: user,
  });
  return kc;
}

/** A client that authenticates as a ServiceAccount (a real TokenRequest token), and its kubeconfig. */
export async function serviceAccountClient(
  admin: TestKubeClient,
  namespace: string,
  name: string,
): Promise<{ client: TestKubeClient; kc: KubeConfig }> {
  const token = await admin.requestToken(namespace, name, 3600);
  const kc = tokenKubeConfig(`${namespace}-${name}`, token);
  return { client: new TestKubeClient(kc, { resources: RESOURCES, fieldManager: `e2e-${name}` }), kc };
}

/** Whether `request` is refused by `policy` (403 naming it); false when it was accepted. */
async function refusedBy(policy: string, request: Promise<unknown>): Promise<boolean> {
  try {
    await request;
    return false;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 403 && err.serverMessage.includes(policy)) return true;
    throw err;
  }
}

/** Which policies are in force (guardrails: undefined while the probe namespace is absent). */
export interface PoliciesInForce {
  tamper: boolean;
  confinement: boolean;
  guardrails?: boolean;
}

/**
 * Whether each policy is in force, probed with dry runs nothing else refuses: a cluster admin
 * creating a namespace that claims a workspace (tamper protection), the operator binding "view"
 * in kube-system (confinement), a cluster admin allowing all ingress in the guardrails' probe
 * namespace (guardrails; not probed while that namespace is absent or terminating).
 */
export async function policiesInForce(
  admin: TestKubeClient,
  operator: TestKubeClient,
): Promise<PoliciesInForce> {
  const tamper = await refusedBy(
    TAMPER_POLICY,
    admin.apply(
      {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "sws-e2e-policy-probe", labels: { "secureworkspace.io/workspace": "probe" } },
      },
      { dryRun: true },
    ),
  );
  const confinement = await refusedBy(
    CONFINEMENT_POLICY,
    operator.apply(
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "RoleBinding",
        metadata: { name: "sws-e2e-policy-probe", namespace: "kube-system" },
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
        subjects: [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "sws-e2e-probe" }],
      },
      { dryRun: true },
    ),
  );
  const guardrails = (await probeNamespaceReady(admin))
    ? await refusedBy(
        GUARDRAILS_POLICY,
        admin.apply(
          {
            apiVersion: "networking.k8s.io/v1",
            kind: "NetworkPolicy",
            metadata: { name: "guardrails-probe", namespace: GUARDRAILS_PROBE_NAMESPACE },
            spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{}] },
          },
          { dryRun: true },
        ),
      )
    : undefined;
  return { tamper, confinement, ...(guardrails === undefined ? {} : { guardrails }) };
}

/** Whether the guardrails' probe namespace exists and is not terminating. */
async function probeNamespaceReady(admin: TestKubeClient): Promise<boolean> {
  try {
    const ns = await admin.get(resourceOfKind("Namespace"), GUARDRAILS_PROBE_NAMESPACE);
    return ns.metadata.deletionTimestamp === undefined;
  } catch (err) {
    if (err instanceof ApiError && err.statusCode === 404) return false;
    throw err;
  }
}

/**
 * Creates the guardrails' probe namespace as the operator would (its token, the workspace label
 * only: nothing the operator's reconciler would take for its own), after a previous one is gone.
 */
async function createProbeNamespace(admin: TestKubeClient, operator: TestKubeClient): Promise<void> {
  const ns = resourceOfKind("Namespace");
  await waitFor(
    async () => {
      try {
        return (await admin.get(ns, GUARDRAILS_PROBE_NAMESPACE)).metadata.deletionTimestamp === undefined;
      } catch (err) {
        if (err instanceof ApiError && err.statusCode === 404) return true;
        throw err;
      }
    },
    { timeoutMs: 90_000, intervalMs: 200, message: `${GUARDRAILS_PROBE_NAMESPACE} from an earlier run gone` },
  );
  await createIfAbsent(operator, {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: GUARDRAILS_PROBE_NAMESPACE,
      labels: { "secureworkspace.io/workspace": "sws-e2e-probe" },
    },
  });
}

/** A client under the operator's ServiceAccount token (its RBAC from config/rbac.yaml must be installed). */
export async function operatorClient(): Promise<TestKubeClient> {
  return new TestKubeClient(await operatorKubeConfig(), {
    fieldManager: FIELD_MANAGER,
    resources: RESOURCES,
  });
}

/** Applies the policies and their bindings from config/ and waits until the server enforces them. */
export async function installAdmissionPolicies(): Promise<void> {
  const args = ["apply", "--server-side", "--force-conflicts", "--field-manager=e2e-kubectl"];
  await kubectl([...args, ...POLICY_FILES.flatMap((f) => ["-f", f])]);
  await waitForPolicies(true);
}

/**
 * Deletes the policies and their bindings, waits until the server no longer enforces them, then
 * deletes the guardrails' probe namespace (without waiting: the next install waits for it).
 */
export async function removeAdmissionPolicies(): Promise<void> {
  await kubectl(["delete", ...POLICY_FILES.flatMap((f) => ["-f", f]), "--ignore-not-found", "--wait=true"]);
  await waitForPolicies(false);
  const admin = adminClient();
  try {
    await admin.delete(resourceOfKind("Namespace"), GUARDRAILS_PROBE_NAMESPACE);
  } finally {
    admin.close();
  }
}

async function waitForPolicies(inForce: boolean): Promise<void> {
  const admin = adminClient();
  const operator = await operatorClient();
  try {
    if (inForce) await createProbeNamespace(admin, operator);
    let last: PoliciesInForce | undefined;
    await waitFor(
      async () => {
        last = await policiesInForce(admin, operator);
        // Without its probe namespace (a removal before any install), the guardrails go with the
        // other two: one kubectl delete, one informer in the API server.
        return (
          last.tamper === inForce && last.confinement === inForce && (last.guardrails ?? inForce) === inForce
        );
      },
      {
        timeoutMs: 60_000,
        intervalMs: 200,
        message: () => `admission policies ${inForce ? "in force" : "gone"}; last ${JSON.stringify(last)}`,
      },
    );
  } finally {
    admin.close();
    operator.close();
  }
}

/** A policy's status as the validatingadmissionpolicy-status-controller writes it. */
export interface PolicyStatus {
  metadata: { generation: number };
  status?: {
    observedGeneration?: number;
    typeChecking?: { expressionWarnings?: Array<{ fieldRef: string; warning: string }> };
  };
}

/**
 * The policies' status.typeChecking, from kube-controller-manager's type checker (CEL checked
 * against each matched kind's schema). The local cluster does not run that controller, so this
 * starts one just for it, and stops it again. Istio's kinds are checked only when another suite
 * has installed their CRDs (the reconcile suite expects them absent at first, so these suites do
 * not); the expressions read only object metadata there, the same in every kind.
 */
export async function typeCheck(
  policies: readonly string[],
): Promise<Record<string, PolicyStatus["status"]>> {
  const bins = controlPlaneBinaries();
  const child = spawn(
    bins.controllerManager,
    [
      `--kubeconfig=${testEnv().kubeconfigPath}`,
      "--secure-port=0",
      "--leader-elect=false",
      "--controllers=validatingadmissionpolicy-status-controller",
    ],
    { stdio: "ignore" },
  );
  // A failed start surfaces as the wait's timeout below, with the last status seen.
  child.once("error", () => undefined);
  try {
    const last: Record<string, PolicyStatus["status"]> = {};
    await waitFor(
      async () => {
        for (const policy of policies) {
          const p = JSON.parse(
            (await kubectl(["get", "validatingadmissionpolicy", policy, "-o", "json"])).stdout,
          ) as PolicyStatus;
          last[policy] = p.status;
          if (p.status?.observedGeneration !== p.metadata.generation || p.status.typeChecking === undefined)
            return false;
        }
        return true;
      },
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        message: () => `typeChecking of ${policies.join(", ")}; last status ${JSON.stringify(last)}`,
      },
    );
    return last;
  } finally {
    if (child.pid !== undefined && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  }
}
