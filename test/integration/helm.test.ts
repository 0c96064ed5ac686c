/**
 * The Helm chart (config/helm/secure-workspace-operator) with the real helm (built from Go modules
 * by test/tools/build.sh, cached) and the real API server: it lints, every object it renders passes
 * the server's dry run, and it renders the same objects as `kubectl kustomize config/` where they
 * overlap, into the default namespace and into another one (an overlay with config/operator-identity,
 * as README and config/kustomization.yaml describe). Helm's own labels are the only difference allowed.
 * The protectedNamespaces value drives the operator's flag and both policies' protected namespaces:
 * other lists render, pass the dry run, and are enforced by the installed confinement policy.
 * Last, a real `helm install` and `helm uninstall` into another namespace.
 */
import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { testEnv } from "../harness/test-env.js";
import { TOOL_BUILD_TIMEOUT_MS, toolBinary } from "../support/tools.js";
import { waitFor } from "../support/wait.js";
import {
  CONFINEMENT_POLICY,
  GUARDRAILS_POLICY,
  kubectl,
  serviceAccountClient,
  TAMPER_POLICY,
} from "./support/admission.js";
import { adminClient, installOperatorPrerequisites, OPERATOR_NAMESPACE } from "./support/operator.js";
import { ApiError } from "../../src/runtime/errors.js";

const execFileAsync = promisify(execFile);
const CHART = "config/helm/secure-workspace-operator";
const OTHER_NAMESPACE = "sws-helm-platform";
const RELEASE = "sws";
/**
 * A protectedNamespaces value unlike the defaults (`*-system` dropped) with a pattern of every shape
 * the chart writes as CEL: exact, prefix, suffix, prefix and suffix, several stars.
 */
const OTHER_PROTECTED = [
  "kube-*",
  "default",
  "platform-*",
  "*-infra",
  "team-*-prod",
  "*-ci-*-runner",
  "tools",
];
/** The same as a `--set` value. */
const OTHER_PROTECTED_SET = `protectedNamespaces={${OTHER_PROTECTED.join(",")}}`;

/** Labels the chart adds to every object (config/ has none of them). */
const HELM_LABELS = ["helm.sh/chart", "app.kubernetes.io/instance", "app.kubernetes.io/managed-by"];

type Obj = Record<string, unknown> & {
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
};

function objects(yamlText: string): Obj[] {
  return parseAllDocuments(yamlText)
    .map((d) => d.toJS() as Obj | null)
    .filter((d): d is Obj => d !== null && typeof d === "object");
}

const key = (o: Obj): string =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

const CLUSTER_SCOPED = new Set([
  "Namespace",
  "CustomResourceDefinition",
  "ClusterRole",
  "ClusterRoleBinding",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
]);

/** Every string with its runs of line breaks made one (see normalisedKustomize). */
function singleLineBreaks<T>(value: T): T {
  if (typeof value === "string") return value.replace(/\n(\s*\n)+/g, "\n") as T;
  if (Array.isArray(value)) return value.map(singleLineBreaks) as T;
  if (value !== null && typeof value === "object")
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, singleLineBreaks(v)])) as T;
  return value;
}

/**
 * Two things kubectl's kustomize (v5.5) does to config/ that Helm does not, both without effect on
 * the server: it puts an overlay's `namespace:` on ValidatingAdmissionPolicies and their bindings
 * (it does not know they are cluster-scoped; the API server ignores it), and it re-serialises the
 * folded (`>-`) CEL expressions with an empty line before each more-indented line, an extra line
 * break that YAML's folding rules do not give (CEL ignores it). Both are undone here, and the
 * chart's strings get the same line-break normalisation before comparing.
 */
function normalisedKustomize(o: Obj): Obj {
  const metadata = { ...o.metadata };
  if (CLUSTER_SCOPED.has(o.kind)) delete metadata.namespace;
  return singleLineBreaks({ ...o, metadata });
}

type Policy = Obj & {
  spec: {
    variables: { name: string; expression: string }[];
    validations: { expression: string; messageExpression?: string }[];
  };
};

/** A ValidatingAdmissionPolicy of a rendering, by name. */
function policyOf(objs: readonly Obj[], name: string): Policy {
  const found = objs.find((o) => o.kind === "ValidatingAdmissionPolicy" && o.metadata.name === name);
  if (!found) throw new Error(`no ValidatingAdmissionPolicy ${name} rendered`);
  return found as Policy;
}

/** One variable's CEL expression, its whitespace made single spaces. */
function variableOf(policy: Policy, name: string): string {
  const v = policy.spec.variables.find((x) => x.name === name);
  if (!v) throw new Error(`${policy.metadata.name} has no variable ${name}`);
  return v.expression.replace(/\s+/g, " ");
}

/** The object without Helm's labels (and without an empty labels map left behind). */
function withoutHelmLabels(o: Obj): Obj {
  const labels = { ...(o.metadata.labels ?? {}) };
  for (const l of HELM_LABELS) delete labels[l];
  const metadata = { ...o.metadata, labels };
  if (Object.keys(labels).length === 0) delete (metadata as { labels?: unknown }).labels;
  return singleLineBreaks({ ...o, metadata });
}

describe("Helm chart (real helm, real API server)", function () {
  this.timeout(300_000);
  let helm: string;
  let work: string;

  const runHelm = async (args: string[]): Promise<{ stdout: string; stderr: string }> => {
    try {
      return await execFileAsync(helm, [...args], {
        cwd: repoRoot(),
        maxBuffer: 32 * 1024 * 1024,
        env: {
          ...process.env,
          KUBECONFIG: testEnv().kubeconfigPath,
          // Helm's cache, config and data out of the user's home.
          HELM_CACHE_HOME: path.join(work, "cache"),
          HELM_CONFIG_HOME: path.join(work, "config"),
          HELM_DATA_HOME: path.join(work, "data"),
        },
      });
    } catch (err) {
      const e = err as { stderr?: string; stdout?: string; message: string };
      throw new Error(`helm ${args.join(" ")} failed: ${e.stderr || e.message}\n${e.stdout ?? ""}`, {
        cause: err,
      });
    }
  };
  const template = async (namespace: string, ...set: string[]): Promise<Obj[]> =>
    objects(
      (
        await runHelm([
          "template",
          RELEASE,
          CHART,
          "--namespace",
          namespace,
          "--include-crds",
          ...set.flatMap((s) => ["--set", s]),
        ])
      ).stdout,
    );
  const kustomize = async (dir: string): Promise<Obj[]> =>
    objects((await kubectl(["kustomize", dir])).stdout).map(normalisedKustomize);

  before(async function () {
    this.timeout(TOOL_BUILD_TIMEOUT_MS);
    helm = toolBinary("helm");
    work = mkdtempSync(path.join(tmpdir(), "sws-helm-"));
    await installOperatorPrerequisites();
    await kubectl(["create", "namespace", OTHER_NAMESPACE]).catch((err: Error) => {
      if (!/AlreadyExists/.test(err.message)) throw err;
    });
  });

  after(async () => {
    // Whatever happened: no release left, and no policy exempting the other namespace's identity.
    if (helm)
      await runHelm(["uninstall", RELEASE, "--namespace", OTHER_NAMESPACE, "--ignore-not-found"]).catch(
        () => undefined,
      );
    await kubectl(["delete", "namespace", OTHER_NAMESPACE, "--ignore-not-found", "--wait=false"]).catch(
      () => undefined,
    );
    await kubectl(["delete", "--ignore-not-found", "-f", "test/fixtures/prometheus-operator/"]).catch(
      () => undefined,
    );
    // What the install test removed, for the suites after this one.
    await installOperatorPrerequisites();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it("passes `helm lint --strict`, with the defaults, with every option on and with other protected namespaces", async () => {
    const plain = await runHelm(["lint", "--strict", CHART]);
    expect(plain.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const all = await runHelm([
      "lint",
      "--strict",
      CHART,
      "--set",
      "createNamespace=true,monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true",
    ]);
    expect(all.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    const other = await runHelm(["lint", "--strict", CHART, "--set", OTHER_PROTECTED_SET]);
    expect(other.stdout).to.match(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });

  it("refuses a protectedNamespaces entry that is not a namespace pattern (it would be written into CEL), and a value that is not a list", async () => {
    for (const bad of ["Team-A", "x')||true||('", "a_b"]) {
      const failed = await runHelm([
        "template",
        RELEASE,
        CHART,
        "--set-json",
        `protectedNamespaces=["kube-*",${JSON.stringify(bad)}]`,
      ]).then(
        () => "",
        (err: Error) => err.message,
      );
      expect(failed, bad).to.include(
        `protectedNamespaces: ${JSON.stringify(bad)} is not a namespace pattern`,
      );
    }
    const notAList = await runHelm(["template", RELEASE, CHART, "--set", "protectedNamespaces=kube-*"]).then(
      () => "",
      (err: Error) => err.message,
    );
    expect(notAList).to.include("protectedNamespaces must be a list of patterns");
  });

  it("renders objects that pass `kubectl apply --dry-run=server`, in the default and in another namespace, with other protected namespaces", async () => {
    for (const [namespace, extra] of [
      [OPERATOR_NAMESPACE, []],
      [OTHER_NAMESPACE, []],
      // The policies' CEL for every pattern shape: the server type-checks it and estimates its cost.
      [OTHER_NAMESPACE, ["--set", OTHER_PROTECTED_SET]],
    ] as const) {
      const file = path.join(work, `${namespace}.yaml`);
      const { stdout } = await runHelm([
        "template",
        RELEASE,
        CHART,
        "--namespace",
        namespace,
        "--include-crds",
        "--set",
        "createNamespace=true,monitoring.dashboard.enabled=true",
        ...extra,
      ]);
      writeFileSync(file, stdout);
      const applied = await kubectl(["apply", "--dry-run=server", "-f", file]);
      for (const object of [
        `namespace/${namespace}`,
        "customresourcedefinition.apiextensions.k8s.io/secureworkspaces.secureworkspace.io",
        "clusterrole.rbac.authorization.k8s.io/secure-workspace-operator",
        "deployment.apps/secure-workspace-operator",
        "poddisruptionbudget.policy/secure-workspace-operator",
        "service/secure-workspace-operator-metrics",
        "configmap/secure-workspace-operator-dashboard",
        ...[TAMPER_POLICY, CONFINEMENT_POLICY, GUARDRAILS_POLICY].flatMap((p) => [
          `validatingadmissionpolicy.admissionregistration.k8s.io/${p}`,
          `validatingadmissionpolicybinding.admissionregistration.k8s.io/${p}`,
        ]),
      ])
        expect(applied.stdout).to.match(
          new RegExp(`^${object.replace(/\./g, "\\.")} .*\\(server dry run\\)$`, "m"),
        );
      // The namespace is "restricted": a non-compliant pod template would warn.
      expect(applied.stderr).to.not.match(/PodSecurity|would violate/);
    }
  });

  it("renders the same objects as `kubectl kustomize config/` (Helm's labels aside)", async () => {
    const chart = await template(OPERATOR_NAMESPACE, "createNamespace=true");
    const config = await kustomize("config");
    expect(chart.map(key).sort()).to.deep.equal(config.map(key).sort());
    const byKey = new Map(config.map((o) => [key(o), o]));
    for (const o of chart) {
      // The CRD is a verbatim copy (Helm never templates crds/, nor labels it).
      if (o.kind === "CustomResourceDefinition") {
        expect(singleLineBreaks(o)).to.deep.equal(byKey.get(key(o)));
        continue;
      }
      for (const l of HELM_LABELS)
        expect(o.metadata.labels ?? {}, `${key(o)} carries ${l}`).to.have.property(l);
      expect(withoutHelmLabels(o), key(o)).to.deep.equal(byKey.get(key(o)));
    }
  });

  it("follows another install namespace like the kustomize overlay with config/operator-identity", async () => {
    const overlay = path.join(work, "overlay");
    mkdirSync(overlay, { recursive: true });
    writeFileSync(
      path.join(overlay, "kustomization.yaml"),
      [
        "apiVersion: kustomize.config.k8s.io/v1beta1",
        "kind: Kustomization",
        `namespace: ${OTHER_NAMESPACE}`,
        "resources:",
        // kustomize takes relative paths only.
        `  - ${path.relative(overlay, path.join(repoRoot(), "config"))}`,
        "transformers:",
        `  - ${path.relative(overlay, path.join(repoRoot(), "config", "operator-identity"))}`,
        "",
      ].join("\n"),
    );
    const config = await kustomize(overlay);
    const chart = await template(OTHER_NAMESPACE, "createNamespace=true");
    expect(chart.map(key).sort()).to.deep.equal(config.map(key).sort());
    const byKey = new Map(config.map((o) => [key(o), o]));
    for (const o of chart)
      if (o.kind !== "CustomResourceDefinition")
        expect(withoutHelmLabels(o), key(o)).to.deep.equal(byKey.get(key(o)));
    // The identity the three policies exempt and confine is the other namespace's, nowhere the default one.
    const text = JSON.stringify(chart);
    expect(text).to.include(`system:serviceaccount:${OTHER_NAMESPACE}:secure-workspace-operator`);
    expect(text).to.not.include(`system:serviceaccount:${OPERATOR_NAMESPACE}:`);
    // Events stay in "default", bound to the ServiceAccount of the other namespace.
    const events = chart.find(
      (o) => o.kind === "RoleBinding" && o.metadata.name === "secure-workspace-operator-events",
    );
    expect(events?.metadata.namespace).to.equal("default");
    expect((events?.["subjects"] as { namespace: string }[])[0]?.namespace).to.equal(OTHER_NAMESPACE);
  });

  it("renders the values: image, replicas, resources, log level, protected namespaces, monitoring", async () => {
    const chart = await template(
      OTHER_NAMESPACE,
      "image.repository=registry.example/sws,image.tag=1.2.3,image.pullPolicy=Always,replicas=3",
      "resources.limits.memory=1Gi,logLevel=debug",
      OTHER_PROTECTED_SET,
      "monitoring.serviceMonitor.enabled=true,monitoring.serviceMonitor.labels.release=kps",
      "monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true",
    );
    const deployment = chart.find((o) => o.kind === "Deployment") as Obj & {
      spec: {
        replicas: number;
        template: {
          spec: {
            containers: {
              image: string;
              imagePullPolicy: string;
              resources: { limits: Record<string, string> };
              env: { name: string; value?: string }[];
            }[];
          };
        };
      };
    };
    const container = deployment.spec.template.spec.containers[0];
    expect(deployment.spec.replicas).to.equal(3);
    expect(container?.image).to.equal("registry.example/sws:1.2.3");
    expect(container?.imagePullPolicy).to.equal("Always");
    expect(container?.resources.limits["memory"]).to.equal("1Gi");
    const env = Object.fromEntries((container?.env ?? []).map((e) => [e.name, e.value]));
    expect(env["SWS_LOG_LEVEL"]).to.equal("debug");
    expect(env["SWS_PROTECTED_NAMESPACES"]).to.equal(OTHER_PROTECTED.join(","));
    const monitor = chart.find((o) => o.kind === "ServiceMonitor") as Obj & {
      spec: { namespaceSelector: { matchNames: string[] } };
    };
    expect(monitor.metadata.labels?.["release"]).to.equal("kps");
    expect(monitor.spec.namespaceSelector.matchNames).to.deep.equal([OTHER_NAMESPACE]);
    const rule = chart.find((o) => o.kind === "PrometheusRule");
    expect(rule?.metadata.namespace).to.equal(OTHER_NAMESPACE);
    expect(JSON.stringify(rule)).to.include("SecureWorkspaceLeaderMissing");
    expect(chart.find((o) => o.kind === "ConfigMap")?.metadata.labels?.["grafana_dashboard"]).to.equal("1");
  });

  it("writes protectedNamespaces into the confinement and guardrails policies as it does into --protected-namespaces", async () => {
    const tests = (x: string): string =>
      [
        `${x} in ['kube-system', 'kube-public', 'kube-node-lease', 'default']`,
        `${x} == variables.operatorNamespace`,
        `${x}.startsWith('kube-')`,
        `${x} == 'default'`,
        `${x}.startsWith('platform-')`,
        `${x}.endsWith('-infra')`,
        `(size(${x}) >= 10 && ${x}.startsWith('team-') && ${x}.endsWith('-prod'))`,
        `${x}.matches('^.*-ci-.*-runner$')`,
        `${x} == 'tools'`,
      ].join(" || ");
    const wording = `one matching ${OTHER_PROTECTED.join(", ")}`;
    const chart = await template(OTHER_NAMESPACE, OTHER_PROTECTED_SET);
    const confinement = policyOf(chart, CONFINEMENT_POLICY);
    const guardrails = policyOf(chart, GUARDRAILS_POLICY);
    expect(variableOf(confinement, "protectedNamespace")).to.equal(tests("variables.targetNamespace"));
    expect(variableOf(guardrails, "protectedServiceAccounts")).to.equal(
      `variables.serviceAccounts.filter(a, ${tests("a.namespace")}) .map(a, a.subject)`,
    );
    for (const policy of [confinement, guardrails]) {
      const text = JSON.stringify(policy);
      expect(text, policy.metadata.name).to.not.include("-system')");
      expect(text, policy.metadata.name).to.include(wording);
    }
    // Nothing else moves: the policies equal the default rendering but for those expressions.
    const defaults = await template(OTHER_NAMESPACE);
    for (const name of [CONFINEMENT_POLICY, GUARDRAILS_POLICY, TAMPER_POLICY]) {
      const strip = (p: Policy): unknown =>
        JSON.parse(
          JSON.stringify(p)
            .replace(/"expression":"[^"]*(?:protected|-system|platform-)[^"]*"/g, '"expression":"…"')
            .replace(/one matching [^)]*\)/g, "one matching …)"),
        );
      expect(strip(policyOf(chart, name)), name).to.deep.equal(strip(policyOf(defaults, name)));
    }
    // No pattern at all: the system namespaces and the operator's own only.
    const none = await template(OTHER_NAMESPACE, "protectedNamespaces=null");
    expect(variableOf(policyOf(none, CONFINEMENT_POLICY), "protectedNamespace")).to.equal(
      "variables.targetNamespace in ['kube-system', 'kube-public', 'kube-node-lease', 'default'] || variables.targetNamespace == variables.operatorNamespace || false",
    );
    expect(JSON.stringify(policyOf(none, GUARDRAILS_POLICY))).to.include(
      "one matching a pattern (none configured)",
    );
  });

  it("renders a ServiceMonitor and PrometheusRule that pass the server's dry run against the Prometheus Operator's CRDs (chart and config/monitoring)", async () => {
    await kubectl(["apply", "--server-side", "-f", "test/fixtures/prometheus-operator/"]);
    for (const crd of ["servicemonitors", "prometheusrules"])
      await kubectl([
        "wait",
        "--for=condition=Established",
        `crd/${crd}.monitoring.coreos.com`,
        "--timeout=60s",
      ]);
    const file = path.join(work, "monitoring.yaml");
    const { stdout } = await runHelm([
      "template",
      RELEASE,
      CHART,
      "--namespace",
      OTHER_NAMESPACE,
      "--show-only",
      "templates/monitoring.yaml",
      "--set",
      "monitoring.serviceMonitor.enabled=true,monitoring.prometheusRule.enabled=true,monitoring.dashboard.enabled=true",
    ]);
    writeFileSync(file, stdout);
    const chart = await kubectl(["apply", "--dry-run=server", "-f", file]);
    const config = await kubectl(["apply", "--dry-run=server", "-k", "config/monitoring"]);
    for (const applied of [chart.stdout, config.stdout])
      for (const object of [
        "servicemonitor.monitoring.coreos.com/secure-workspace-operator",
        "prometheusrule.monitoring.coreos.com/secure-workspace-operator",
        "configmap/secure-workspace-operator-dashboard",
      ])
        expect(applied).to.match(new RegExp(`^${object.replace(/\./g, "\\.")} .*\\(server dry run\\)$`, "m"));
  });

  it("installs and uninstalls for real into another namespace (the policies go with the release, the CRD stays)", async () => {
    // The cluster-wide objects (and the Events RBAC in "default") that the other suites apply from
    // config/ have no Helm ownership: Helm refuses to take them over, so they go first (after()
    // puts them back) and the policies must not be there either.
    await kubectl([
      "delete",
      "clusterrole,clusterrolebinding",
      "secure-workspace-operator",
      "--ignore-not-found",
    ]);
    await kubectl([
      "delete",
      "role,rolebinding",
      "secure-workspace-operator-events",
      "-n",
      "default",
      "--ignore-not-found",
    ]);
    for (const p of [TAMPER_POLICY, CONFINEMENT_POLICY, GUARDRAILS_POLICY])
      await kubectl([
        "delete",
        "validatingadmissionpolicy,validatingadmissionpolicybinding",
        p,
        "--ignore-not-found",
      ]);
    const installed = await runHelm([
      "install",
      RELEASE,
      CHART,
      "--namespace",
      OTHER_NAMESPACE,
      "--set",
      OTHER_PROTECTED_SET,
    ]);
    expect(installed.stdout).to.match(/STATUS: deployed/);
    expect(installed.stdout).to.include(`and those matching ${OTHER_PROTECTED.join(", ")}.`);
    // NOTES.txt: where it went, which identity the policies exempt, the upgrade and uninstall order.
    expect(installed.stdout).to.include(`is installed in namespace ${OTHER_NAMESPACE}`);
    expect(installed.stdout).to.include(`system:serviceaccount:${OTHER_NAMESPACE}:secure-workspace-operator`);
    const policy = JSON.parse(
      (await kubectl(["get", "validatingadmissionpolicy", TAMPER_POLICY, "-o", "json"])).stdout,
    ) as {
      spec: { matchConditions: { name: string; expression: string }[] };
    };
    expect(policy.spec.matchConditions.find((c) => c.name === "exempt-operator")?.expression).to.include(
      `system:serviceaccount:${OTHER_NAMESPACE}:secure-workspace-operator`,
    );
    await kubectl([
      "get",
      "deployment/secure-workspace-operator",
      "serviceaccount/secure-workspace-operator",
      "-n",
      OTHER_NAMESPACE,
    ]);
    // The value is enforced at admission, not only by the operator's code: its token may not create
    // a namespace that matches an added pattern, and may create one that only a dropped default
    // (*-system) matched. (Dry runs: admission runs, nothing is stored.)
    const { client: operator } = await serviceAccountClient(
      adminClient(),
      OTHER_NAMESPACE,
      "secure-workspace-operator",
    );
    const createNamespace = (name: string): Promise<unknown> =>
      operator.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name } }, { dryRun: true });
    const refused = await waitFor(
      () =>
        createNamespace("platform-sws-helm").then(
          () => undefined,
          (err: unknown) =>
            err instanceof ApiError &&
            err.statusCode === 403 &&
            err.serverMessage.includes(CONFINEMENT_POLICY)
              ? err
              : undefined,
        ),
      { message: `the release's ${CONFINEMENT_POLICY} refusing platform-sws-helm` },
    );
    expect(refused.serverMessage).to.include(
      `CREATE Namespace platform-sws-helm refused: the secure-workspace operator may not create, change or delete a protected namespace (a system namespace, the operator namespace, or one matching ${OTHER_PROTECTED.join(", ")})`,
    );
    await createNamespace("sws-helm-tools-system");
    await runHelm(["uninstall", RELEASE, "--namespace", OTHER_NAMESPACE, "--wait"]);
    for (const p of [TAMPER_POLICY, CONFINEMENT_POLICY, GUARDRAILS_POLICY]) {
      const { stdout } = await kubectl([
        "get",
        "validatingadmissionpolicy",
        p,
        "--ignore-not-found",
        "-o",
        "name",
      ]);
      expect(stdout.trim(), `${p} removed with the release`).to.equal("");
    }
    // Helm never deletes what it installed from crds/: the workspaces (and their namespaces) survive.
    await kubectl(["get", "crd", "secureworkspaces.secureworkspace.io"]);
  });
});
