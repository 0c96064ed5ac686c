/**
 * The harness leaves no stray processes: `make cluster`'s runner (cluster-cli.js) is stopped
 * with SIGINT, as Ctrl-C would, and every etcd / kube-apiserver / kube-controller-manager it
 * started must be gone, its data removed.
 */
import { execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { waitFor } from "../support/wait.js";

const execFileAsync = promisify(execFile);

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
    // Nothing left that points at the cluster that is gone (make cluster-stop).
    expect(existsSync(path.join(dir, "kubeconfig"))).to.equal(false);
  });

  it("removes a stale kubeconfig on stop when no cluster runs (make cluster-stop)", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "sws-teardown-"));
    for (const file of ["kubeconfig", "operator.kubeconfig"]) writeFileSync(path.join(dir, file), "stale\n");
    const { stdout } = await execFileAsync(
      process.execPath,
      [path.join(repoRoot(), "dist", "test", "harness", "cluster-cli.js"), "stop"],
      { env: { ...process.env, SWS_CLUSTER_DIR: dir } },
    );
    expect(stdout).to.match(/no local cluster is running \(removed the stale .*kubeconfig\)/);
    expect(readdirSync(dir)).to.deep.equal([]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("removes its sws-cluster-* directory when Ctrl-C ends a process whose stdout pipe is gone (make demo | tee)", async () => {
    // A process of its own with its own TMPDIR, so that only its directories are looked at.
    const tmp = mkdtempSync(path.join(tmpdir(), "sws-teardown-tmp-"));
    const script = [
      `import { LocalCluster } from ${JSON.stringify(path.join(repoRoot(), "dist", "test", "harness", "local-cluster.js"))};`,
      "await LocalCluster.start();",
      'console.log("ready");',
      "setInterval(() => console.log('still running'), 200);",
    ].join("\n");
    const runner = spawn(process.execPath, ["--input-type=module", "-e", script], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: ["ignore", "pipe", "ignore"],
    });
    const exited = new Promise<number | null>((resolve) => runner.once("exit", (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      runner.stdout.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("ready")) resolve();
      });
      runner.once("exit", () => reject(new Error("the cluster process ended before it was ready")));
    });
    expect(readdirSync(tmp).filter((f) => f.startsWith("sws-cluster-"))).to.have.length(1);
    // The reader goes first (tee dies with the same Ctrl-C), then the SIGINT.
    runner.stdout.destroy();
    runner.kill("SIGINT");
    expect(await exited).to.not.equal(null);
    expect(readdirSync(tmp).filter((f) => f.startsWith("sws-cluster-"))).to.deep.equal([]);
    rmSync(tmp, { recursive: true, force: true });
  });
});
