/**
 * `sws audit -o oscal`: the OSCAL assessment-results document built from workspaces' status, its
 * shape checked here and its validity judged by compliance-trestle's OSCAL models (the real tool,
 * installed from PyPI into a cached virtualenv).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { expect } from "chai";
import fc from "fast-check";
import type { ControlStatus, SecureWorkspace } from "../../src/api/types.js";
import { auditRows, formatReport, type AuditRequest } from "../../src/audit.js";
import { assessmentResults, findingState, OSCAL_VERSION, oscalControlId, uuidFor } from "../../src/oscal.js";
import { validateWithTrestle, trestlePython } from "../support/trestle.js";

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const NOW = new Date("2026-12-01T10:00:00.000Z");

function ws(name: string, controls?: ControlStatus[]): SecureWorkspace {
  return {
    apiVersion: "secureworkspace.io/v1alpha1",
    kind: "SecureWorkspace",
    metadata: { name, generation: 2 },
    spec: { namespaces: [{ name: `${name}-dev` }, { name: `${name}-prod` }] },
    ...(controls
      ? {
          status: {
            observedGeneration: 2,
            conditions: [
              {
                type: "Ready",
                status: "True",
                reason: "Enforced",
                message: "",
                lastTransitionTime: NOW.toISOString(),
              },
            ],
            controls,
          },
        }
      : {}),
  };
}

const SC7 = { id: "NIST-800-53:SC-7", title: "Boundary Protection" };
const FIXTURE: SecureWorkspace[] = [
  ws("team-a", [
    { ...SC7, state: "Compliant", evidence: "NetworkPolicy/sws-default-deny, NetworkPolicy/sws-allow-dns" },
    {
      id: "NIST-800-53:SC-8",
      title: "Transmission Confidentiality and Integrity",
      state: "NotApplicable",
      evidence: "no service mesh",
    },
  ]),
  ws("team-b", [
    { ...SC7, state: "NonCompliant", evidence: "team-b-dev: NetworkPolicy/sws-default-deny Missing" },
    {
      id: "NIST-800-53:AC-6",
      title: "Least Privilege",
      state: "Compliant",
      evidence: "RoleBinding/sws-view-0",
    },
  ]),
  ws("team-c"),
];

type Json = Record<string, unknown>;
const doc = (list: readonly SecureWorkspace[], seed = "test"): Json =>
  assessmentResults(list, auditRows(list), { version: "9.9.9", seed, now: NOW });
const body = (d: Json): Json => d["assessment-results"] as Json;
const result = (d: Json): Json => (body(d)["results"] as Json[])[0] ?? {};
const observations = (d: Json): Json[] => (result(d)["observations"] as Json[] | undefined) ?? [];
const findings = (d: Json): Json[] => (result(d)["findings"] as Json[] | undefined) ?? [];
const propValue = (o: Json, name: string): string | undefined =>
  (o["props"] as Array<{ name: string; value: string }>).find((p) => p.name === name)?.value;

/** Every value of a "uuid" or "*-uuid" key anywhere in the document. */
function uuids(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => uuids(v, out));
  else if (value !== null && typeof value === "object")
    for (const [k, v] of Object.entries(value)) {
      if ((k === "uuid" || k.endsWith("-uuid")) && typeof v === "string") out.push(v);
      else uuids(v, out);
    }
  return out;
}

describe("OSCAL assessment-results (sws audit -o oscal)", () => {
  describe("the document", () => {
    it("carries the metadata an OSCAL tool requires: title, last-modified, version, oscal-version", () => {
      expect(body(doc(FIXTURE))["metadata"]).to.deep.include({
        title: "SecureWorkspace compliance report",
        "last-modified": "2026-12-01T10:00:00.000Z",
        version: "9.9.9",
        "oscal-version": OSCAL_VERSION,
      });
      expect(OSCAL_VERSION).to.match(/^1\.1\.\d+$/);
    });

    it("has one observation per workspace x control, with the operator's evidence", () => {
      const obs = observations(doc(FIXTURE));
      expect(obs.map((o) => `${propValue(o, "workspace")}/${propValue(o, "control")}`)).to.deep.equal([
        "team-a/NIST-800-53:SC-7",
        "team-a/NIST-800-53:SC-8",
        "team-b/NIST-800-53:SC-7",
        "team-b/NIST-800-53:AC-6",
        "team-c/-",
      ]);
      expect(obs[2]?.["relevant-evidence"]).to.deep.equal([
        { description: "team-b-dev: NetworkPolicy/sws-default-deny Missing" },
      ]);
      expect(obs[4]?.["relevant-evidence"]).to.deep.equal([
        { description: "no status yet: is the operator running?" },
      ]);
    });

    it("maps Compliant to satisfied and NonCompliant to not-satisfied; NotApplicable and Unknown get no finding", () => {
      const d = doc(FIXTURE);
      const got = findings(d).map((f) => {
        const target = f["target"] as { "target-id": string; status: { state: string } };
        return `${propValue(f, "workspace")} ${target["target-id"]} ${target.status.state}`;
      });
      expect(got).to.deep.equal([
        "team-a sc-7_smt satisfied",
        "team-b sc-7_smt not-satisfied",
        "team-b ac-6_smt satisfied",
      ]);
      expect(findingState("NotApplicable")).to.equal(undefined);
      expect(findingState("Unknown")).to.equal(undefined);
    });

    it("links each finding to its observation, and each observation to its workspace's inventory item", () => {
      const d = doc(FIXTURE);
      const items = ((result(d)["local-definitions"] as Json)["inventory-items"] as Json[]).map(
        (i) => i["uuid"],
      );
      expect(items).to.have.length(3);
      const obsByUuid = new Map(observations(d).map((o) => [o["uuid"], o]));
      for (const o of observations(d)) {
        const subject = (o["subjects"] as Array<Record<string, string>>)[0];
        expect(items).to.include(subject?.["subject-uuid"]);
      }
      for (const f of findings(d)) {
        const link = (f["related-observations"] as Array<Record<string, string>>)[0]?.["observation-uuid"];
        const o = obsByUuid.get(link);
        expect(o, "the related observation exists").to.not.equal(undefined);
        expect(propValue(o ?? {}, "control")).to.equal(propValue(f, "control"));
        expect(propValue(o ?? {}, "workspace")).to.equal(propValue(f, "workspace"));
      }
    });

    it("lists the reviewed controls by their NIST SP 800-53 catalogue ids", () => {
      expect(result(doc(FIXTURE))["reviewed-controls"]).to.deep.equal({
        "control-selections": [
          {
            "include-controls": [
              { "control-id": "sc-7" },
              { "control-id": "sc-8" },
              { "control-id": "ac-6" },
            ],
          },
        ],
      });
      expect(oscalControlId("NIST-800-53:AC-6(9)")).to.equal("ac-6.9");
      expect(oscalControlId("NIST-800-53:SI-4")).to.equal("si-4");
    });
  });

  describe("UUIDs", () => {
    it("are version-4 UUIDs, all different within a document", () => {
      for (const seed of ["test", undefined]) {
        const all = uuids(
          assessmentResults(FIXTURE, auditRows(FIXTURE), {
            version: "1",
            now: NOW,
            ...(seed ? { seed } : {}),
          }),
        );
        const own = all.filter((u, i) => all.indexOf(u) === i);
        // Each uuid is defined once and referenced by subject-uuid / observation-uuid.
        expect(own.length).to.be.greaterThan(10);
        for (const u of all) expect(u).to.match(UUID_V4);
      }
    });

    it("are reproducible with a seed and random without one", () => {
      expect(doc(FIXTURE, "s1")).to.deep.equal(doc(FIXTURE, "s1"));
      expect(uuids(doc(FIXTURE, "s1"))).to.not.deep.equal(uuids(doc(FIXTURE, "s2")));
      expect(uuidFor(undefined, "x")).to.not.equal(uuidFor(undefined, "x"));
    });

    it("property: for any workspaces, observations = rows, findings = judged rows, uuids unique and v4", () => {
      const control = fc.record({
        id: fc.constantFrom(
          "NIST-800-53:SC-7",
          "NIST-800-53:AC-3",
          "NIST-800-53:CM-6",
          "NIST-800-53:AC-6(9)",
        ),
        title: fc.string({ minLength: 1, maxLength: 20 }),
        state: fc.constantFrom("Compliant" as const, "NonCompliant" as const, "NotApplicable" as const),
        evidence: fc.string({ maxLength: 40 }),
      });
      const workspaces = fc.uniqueArray(
        fc.record({
          name: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
          controls: fc.option(fc.uniqueArray(control, { selector: (c) => c.id, maxLength: 4 })),
        }),
        { selector: (w) => w.name, maxLength: 5 },
      );
      fc.assert(
        fc.property(workspaces, fc.string(), (list, seed) => {
          const wss = list.map((w) => ws(w.name, w.controls ?? undefined));
          const rows = auditRows(wss);
          const d = assessmentResults(wss, rows, { version: "1", seed, now: NOW });
          expect(observations(d)).to.have.length(rows.length);
          expect(findings(d)).to.have.length(rows.filter((r) => findingState(r.state) !== undefined).length);
          const defined = [
            body(d)["uuid"],
            result(d)["uuid"],
            ...observations(d).map((o) => o["uuid"]),
            ...findings(d).map((f) => f["uuid"]),
          ];
          expect(new Set(defined).size).to.equal(defined.length);
          for (const u of uuids(d)) expect(u).to.match(UUID_V4);
        }),
        { numRuns: 200 },
      );
    });
  });

  describe("sws audit's report", () => {
    const request = (over: Partial<AuditRequest>): AuditRequest => ({
      format: "oscal",
      names: [],
      states: new Set(),
      seed: "r",
      ...over,
    });

    it("--state NonCompliant keeps only the failing controls in the OSCAL document (a findings list)", () => {
      const { text, rows } = formatReport(FIXTURE, request({ states: new Set(["NonCompliant"]) }), {
        version: "1",
        now: NOW,
      });
      expect(rows.map((r) => `${r.workspace}/${r.control}`)).to.deep.equal(["team-b/NIST-800-53:SC-7"]);
      const d = JSON.parse(text) as Json;
      expect(observations(d)).to.have.length(1);
      expect(findings(d)).to.have.length(1);
    });

    it("the table ends with a summary line", () => {
      const { text } = formatReport(FIXTURE, request({ format: "table" }), { version: "1" });
      const lines = text.split("\n");
      expect(lines[0]).to.match(/^WORKSPACE\s+READY\s+CONTROL/);
      expect(lines[lines.length - 1]).to.equal(
        "3 workspaces, 5 controls: 2 Compliant, 1 NonCompliant, 1 NotApplicable, 1 Unknown",
      );
    });
  });

  describe("validated by compliance-trestle (OSCAL 1.1.x models, from PyPI)", function () {
    // First run installs compliance-trestle into ~/.cache (about a minute); then each check ~1 s.
    this.timeout(600_000);
    let tmp = "";
    const write = (name: string, value: unknown): string => {
      const file = path.join(tmp, name);
      writeFileSync(file, JSON.stringify(value, null, 2));
      return file;
    };

    before(() => {
      trestlePython();
      tmp = mkdtempSync(path.join(os.tmpdir(), "sws-oscal-"));
    });
    after(() => {
      if (tmp) rmSync(tmp, { recursive: true, force: true });
    });

    it("accepts the document: every observation and finding read, the declared OSCAL version supported", () => {
      const verdict = validateWithTrestle(write("fixture.json", doc(FIXTURE)));
      expect(verdict.error).to.equal(undefined);
      expect(verdict).to.include({
        valid: true,
        oscalVersion: OSCAL_VERSION,
        oscalVersionSupported: true,
        observations: 5,
      });
      expect(verdict.findings?.map((f) => f.state)).to.deep.equal([
        "satisfied",
        "not-satisfied",
        "satisfied",
      ]);
    });

    it("accepts the document of a cluster without workspaces, and one without seed (random UUIDs)", () => {
      expect(validateWithTrestle(write("empty.json", doc([]))).valid).to.equal(true);
      const random = assessmentResults(FIXTURE, auditRows(FIXTURE), { version: "0.1.0" });
      expect(validateWithTrestle(write("random.json", random)).valid).to.equal(true);
    });

    it("refuses a document with a state OSCAL does not know (the judge judges)", () => {
      const broken = doc(FIXTURE);
      ((findings(broken)[0]?.["target"] as Json)["status"] as Json)["state"] = "Compliant";
      const verdict = validateWithTrestle(write("broken.json", broken));
      expect(verdict.valid).to.equal(false);
      expect(verdict.error).to.include("satisfied");
    });
  });
});
