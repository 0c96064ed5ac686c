/**
 * `sws audit`: a compliance report of every SecureWorkspace in the cluster, workspace ×
 * control × state with evidence, read from what the operator wrote into status.
 */
import { KubeConfig } from "@kubernetes/client-node";
import type { SecureWorkspace } from "./api/types.js";
import { KubeClient } from "./kube/client.js";
import { resourceOfKind } from "./kube/resources.js";

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
      evidence: c.evidence,
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

/** A Markdown report with a summary line. */
export function formatMarkdown(rows: readonly AuditRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, "\\|");
  const compliant = rows.filter((r) => r.state === "Compliant").length;
  const non = rows.filter((r) => r.state === "NonCompliant").length;
  return [
    "# SecureWorkspace compliance report",
    "",
    `${compliant} compliant, ${non} non-compliant, ${rows.length - compliant - non} other, over ${new Set(rows.map((r) => r.workspace)).size} workspaces.`,
    "",
    `| ${COLUMNS.map(([, h]) => h.toLowerCase()).join(" | ")} |`,
    `| ${COLUMNS.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${COLUMNS.map(([k]) => esc(r[k])).join(" | ")} |`),
    "",
  ].join("\n");
}

/** The CLI entry: exit 0 when every control is Compliant or NotApplicable, else 1. */
export async function audit(args: readonly string[]): Promise<number> {
  const o = args.indexOf("-o");
  const format = o >= 0 ? args[o + 1] : "table";
  if (format !== "table" && format !== "json" && format !== "markdown")
    throw new Error(`-o must be table, json or markdown, not ${String(format)}`);
  const k = args.indexOf("--kubeconfig");
  const kc = new KubeConfig();
  if (k >= 0 && args[k + 1]) kc.loadFromFile(args[k + 1]);
  else kc.loadFromDefault();
  const kube = new KubeClient(kc);
  try {
    const list = await kube.list(resourceOfKind("SecureWorkspace"));
    const items = list.items as unknown as SecureWorkspace[];
    const rows = auditRows(items.sort((a, b) => a.metadata.name.localeCompare(b.metadata.name)));
    const text =
      format === "json"
        ? JSON.stringify(rows, null, 2)
        : format === "markdown"
          ? formatMarkdown(rows)
          : formatTable(rows);
    process.stdout.write(`${text}\n`);
    return rows.some((r) => r.state === "NonCompliant" || r.state === "Unknown") ? 1 : 0;
  } finally {
    kube.close();
  }
}
