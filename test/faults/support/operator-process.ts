/**
 * The operator process as fault tests run it (test/support/operator-process.ts): kubeconfigs and
 * logs in one directory per run, kept because they explain a failure.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import {
  OperatorProcess,
  writeOperatorKubeconfig as writeKubeconfig,
  type LogLine,
  type OperatorProcessOptions,
} from "../../support/operator-process.js";

export { OperatorProcess, sumMetric, type LogLine } from "../../support/operator-process.js";

/** A directory for kubeconfigs and operator logs of this run. */
export const FAULT_DIR = mkdtempSync(path.join(tmpdir(), "sws-faults-"));

/** The operator's ServiceAccount kubeconfig as FAULT_DIR/`file`; `server` points it at a fault proxy. */
export function writeOperatorKubeconfig(file: string, server?: string): Promise<string> {
  return writeKubeconfig(path.join(FAULT_DIR, file), server);
}

/** Starts an operator named `name` with its log in FAULT_DIR. */
export function startFaultOperator(
  options: Omit<OperatorProcessOptions, "logFile"> & { readonly name: string },
): Promise<OperatorProcess> {
  return OperatorProcess.start({ ...options, logFile: path.join(FAULT_DIR, `${options.name}.log`) });
}

/** Log lines mentioning a 403: the least-privilege ClusterRole lacks a permission. */
export function forbiddenLines(proc: OperatorProcess): LogLine[] {
  return proc.lines.filter((l) => JSON.stringify(l).includes(": 403 "));
}
