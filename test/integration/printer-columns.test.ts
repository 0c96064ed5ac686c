/**
 * `kubectl get sws` and `kubectl get sws -o wide` on the real API server: the CRD's printer columns
 * (READY, REASON, NAMESPACES, ENFORCEMENT, AGE; -o wide adds FIRST-NAMESPACE, DRIFT-CORRECTIONS,
 * OBSERVED-GENERATION, LAST-DRIFT). No operator runs here: the test writes the status itself
 * through the status subresource, as the operator would (test/unit/controller/status.test.ts
 * proves what the operator computes; reconcile.test.ts that it writes it).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { installCrd } from "./support/crd.js";
import { adminKubeConfig } from "../harness/test-env.js";
import { kubectl } from "./support/admission.js";

const NAME = "printer-columns";

/** The table kubectl prints, as one record per row keyed by the header's column titles. */
function table(stdout: string): Record<string, string>[] {
  const [header = "", ...rows] = stdout.trimEnd().split("\n");
  // Columns start where a header title starts; titles hold no spaces (kubectl joins words with -).
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ title: m[0], at: m.index }));
  return rows.map((row) =>
    Object.fromEntries(
      starts.map((c, i) => [c.title, row.slice(c.at, starts[i + 1]?.at ?? row.length).trim()]),
    ),
  );
}

describe("kubectl get sws: printer columns (real API server)", function () {
  this.timeout(120_000);

  before(async () => {
    await installCrd(adminKubeConfig());
    await kubectl(["delete", "sws", NAME, "--ignore-not-found"]);
    const manifest = JSON.stringify({
      apiVersion: "secureworkspace.io/v1alpha1",
      kind: "SecureWorkspace",
      metadata: { name: NAME },
      spec: { enforcement: "Audit", namespaces: [{ name: "printer-a" }, { name: "printer-b" }] },
    });
    const file = path.join(mkdtempSync(path.join(tmpdir(), "sws-printer-")), "ws.json");
    writeFileSync(file, manifest);
    await kubectl(["create", "-f", file]);
    const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
    const status = {
      status: {
        observedGeneration: 1,
        driftCorrections: 7,
        lastDriftCorrection: { time: now, namespace: "printer-a", object: "NetworkPolicy/sws-default-deny" },
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "NamespaceConflict",
            message: "printer-b is owned by another workspace",
            lastTransitionTime: now,
          },
        ],
        namespaces: [
          { name: "printer-a", ready: true, managedObjects: 5 },
          { name: "printer-b", ready: false, managedObjects: 0 },
        ],
        // Two listed, one held: printer-b is refused.
        namespaceCount: 1,
      },
    };
    await kubectl([
      "patch",
      "sws",
      NAME,
      "--subresource=status",
      "--type=merge",
      "-p",
      JSON.stringify(status),
    ]);
  });

  after(async () => {
    await kubectl(["delete", "sws", NAME, "--ignore-not-found", "--wait=false"]).catch(() => undefined);
  });

  it("shows READY with its REASON, how many namespaces are held, the enforcement and the age", async () => {
    const [row] = table((await kubectl(["get", "sws", NAME])).stdout);
    expect(Object.keys(row ?? {})).to.deep.equal([
      "NAME",
      "READY",
      "REASON",
      "NAMESPACES",
      "ENFORCEMENT",
      "AGE",
    ]);
    expect(row).to.include({
      NAME,
      READY: "False",
      REASON: "NamespaceConflict",
      NAMESPACES: "1",
      ENFORCEMENT: "Audit",
    });
    expect(row?.["AGE"]).to.match(/^\d+[smhd]/);
  });

  it("adds the first namespace, drift corrections, observed generation and the last drift with -o wide", async () => {
    const [row] = table((await kubectl(["get", "sws", NAME, "-o", "wide"])).stdout);
    expect(Object.keys(row ?? {})).to.deep.equal([
      "NAME",
      "READY",
      "REASON",
      "NAMESPACES",
      "ENFORCEMENT",
      "AGE",
      "FIRST-NAMESPACE",
      "DRIFT-CORRECTIONS",
      "OBSERVED-GENERATION",
      "LAST-DRIFT",
    ]);
    expect(row).to.include({
      NAMESPACES: "1",
      "FIRST-NAMESPACE": "printer-a",
      "DRIFT-CORRECTIONS": "7",
      "OBSERVED-GENERATION": "1",
    });
    expect(row?.["LAST-DRIFT"]).to.match(/^\d+[smhd]/);
  });

  it("says what NAMESPACES counts in `kubectl explain` (a refused namespace is not held)", async () => {
    const { stdout } = await kubectl(["explain", "sws.status.namespaceCount"]);
    const text = stdout.replace(/\s+/g, " ");
    expect(text).to.match(/FIELD: namespaceCount <integer>/);
    expect(text).to.include("How many of the namespaces listed in spec.namespaces the workspace holds");
    expect(text).to.include("Not counted: a namespace it may not take");
  });
});
