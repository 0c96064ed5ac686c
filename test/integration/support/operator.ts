/**
 * Runs the operator in-process the way it runs for real: under its own ServiceAccount's token,
 * bound to the least-privilege ClusterRole in config/rbac.yaml (never system:masters), so a
 * missing permission shows up as a 403 in the tests.
 */
import { CONTROLLER_NAME, DEFAULT_LEASE_NAME } from "../../../src/api/constants.js";
import { readFileSync } from "node:fs";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { parseAllDocuments } from "yaml";
import { Manager } from "../../../src/controller/manager.js";
import type { Logger } from "../../../src/runtime/log.js";
import { type KubeObject } from "../../../src/runtime/client.js";
import { TestKubeClient } from "../../support/test-client.js";
import { Metrics } from "../../../src/observability/metrics.js";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { adminKubeConfig } from "../../harness/test-env.js";
import { installCrd } from "./crd.js";
import { RESOURCES } from "../../../src/api/resources.js";

export const OPERATOR_NAMESPACE = "secure-workspace-system";
export const OPERATOR_SA = "secure-workspace-operator";

/** The admin client tests use for setup and for playing "another user" (its own field manager). */
export function adminClient(): TestKubeClient {
  return new TestKubeClient(adminKubeConfig(), { resources: RESOURCES, fieldManager: "e2e-test-admin" });
}

/** The YAML documents of a file under config/. */
export function configDocs(file: string): KubeObject[] {
  const text = readFileSync(path.join(repoRoot(), "config", file), "utf8");
  return parseAllDocuments(text)
    .map((d) => d.toJS() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
}

/** Installs the CRD, the operator namespace and its RBAC from config/ (idempotent). */
export async function installOperatorPrerequisites(): Promise<void> {
  await installCrd(adminKubeConfig());
  const admin = adminClient();
  try {
    for (const doc of [...configDocs("namespace.yaml"), ...configDocs("rbac.yaml")]) await admin.apply(doc);
  } finally {
    admin.close();
  }
}

/** A kubeconfig that authenticates as the operator's ServiceAccount (a real TokenRequest token). */
export async function operatorKubeConfig(): Promise<KubeConfig> {
  const adminKc = adminKubeConfig();
  const admin = adminClient();
  try {
    const token = await admin.requestToken(OPERATOR_NAMESPACE, OPERATOR_SA, 6 * 3600);
    const cluster = adminKc.getCurrentCluster();
    if (!cluster) throw new Error("admin kubeconfig has no cluster");
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [cluster],
      users: [{ name: OPERATOR_SA, token }],
      contexts: [{ name: "operator", cluster: cluster.name, user: OPERATOR_SA }],
      currentContext: "operator",
    });
    return kc;
  } finally {
    admin.close();
  }
}

/** Log lines the in-process operator wrote, for assertions and for debugging a failure. */
export interface CapturedLog extends Logger {
  readonly lines: Array<{ level: string; message: string; fields?: Record<string, unknown> }>;
}

/** A logger that keeps lines in memory (and prints them when SWS_TEST_VERBOSE is set). */
export function captureLog(): CapturedLog {
  const lines: CapturedLog["lines"] = [];
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, ...(fields ? { fields } : {}) });
      if (process.env["SWS_TEST_VERBOSE"])
        console.log(`    [operator] ${level} ${message} ${JSON.stringify(fields ?? {})}`);
    };
  return { lines, info: at("info"), warn: at("warn"), error: at("error"), debug: at("debug") };
}

/** A running in-process operator. */
export interface RunningOperator {
  readonly manager: Manager;
  readonly log: CapturedLog;
  readonly metrics: Metrics;
  /**
   * How many requests the API server answered with `code` (e.g. 403), from the operator's own
   * request metric (by verb, summed): the server's answer, not a guess from log text.
   */
  answers(code: number): Promise<number>;
  stop(): Promise<void>;
}

/** Starts the operator under its ServiceAccount token; `stop()` shuts it down cleanly. */
export async function startOperator(
  options: { workers?: number; resyncPeriodMs?: number } = {},
): Promise<RunningOperator> {
  const log = captureLog();
  const metrics = new Metrics({
    controller: CONTROLLER_NAME,
    leaseName: DEFAULT_LEASE_NAME,
    processMetrics: false,
  });
  const manager = new Manager({
    kc: await operatorKubeConfig(),
    log,
    metrics,
    workers: options.workers ?? 4,
    resyncPeriodMs: options.resyncPeriodMs ?? 0,
    operatorNamespace: OPERATOR_NAMESPACE,
    shutdownGraceMs: 5000,
  });
  const controller = new AbortController();
  const running = manager.run(controller.signal);
  return {
    manager,
    log,
    metrics,
    async answers(code: number): Promise<number> {
      const metric = await metrics.registry.getSingleMetric("secureworkspace_api_requests_total")?.get();
      return (metric?.values ?? [])
        .filter((v) => v.labels["code"] === String(code))
        .reduce((sum, v) => sum + v.value, 0);
    },
    async stop(): Promise<void> {
      controller.abort();
      await running;
    },
  };
}
