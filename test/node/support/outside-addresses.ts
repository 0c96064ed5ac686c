/**
 * Stand-ins for addresses outside the pod network (e.g. a database range an egress allowance names):
 * extra /32 addresses on the node's bridge, served by TCP and UDP listeners in this process, which
 * answer like the probe's server ("ok <name>"). A pod reaches them through its default route (the
 * bridge's gateway address), so the packets enter the host's INPUT chain, where kube-router applies
 * the pod's egress policies as it does in FORWARD (kube-router v2.1.0, netpol/pod.go:
 * interceptPodOutboundTraffic jumps from INPUT, FORWARD and OUTPUT on the pod's source IP). The
 * addresses go with the bridge if a run is killed (the node's teardown deletes it).
 */
import { execFileSync } from "node:child_process";
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import { BRIDGE } from "../../harness/node/host.js";

/** Listeners on extra bridge addresses; `close()` stops them and removes the addresses. */
export interface OutsideAddresses {
  close(): Promise<void>;
}

function ip(args: string[]): void {
  try {
    execFileSync("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim() ?? "";
    throw new Error(`ip ${args.join(" ")}: ${stderr || String(err)}`, { cause: err });
  }
}

function listenTcp(address: string, port: number): Promise<Server> {
  const answer = `ok outside-${address}\n`;
  const server = createServer((socket) => socket.end(answer));
  return new Promise((resolve, reject) => {
    server.once("error", (err) => reject(new Error(`listen tcp ${address}:${port}`, { cause: err })));
    server.listen(port, address, () => resolve(server));
  });
}

function listenUdp(address: string, port: number): Promise<Socket> {
  const answer = Buffer.from(`ok outside-${address}\n`);
  const socket = createSocket("udp4");
  socket.on("message", (_msg, from) => socket.send(answer, from.port, from.address));
  return new Promise((resolve, reject) => {
    socket.once("error", (err) => reject(new Error(`listen udp ${address}:${port}`, { cause: err })));
    socket.bind(port, address, () => resolve(socket));
  });
}

/**
 * Adds each address to the bridge and listens on it on the given TCP and UDP ports. On a failure
 * half-way, what was set up is undone before the error is thrown.
 */
export async function serveOutsideAddresses(
  addresses: readonly string[],
  ports: { readonly tcp: readonly number[]; readonly udp: readonly number[] },
): Promise<OutsideAddresses> {
  const added: string[] = [];
  const servers: Server[] = [];
  const sockets: Socket[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of sockets) s.close();
    for (const a of added) ip(["addr", "del", `${a}/32`, "dev", BRIDGE]);
  };
  try {
    for (const a of addresses) {
      ip(["addr", "add", `${a}/32`, "dev", BRIDGE]);
      added.push(a);
      for (const port of ports.tcp) servers.push(await listenTcp(a, port));
      for (const port of ports.udp) sockets.push(await listenUdp(a, port));
    }
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
  return { close };
}
