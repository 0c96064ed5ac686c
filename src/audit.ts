/**
 * `sws audit`: a compliance report of the SecureWorkspaces in the cluster, workspace × control ×
 * state with evidence, read from what the operator wrote into status. Formats: a table with a
 * summary line, JSON rows, Markdown, and OSCAL assessment-results (src/oscal.ts).
 */
import { KubeConfig } from "@kubernetes/client-node";
import { asSecureWorkspace, type SecureWorkspace } from "./api/types.js";
import { derivedEvidence } from "./baseline/evidence.js";
import { lastValue, UsageError, type ParsedArgs } from "./cli/args.js";
import { FORMATS, STATES } from "./cli/specs.js";
import { KubeClient } from "./runtime/client.js";
import { resourceOfKind, RESOURCES } from "./api/resources.js";
import { assessmentResults } from "./oscal.js";
import { API_VERSION, FIELD_MANAGER, KIND } from "./api/constants.js";

/** One row of the report. */
export interface AuditRow {
  workspace: string;
  ready: string;
  control: string;
  title: string;
  state: string;
  evidence: string;
}

/** Rows for a list of workspaces: one per control, or one "unknown" row when status is empty. */
export function auditRows(workspaces: readonly SecureWorkspace[]): AuditRow[] {
  return workspaces.flatMap((ws) => {
    const ready = ws.status?.conditions?.find((c) => c.type === "Ready");
    const current = ws.status?.observedGeneration === ws.metadata.generation;
    const readyText = !ready ? "Unknown" : `${ready.status}${current ? "" : " (stale)"}`;
    const controls = ws.status?.controls ?? [];
    if (controls.length === 0)
      return [
        {
          workspace: ws.metadata.name,
          ready: readyText,
          control: "-",
          title: "-",
          state: "Unknown",
          evidence: "no status yet: is the operator running?",
        },
      ];
    return controls.map((c) => ({
      workspace: ws.metadata.name,
      ready: readyText,
      control: c.id,
      title: c.title,
      state: c.state,
      evidence: derivedEvidence(c, ws),
    }));
  });
}

const COLUMNS: Array<[keyof AuditRow, string]> = [
  ["workspace", "WORKSPACE"],
  ["ready", "READY"],
  ["control", "CONTROL"],
  ["title", "TITLE"],
  ["state", "STATE"],
  ["evidence", "EVIDENCE"],
];

/** A plain-text table. */
export function formatTable(rows: readonly AuditRow[]): string {
  const widths = COLUMNS.map(([key, head]) =>
    Math.max(head.length, ...rows.map((r) => (key === "evidence" ? 0 : r[key].length))),
  );
  const line = (cells: string[]): string =>
    cells.map((c, i) => (i < cells.length - 1 ? c.padEnd(widths[i] ?? 0) : c)).join("  ");
  return [line(COLUMNS.map(([, h]) => h)), ...rows.map((r) => line(COLUMNS.map(([k]) => r[k])))].join("\n");
}

/** One line: how many rows in each state, over how many workspaces. */
export function summaryLine(rows: readonly AuditRow[]): string {
  const count = (state: string): number => rows.filter((r) => r.state === state).length;
  const workspaces = new Set(rows.map((r) => r.workspace)).size;
  const other = rows.length - count("Compliant") - count("NonCompliant") - count("NotApplicable");
  return (
    `${workspaces} workspace${workspaces === 1 ? "" : "s"}, ${rows.length} control${rows.length === 1 ? "" : "s"}: ` +
    `${count("Compliant")} Compliant, ${count("NonCompliant")} NonCompliant, ${count("NotApplicable")} NotApplicable` +
    (other > 0 ? `, ${other} Unknown` : "")
  );
}

/** A Markdown report with a summary line. */
export function formatMarkdown(rows: readonly AuditRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  return [
    "# SecureWorkspace compliance report",
    "",
    `${summaryLine(rows)}.`,
    "",
    `| ${COLUMNS.map(([, h]) => h.toLowerCase()).join(" | ")} |`,
    `| ${COLUMNS.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([k]) => esc(r[k])).join(" | ")} |`),
    "",
  ].join("\n");
}

/** What `sws audit` was asked for, checked before any request. */
export interface AuditRequest {
  readonly format: (typeof FORMATS)[number];
  readonly names: readonly string[];
  readonly states: ReadonlySet<string>;
  readonly kubeconfig?: string;
  readonly context?: string;
  readonly seed?: string;
}

/** The request from parsed arguments. @throws UsageError for a bad format or state. */
export function auditRequest(parsed: ParsedArgs): AuditRequest {
  const format = lastValue(parsed, "output") ?? "table";
  if (!(FORMATS as readonly string[]).includes(format))
    throw new UsageError(`-o must be one of ${FORMATS.join(", ")}, not "${format}"`);
  const states = new Set(
    (parsed.values.get("state") ?? []).flatMap((s) => s.split(",")).map((s) => s.trim()),
  );
  for (const s of states)
    if (!(STATES as readonly string[]).includes(s))
      throw new UsageError(`--state must be one of ${STATES.join(", ")}, not "${s}"`);
  const kubeconfig = lastValue(parsed, "kubeconfig");
  const context = lastValue(parsed, "context");
  const seed = lastValue(parsed, "oscal-seed");
  return {
    format: format as AuditRequest["format"],
    names: [...new Set(parsed.positional)],
    states,
    ...(kubeconfig !== undefined ? { kubeconfig } : {}),
    ...(context !== undefined ? { context } : {}),
    ...(seed !== undefined ? { seed } : {}),
  };
}

/** The report's text for workspaces already read and filtered by name. */
export function formatReport(
  workspaces: readonly SecureWorkspace[],
  request: AuditRequest,
  meta: { version: string; cluster?: string; now?: Date },
): { text: string; rows: AuditRow[] } {
  const keep = (r: AuditRow): boolean => request.states.size === 0 || request.states.has(r.state);
  const rows = auditRows(workspaces).filter(keep);
  switch (request.format) {
    case "json":
      return { text: JSON.stringify(rows, null, 2), rows };
    case "markdown":
      return { text: formatMarkdown(rows), rows };
    case "oscal": {
      const doc = assessmentResults(workspaces, rows, {
        version: meta.version,
        ...(request.seed !== undefined ? { seed: request.seed } : {}),
        ...(meta.cluster !== undefined ? { cluster: meta.cluster } : {}),
        ...(meta.now !== undefined ? { now: meta.now } : {}),
      });
      return { text: JSON.stringify(doc, null, 2), rows };
    }
    default:
      return {
        text: rows.length > 0 ? `${formatTable(rows)}\n\n${summaryLine(rows)}` : summaryLine(rows),
        rows,
      };
  }
}

/**
 * The CLI entry. Exit 0 when every row printed is Compliant or NotApplicable; 1 when one is
 * NonCompliant or Unknown (no status yet), or a named workspace does not exist.
 */
export async function audit(parsed: ParsedArgs, version: string): Promise<number> {
  const request = auditRequest(parsed);
  const kc = new KubeConfig();
  if (request.kubeconfig) kc.loadFromFile(request.kubeconfig);
  else kc.loadFromDefault();
  if (request.context) {
    if (!kc.getContextObject(request.context))
      throw new Error(`context "${request.context}" not found in kubeconfig`);
    kc.setCurrentContext(request.context);
  }
  const kube = new KubeClient(kc, { fieldManager: FIELD_MANAGER, resources: RESOURCES });
  try {
    const list = await kube.list(resourceOfKind("SecureWorkspace"));
    // List items carry no kind: the list's is theirs.
    const all = list.items
      .map((item) => asSecureWorkspace({ ...item, apiVersion: API_VERSION, kind: KIND }))
      .filter((ws): ws is SecureWorkspace => ws !== undefined)
      .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
    const wanted = new Set(request.names);
    const workspaces = wanted.size === 0 ? all : all.filter((ws) => wanted.has(ws.metadata.name));
    const missing = request.names.filter((n) => !all.some((ws) => ws.metadata.name === n));
    const cluster = kc.getCurrentCluster()?.server;
    const { text, rows } = formatReport(workspaces, request, { version, ...(cluster ? { cluster } : {}) });
    process.stdout.write(`${text}\n`);
    for (const name of missing) process.stderr.write(`sws: secureworkspace "${name}" not found\n`);
    const bad = rows.some((r) => r.state === "NonCompliant" || r.state === "Unknown");
    return bad || missing.length > 0 ? 1 : 0;
  } finally {
    kube.close();
  }
}
