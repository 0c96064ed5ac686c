/**
 * Locates (and on first use builds) the real node's binaries: test/nodebuild/build.sh builds each
 * part from its own Go module into a cache outside the repository, keyed by its go.sum.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../control-plane-binaries.js";

/** Paths of every binary the node runs, plus the directories containerd searches. */
export interface NodeBinaries {
  readonly kubelet: string;
  readonly scheduler: string;
  readonly containerd: string;
  /** Holds containerd-shim-runc-v2 (containerd finds the shim on PATH). */
  readonly containerdDir: string;
  readonly ctr: string;
  /** Holds bridge, host-local, loopback, portmap. */
  readonly cniDir: string;
  readonly kubeRouter: string;
  readonly imagetool: string;
  readonly pause: string;
  readonly probe: string;
}

/** Builds (when the cache lacks it) and returns one part's directory; progress goes to stderr. */
function part(name: string): string {
  return execFileSync(path.join(repoRoot(), "test", "nodebuild", "build.sh"), [name], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  }).trim();
}

/** Returns the node's binaries, building the missing parts (cold: about 15 minutes on 2 cores). */
export function nodeBinaries(): NodeBinaries {
  const k8s = part("k8s");
  const containerd = part("containerd");
  const cni = part("cni");
  const kubeRouter = part("kube-router");
  const images = part("images");
  const bins: NodeBinaries = {
    kubelet: path.join(k8s, "kubelet"),
    scheduler: path.join(k8s, "kube-scheduler"),
    containerd: path.join(containerd, "containerd"),
    containerdDir: containerd,
    ctr: path.join(containerd, "ctr"),
    cniDir: cni,
    kubeRouter: path.join(kubeRouter, "kube-router"),
    imagetool: path.join(images, "imagetool"),
    pause: path.join(images, "pause"),
    probe: path.join(images, "probe"),
  };
  for (const file of Object.values(bins) as string[]) {
    if (!existsSync(file)) throw new Error(`node binary missing: ${file}`);
  }
  return bins;
}
