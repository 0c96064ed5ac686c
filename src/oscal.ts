/**
 * The compliance report as a NIST OSCAL 1.1.3 assessment-results document (`sws audit -o oscal`),
 * the format auditors' tools ingest. Pure: workspaces, a clock and a UUID source in, a JSON-ready
 * object out.
 *
 * Shape: one result (this run); each workspace is an inventory item; each workspace × control is
 * an observation carrying the operator's evidence (status.controls[].evidence) and, when the
 * control was judged (Compliant or NonCompliant), a finding whose target status is satisfied or
 * not-satisfied. NotApplicable and Unknown (no status yet) have an observation only: OSCAL's
 * objective status knows no "not applicable", and calling it satisfied would mislead.
 */
import { createHash, randomUUID } from "node:crypto";
import { SCHEMA_DEFAULTS } from "./api/generated.js";
import type { SecureWorkspace } from "./api/types.js";
import type { AuditRow } from "./audit.js";

/** The OSCAL version the document declares (the NIST OSCAL 1.1.x line). */
export const OSCAL_VERSION = "1.1.3";
/** The namespace of this project's OSCAL props (names outside OSCAL's own vocabulary). */
export const PROPS_NS = "https://secureworkspace.io/ns/oscal";
/**
 * assessment-results must import an assessment plan; the operator has none apart from its own
 * evaluation of each control, which this URN names (README, "Auditor export").
 */
export const ASSESSMENT_PLAN_HREF = "urn:secureworkspace.io:assessment-plan:operator-status";

/** Options of `assessmentResults`. */
export interface OscalOptions {
  /** The sws version, as metadata.version. */
  readonly version: string;
  /** The time of the report (metadata.last-modified, result start, observation collected). Default: now. */
  readonly now?: Date;
  /**
   * A seed for reproducible UUIDs: the same seed and input give the same document. Default: none,
   * random version-4 UUIDs.
   */
  readonly seed?: string;
  /** Where the report was read from (the cluster's server URL), for the result's description. Default: none. */
  readonly cluster?: string;
}

/** A version-4-format UUID: random, or derived from `seed` and `name` (stable for tests and diffs). */
export function uuidFor(seed: string | undefined, name: string): string {
  if (seed === undefined) return randomUUID();
  const b = createHash("sha256").update(`${seed}\0${name}`).digest().subarray(0, 16);
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40;
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/**
 * The OSCAL control id of a status control id: "NIST-800-53:SC-7" → "sc-7", an enhancement
 * "NIST-800-53:AC-6(9)" → "ac-6.9" (the ids of NIST's SP 800-53 rev5 OSCAL catalogue).
 */
export function oscalControlId(id: string): string {
  const bare = id.replace(/^NIST-800-53:/i, "").toLowerCase();
  return bare.replace(/\((\d+)\)/g, ".$1");
}

/** What a state becomes in a finding, or undefined when it gets no finding. */
export function findingState(state: string): "satisfied" | "not-satisfied" | undefined {
  if (state === "Compliant") return "satisfied";
  if (state === "NonCompliant") return "not-satisfied";
  return undefined;
}

type Json = Record<string, unknown>;

const prop = (name: string, value: string): Json => ({ name, value, ns: PROPS_NS });

function inventoryItem(ws: SecureWorkspace, uuid: string): Json {
  const namespaces = (ws.spec?.namespaces ?? []).map((n) => n.name).join(", ");
  return {
    uuid,
    description: `SecureWorkspace ${ws.metadata.name} (namespaces: ${namespaces || "none"})`,
    props: [
      prop("workspace", ws.metadata.name),
      ...(namespaces ? [prop("namespaces", namespaces)] : []),
      prop("enforcement", ws.spec?.enforcement ?? SCHEMA_DEFAULTS.enforcement),
    ],
  };
}

function observation(row: AuditRow, subject: string, uuid: string, collected: string): Json {
  return {
    uuid,
    title: `${row.control} in workspace ${row.workspace}`,
    description: `${row.title}: ${row.state} (workspace Ready: ${row.ready})`,
    props: [prop("workspace", row.workspace), prop("control", row.control), prop("state", row.state)],
    methods: ["TEST"],
    types: ["control-objective"],
    subjects: [{ "subject-uuid": subject, type: "inventory-item" }],
    "relevant-evidence": [{ description: row.evidence || "no evidence recorded" }],
    collected,
  };
}

function finding(row: AuditRow, state: "satisfied" | "not-satisfied", uuid: string, obs: string): Json {
  const control = oscalControlId(row.control);
  return {
    uuid,
    title: `${row.control} ${row.title} in workspace ${row.workspace}: ${state}`,
    description: row.evidence || `${row.control} is ${row.state}`,
    props: [prop("workspace", row.workspace), prop("control", row.control)],
    target: {
      type: "statement-id",
      "target-id": `${control}_smt`,
      status: { state, reason: state === "satisfied" ? "pass" : "fail" },
    },
    "related-observations": [{ "observation-uuid": obs }],
  };
}

/**
 * An OSCAL assessment-results document, as in the module comment.
 * @param workspaces the workspaces reported (each becomes an inventory item).
 * @param rows their controls, as `auditRows` makes them (possibly filtered by state).
 */
export function assessmentResults(
  workspaces: readonly SecureWorkspace[],
  rows: readonly AuditRow[],
  options: OscalOptions,
): Json {
  const now = (options.now ?? new Date()).toISOString();
  const id = (name: string): string => uuidFor(options.seed, name);
  const subjects = new Map(workspaces.map((ws) => [ws.metadata.name, id(`workspace/${ws.metadata.name}`)]));
  const observations: Json[] = [];
  const findings: Json[] = [];
  for (const row of rows) {
    const key = `${row.workspace}/${row.control}`;
    const obs = id(`observation/${key}`);
    observations.push(observation(row, subjects.get(row.workspace) ?? "", obs, now));
    const state = findingState(row.state);
    if (state) findings.push(finding(row, state, id(`finding/${key}`), obs));
  }
  const controls = [...new Set(rows.filter((r) => r.control !== "-").map((r) => oscalControlId(r.control)))];
  const result: Json = {
    uuid: id("result"),
    title: "SecureWorkspace controls",
    description: `Each SecureWorkspace's controls as the secure-workspace-operator evaluated them (status.controls)${
      options.cluster ? `, read from ${options.cluster}` : ""
    }.`,
    start: now,
    "local-definitions": {
      "inventory-items": workspaces.map((ws) => inventoryItem(ws, subjects.get(ws.metadata.name) ?? "")),
    },
    "reviewed-controls": {
      "control-selections": [
        controls.length > 0
          ? { "include-controls": controls.map((c) => ({ "control-id": c })) }
          : { description: "no controls reported", "include-all": {} },
      ],
    },
    ...(observations.length > 0 ? { observations } : {}),
    ...(findings.length > 0 ? { findings } : {}),
  };
  if (workspaces.length === 0) delete result["local-definitions"];
  return {
    "assessment-results": {
      uuid: id("assessment-results"),
      metadata: {
        title: "SecureWorkspace compliance report",
        "last-modified": now,
        version: options.version,
        "oscal-version": OSCAL_VERSION,
        remarks: "Generated by sws audit -o oscal (secure-workspace-operator).",
      },
      "import-ap": { href: ASSESSMENT_PLAN_HREF },
      results: [result],
    },
  };
}
