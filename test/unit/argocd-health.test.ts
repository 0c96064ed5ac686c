/**
 * config/argocd/health.lua, the Argo CD health check for SecureWorkspace, run by a real Lua
 * interpreter (Debian's lua5.4; CI installs it) against status samples shaped like the ones the
 * operator writes. Argo CD itself runs gopher-lua (Lua 5.1): the script sticks to 5.1 syntax.
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../harness/control-plane-binaries.js";

const LUA = "lua5.4";
const HEALTH_LUA = path.join(repoRoot(), "config", "argocd", "health.lua");
const HARNESS = path.join(repoRoot(), "test", "fixtures", "argocd", "run-health.lua");

/** A Lua string literal: printable ASCII as is, every other byte as a decimal escape. */
function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, "utf8")) {
    const printable = byte >= 0x20 && byte < 0x7f && byte !== 0x22 && byte !== 0x5c;
    out += printable ? String.fromCharCode(byte) : `\\${byte.toString().padStart(3, "0")}`;
  }
  return `${out}"`;
}

/** A JSON value as a Lua table constructor (JSON null becomes an absent field, as in Argo CD). */
function toLua(value: unknown): string {
  if (value === null || value === undefined) return "nil";
  if (typeof value === "string") return luaString(value);
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  if (Array.isArray(value)) return `{${value.map(toLua).join(", ")}}`;
  if (typeof value === "object") {
    const fields = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== null && v !== undefined)
      .map(([k, v]) => `[${luaString(k)}] = ${toLua(v)}`);
    return `{${fields.join(", ")}}`;
  }
  throw new Error(`cannot express ${typeof value} in Lua`);
}

/** Runs health.lua on a SecureWorkspace the way Argo CD does; returns its {status, message}. */
function health(obj: unknown): { status: string; message: string } {
  const run = spawnSync(LUA, [HARNESS, HEALTH_LUA], { input: toLua(obj), encoding: "utf8", timeout: 10_000 });
  if (run.error)
    throw new Error(`cannot run ${LUA} (CI installs it: apt-get install -y lua5.4)`, { cause: run.error });
  if (run.status !== 0) throw new Error(`${LUA} exited ${String(run.status)}: ${run.stderr}`);
  const line = run.stdout.trimEnd();
  const bar = line.indexOf("|");
  return { status: line.slice(0, bar), message: line.slice(bar + 1) };
}

type Cond = { type: string; status: "True" | "False" | "Unknown"; reason: string; message: string };

const ready = (message = "2/2 namespaces hold the baseline"): Cond => ({
  type: "Ready",
  status: "True",
  reason: "Enforced",
  message,
});
const notReconciling: Cond = {
  type: "Reconciling",
  status: "False",
  reason: "ReconcileSucceeded",
  message: "",
};
const notStalled: Cond = { type: "Stalled", status: "False", reason: "Progressing", message: "" };

/** A SecureWorkspace at `generation` whose status was written for `observed`. */
function sws(generation: number, status?: { observedGeneration?: number; conditions?: Cond[] }): unknown {
  return {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: {
      name: "team-a",
      generation,
      uid: "7c1a",
      annotations: { note: 'quotes " and \\ and ünïcode' },
    },
    spec: { namespaces: [{ name: "team-a-dev" }], enforcement: "Enforce" },
    ...(status ? { status } : {}),
  };
}

describe("Argo CD health check (config/argocd/health.lua)", () => {
  it("is Healthy with the Ready message when Ready=True for the current generation", () => {
    const obj = sws(3, { observedGeneration: 3, conditions: [ready(), notReconciling, notStalled] });
    expect(health(obj)).to.deep.equal({ status: "Healthy", message: "2/2 namespaces hold the baseline" });
  });

  it("is Healthy in Audit mode (Ready=True, reason Audited)", () => {
    const audited: Cond = {
      ...ready("audit mode: 2 objects differ from the baseline in 1 namespaces"),
      reason: "Audited",
    };
    const obj = sws(1, { observedGeneration: 1, conditions: [audited, notReconciling, notStalled] });
    expect(health(obj).status).to.equal("Healthy");
  });

  it("is Progressing while Reconciling=True, with the condition's reason and message", () => {
    const conditions: Cond[] = [
      {
        type: "Ready",
        status: "False",
        reason: "MeshNotInstalled",
        message: "Istio's security API is not served",
      },
      {
        type: "Reconciling",
        status: "True",
        reason: "WaitingForMesh",
        message: "waiting for the security.istio.io/v1 API",
      },
      notStalled,
    ];
    expect(health(sws(2, { observedGeneration: 2, conditions }))).to.deep.equal({
      status: "Progressing",
      message: "WaitingForMesh: waiting for the security.istio.io/v1 API",
    });
  });

  it("is Progressing while the status describes an older generation, even one that was Ready", () => {
    const obj = sws(5, { observedGeneration: 4, conditions: [ready(), notReconciling, notStalled] });
    expect(health(obj)).to.deep.equal({
      status: "Progressing",
      message: "Waiting for the operator to observe generation 5 (status is for generation 4)",
    });
  });

  it("is Progressing when the operator has written no status yet", () => {
    expect(health(sws(1))).to.deep.equal({
      status: "Progressing",
      message: "Waiting for the operator to report status",
    });
    expect(health(sws(1, { conditions: [] })).status).to.equal("Progressing");
  });

  it("is Progressing when the status has no Ready condition yet", () => {
    expect(health(sws(1, { observedGeneration: 1, conditions: [notReconciling] }))).to.deep.equal({
      status: "Progressing",
      message: "Waiting for the Ready condition",
    });
  });

  it("is Degraded with the Stalled condition's message when the operator cannot converge", () => {
    const message = 'namespace shared is owned by SecureWorkspace "team-b"';
    const conditions: Cond[] = [
      {
        type: "Ready",
        status: "False",
        reason: "NamespaceConflict",
        message: `0/1 namespaces hold the baseline; ${message}`,
      },
      {
        type: "Reconciling",
        status: "False",
        reason: "NamespaceConflict",
        message: "waiting for a spec change",
      },
      { type: "Stalled", status: "True", reason: "NamespaceConflict", message },
    ];
    expect(health(sws(7, { observedGeneration: 7, conditions }))).to.deep.equal({
      status: "Degraded",
      message: `NamespaceConflict: ${message}`,
    });
  });

  it("is Progressing, not Degraded, when a Stalled status is about an older generation (the new spec may fix it)", () => {
    const stalled: Cond = {
      type: "Stalled",
      status: "True",
      reason: "InvalidSpec",
      message: "spec.namespaces: empty",
    };
    expect(health(sws(8, { observedGeneration: 7, conditions: [stalled] })).status).to.equal("Progressing");
  });

  it("is the script that config/argocd/README.md's argocd-cm snippet embeds", () => {
    const readme = readFileSync(path.join(repoRoot(), "config", "argocd", "README.md"), "utf8").split("\n");
    const start = readme.findIndex((l) =>
      l.includes("resource.customizations.health.secureworkspace.io_SecureWorkspace: |"),
    );
    expect(start, "argocd-cm key in the README").to.be.greaterThan(-1);
    const end = readme.findIndex((l, i) => i > start && l.startsWith("```"));
    const embedded = readme
      .slice(start + 1, end)
      .map((l) => l.replace(/^ {4}/, ""))
      .join("\n");
    expect(`${embedded}\n`).to.equal(readFileSync(HEALTH_LUA, "utf8"));
  });
});
