/**
 * compliance-trestle (IBM's OSCAL toolkit, from PyPI) as the judge of `sws audit -o oscal`: the
 * virtualenv that test/tools/trestle.sh installs once (cached), and test/tools/oscal-validate.py,
 * which reads a document with trestle's AssessmentResults model.
 */
import { execFileSync, spawnSync } from "node:child_process";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";

/** What trestle read from a document, or why it refused it. */
export interface TrestleVerdict {
  readonly valid: boolean;
  readonly error?: string;
  readonly trestle?: string;
  readonly trestleOscalVersion?: string;
  readonly oscalVersion?: string;
  readonly oscalVersionSupported?: boolean;
  readonly results?: number;
  readonly observations?: number;
  readonly findings?: ReadonlyArray<{ target: string; state: string; title: string }>;
}

let python: string | undefined;

/** The virtualenv's python, installing compliance-trestle on first use (about a minute). */
export function trestlePython(): string {
  python ??= execFileSync(path.join(repoRoot(), "test", "tools", "trestle.sh"), {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
  return python;
}

/** trestle's verdict on an OSCAL assessment-results JSON file. */
export function validateWithTrestle(file: string): TrestleVerdict {
  const run = spawnSync(
    trestlePython(),
    [path.join(repoRoot(), "test", "tools", "oscal-validate.py"), file],
    {
      encoding: "utf8",
    },
  );
  const line = run.stdout.trim().split("\n").pop() ?? "";
  if (!line.startsWith("{")) throw new Error(`oscal-validate.py: ${run.stderr || run.stdout}`);
  return JSON.parse(line) as TrestleVerdict;
}
