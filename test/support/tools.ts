/**
 * Locates (and on first use builds) the test tools that test/tools/build.sh builds from Go modules:
 * helm and promtool. The build is cached outside the repository; its progress (with a heartbeat)
 * goes to this process's stderr. SWS_HELM / SWS_PROMTOOL override the path.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";

/** A tool test/tools/build.sh knows. */
export type Tool = "helm" | "promtool";

/** How long a test hook may wait for a cold build of one tool (2 cores, shared with other builds). */
export const TOOL_BUILD_TIMEOUT_MS = 45 * 60_000;

/** The path of the tool's binary, built when the cache holds none for its pinned go.sum. */
export function toolBinary(tool: Tool): string {
  const override = process.env[tool === "helm" ? "SWS_HELM" : "SWS_PROMTOOL"];
  const file =
    override ??
    execFileSync(path.join(repoRoot(), "test", "tools", "build.sh"), [tool], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }).trim();
  if (!existsSync(file)) throw new Error(`${tool} binary missing: ${file}`);
  return file;
}
