/**
 * A private copy of the built operator for one benchmark run. Other engineers rebuild the shared
 * dist/ at any time: with a copy, every operator process of one run executes the same code.
 */
import { copyFileSync, cpSync, symlinkSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";

/** Copies dist/src, crds/ and package.json into `dir` (node_modules linked); returns its main.js. */
export function snapshotOperatorBuild(dir: string): string {
  const root = repoRoot();
  cpSync(path.join(root, "dist", "src"), path.join(dir, "dist", "src"), { recursive: true });
  cpSync(path.join(root, "crds"), path.join(dir, "crds"), { recursive: true });
  copyFileSync(path.join(root, "package.json"), path.join(dir, "package.json"));
  symlinkSync(path.join(root, "node_modules"), path.join(dir, "node_modules"));
  return path.join(dir, "dist", "src", "main.js");
}
