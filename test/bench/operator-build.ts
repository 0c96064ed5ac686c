/**
 * A private copy of the built operator for one benchmark run. Other engineers rebuild the shared
 * dist/ at any time: with a copy, every operator process of one run executes the same code.
 */
import { copyFileSync, cpSync, readFileSync, symlinkSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
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

/**
 * The node flags config/deployment.yaml gives the operator container in NODE_OPTIONS (none when it
 * sets none), so that by default the bench measures the process as deployed. Throws, naming the
 * field, when the manifest is not shaped as expected.
 */
export function deploymentNodeOptions(deploymentYaml: string): string[] {
  const doc: unknown = parse(deploymentYaml);
  const containers = field(field(field(field(doc, "spec"), "template"), "spec"), "containers");
  if (!Array.isArray(containers))
    throw new Error("config/deployment.yaml: spec.template.spec.containers is not a list");
  const operator: unknown = containers.find((c) => field(c, "name") === "operator");
  const env = field(operator, "env") ?? [];
  if (!Array.isArray(env))
    throw new Error("config/deployment.yaml: the operator container's env is not a list");
  const value = field(
    env.find((e) => field(e, "name") === "NODE_OPTIONS"),
    "value",
  );
  if (value === undefined) return [];
  if (typeof value !== "string") throw new Error("config/deployment.yaml: NODE_OPTIONS has no string value");
  return value.split(/\s+/).filter((a) => a !== "");
}

/** `obj[key]` when obj is an object, else undefined. */
function field(obj: unknown, key: string): unknown {
  return typeof obj === "object" && obj !== null ? (obj as Record<string, unknown>)[key] : undefined;
}

/** The NODE_OPTIONS flags of this checkout's config/deployment.yaml. */
export function deployedNodeOptions(): string[] {
  return deploymentNodeOptions(readFileSync(path.join(repoRoot(), "config", "deployment.yaml"), "utf8"));
}
