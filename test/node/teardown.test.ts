/**
 * Runs last (test/.mocharc.node.json): the node's teardown returns the host to its state before
 * the start, after a normal stop and after a crash (the next start, or `make node-clean`, cleans
 * up what a killed run left: processes, mounts, cgroups, the bridge and veths, iptables, ipsets,
 * host paths, the lock).
 */
import { expect } from "chai";
import { spawn } from "node:child_process";
import { rmSync } from "node:fs";
import path from "node:path";
import { repoRoot } from "../harness/control-plane-binaries.js";
import { leftovers, lockRecord, recoverHost } from "../harness/node/host.js";
import { nodeEnv } from "../harness/node-root-hooks.js";

describe("Real node teardown", function () {
  it("leaves nothing behind after a stop: processes, mounts, cgroups, network, iptables, ipsets, host paths", async function () {
    const { node } = nodeEnv();
    await nodeEnv().stop();
    expect(node.leftovers()).to.deep.equal([]);
  });

  it("cleans up after a killed run: the next start (or make node-clean) removes what it left", async function () {
    const child = spawn(
      process.execPath,
      [path.join(repoRoot(), "dist", "test", "node", "support", "crash-child.js")],
      {
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    const clusterDir = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", () => {
        const m = /^READY (\S+)$/m.exec(output);
        if (m) resolve(m[1]);
      });
      child.once("exit", (code) => reject(new Error(`the crashing run exited early (${code}):\n${output}`)));
    });
    const record = lockRecord();
    expect(record, "the killed run's lock record").to.not.equal(undefined);
    // The whole process group: the test process, the control plane, kubelet, containerd, kube-router.
    // Shims and containers run in their own sessions and stay, as after a real crash.
    process.kill(-child.pid!, "SIGKILL");
    await new Promise((r) => setTimeout(r, 500));
    expect(leftovers(record!), "a killed run leaves things behind").to.not.deep.equal([]);

    expect(recoverHost(() => undefined)?.dir).to.equal(record!.dir);
    rmSync(clusterDir, { recursive: true, force: true }); // the control plane's temp dir (not the node's)
    expect(leftovers(record!)).to.deep.equal([]);
  });
});
