/**
 * The harness leaves no stray processes: `make cluster`'s runner (cluster-cli.js) is stopped
 * with SIGINT, as Ctrl-C would, and every etcd / kube-apiserver / kube-controller-manager it
 * started must be gone, its data removed.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "chai";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { waitFor } from "../support/wait.js";

/** Pids of every live descendant of `pid`, from /proc. */
function descendants(pid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      parentOf.set(Number(entry), ppid);
    } catch {
      // the process ended while we looked
    }
  }
  const out: number[] = [];
  const walk = (p: number): void => {
    for (const [child, parent] of parentOf) if (parent === p) (out.push(child), walk(child));
  };
  walk(pid);
  return out;
}

const alive = (pid: number): boolean =>
  existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");

describe("cluster harness teardown", function () {
  this.timeout(240_000);

  it("stops etcd, kube-apiserver and kube-controller-manager on SIGINT and removes its data", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sws-teardown-"));
    const runner = spawn(
      process.execPath,
      [path.join(repoRoot(), "dist", "test", "harness", "cluster-cli.js"), "run"],
      {
        env: { ...process.env, SWS_CLUSTER_DIR: dir },
        stdio: "ignore",
      },
    );
    const exited = new Promise<number | null>((resolve) => runner.once("exit", (code) => resolve(code)));
    await waitFor(() => existsSync(path.join(dir, "ready")), {
      timeoutMs: 200_000,
      message: "cluster ready",
    });
    const children = descendants(runner.pid ?? -1);
    const names = children.map((p) => readFileSync(`/proc/${p}/comm`, "utf8").trim());
    expect(names).to.include.members(["etcd", "kube-apiserver", "kube-controller"]);
    runner.kill("SIGINT");
    expect(await exited).to.equal(0);
    await waitFor(() => children.every((p) => !alive(p)), {
      timeoutMs: 30_000,
      message: "no stray processes",
    });
    expect(existsSync(path.join(dir, "data"))).to.equal(false);
  });
});
