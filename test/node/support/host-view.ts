/**
 * A container's process as the host sees it: what the kernel actually applied (seccomp mode,
 * effective capabilities, user, no_new_privs, a read-only root), read from /proc on the host,
 * not reported by the container about itself.
 */
import { readFileSync } from "node:fs";
import { nodeEnv } from "../../harness/node-root-hooks.js";
import { kubectl } from "./pods.js";

/** What the kernel applied to a container's main process. */
export interface ProcessView {
  readonly pid: number;
  /** /proc/<pid>/status Seccomp: 0 off, 1 strict, 2 filter. */
  readonly seccomp: number;
  /** Effective capabilities, hex. */
  readonly capEff: string;
  readonly uid: number;
  readonly noNewPrivs: boolean;
  /** The root mount's options include "ro". */
  readonly readOnlyRoot: boolean;
  /** The command line (argv). */
  readonly argv: string[];
}

/** The host pid of a pod's container, from containerd's task list. */
export async function containerPid(namespace: string, pod: string, container: string): Promise<number> {
  const id =
    (await kubectl([
      "get", "pod", "-n", namespace, pod, "-o",
      `jsonpath={.status.containerStatuses[?(@.name=="${container}")].containerID}`,
    ])) // prettier-ignore
      .replace(/^containerd:\/\//, "");
  if (!id) throw new Error(`${namespace}/${pod}: no container ${container} yet`);
  const line = nodeEnv()
    .node.ctr(["tasks", "ls"])
    .split("\n")
    .find((l) => l.startsWith(id));
  const pid = Number(line?.split(/\s+/)[1]);
  if (!pid) throw new Error(`${namespace}/${pod}: no running task for container ${id}`);
  return pid;
}

/** Reads the process's status and root mount from the host's /proc. */
export function processView(pid: number): ProcessView {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): string =>
    new RegExp(`^${name}:\\s*(.*)$`, "m").exec(status)?.[1]?.trim() ?? "";
  const rootMount = readFileSync(`/proc/${pid}/mountinfo`, "utf8")
    .split("\n")
    .map((l) => l.split(" "))
    .find((f) => f[4] === "/");
  return {
    pid,
    seccomp: Number(field("Seccomp")),
    capEff: field("CapEff"),
    uid: Number(field("Uid").split(/\s+/)[1]), // effective uid
    noNewPrivs: field("NoNewPrivs") === "1",
    readOnlyRoot: (rootMount?.[5] ?? "").split(",").includes("ro"),
    argv: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean),
  };
}
