/**
 * Locates (and on first use builds) the kube-apiserver, kube-controller-manager and etcd binaries
 * that test/apiserver/ builds from Go modules. The build is cached outside the repository.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Paths of the three control-plane binaries. */
export interface ControlPlaneBinaries {
  readonly dir: string;
  readonly apiserver: string;
  readonly controllerManager: string;
  readonly etcd: string;
}

/** The repository root, found from this file whether it runs from src (ts) or dist (js). */
export function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find the repository root (package.json)");
    dir = parent;
  }
  return dir;
}

/**
 * Returns the binaries, building them when the cache holds none for the pinned go.sum.
 * SWS_CONTROL_PLANE_BIN overrides the location (a directory holding all three).
 */
export function controlPlaneBinaries(): ControlPlaneBinaries {
  const dir =
    process.env["SWS_CONTROL_PLANE_BIN"] ??
    // Through the heartbeat wrapper: a cold build is silent for minutes between its progress lines.
    execFileSync(
      path.join(repoRoot(), "test", "tools", "heartbeat.sh"),
      ["building the control plane", path.join(repoRoot(), "test", "apiserver", "build.sh")],
      {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      },
    ).trim();
  const bins: ControlPlaneBinaries = {
    dir,
    apiserver: path.join(dir, "kube-apiserver"),
    controllerManager: path.join(dir, "kube-controller-manager"),
    etcd: path.join(dir, "etcd"),
  };
  for (const file of [bins.apiserver, bins.controllerManager, bins.etcd]) {
    if (!existsSync(file)) throw new Error(`control-plane binary missing: ${file}`);
  }
  return bins;
}
