/**
 * A loopback HTTPS proxy in front of the API server that can be switched, while the operator
 * runs through it, to be slow, to answer 500/429, or to reset connections.
 *
 * Why an HTTP-level fake (the house style allows one only for failure modes a real server will
 * not produce on demand): kube-apiserver returns a 500 or 429 burst only under real overload,
 * which a test cannot schedule. The proxy terminates TLS with the API server's own self-signed
 * serving certificate and key (kube-apiserver writes them to --cert-dir; its SANs cover
 * 127.0.0.1, and the operator's kubeconfig already trusts it as CA), so no certificate has to be
 * generated (node:crypto cannot issue X.509 certificates) and the operator's TLS verification
 * stays on. Requests are forwarded over a second TLS connection with the caller's own bearer
 * token, so authentication and RBAC are the real server's. Watch responses are streamed.
 */
import { readFileSync } from "node:fs";
import { Agent, createServer, request, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import path from "node:path";
import { Transform, type TransformCallback } from "node:stream";

/** What the proxy does to each request. */
export type ProxyMode =
  | { readonly kind: "pass" }
  /** Holds each request, and each response chunk (watch events too), for `ms`. */
  | { readonly kind: "delay"; readonly ms: number }
  /** Answers a `fraction` of requests itself with `status` (500 or 429 with Retry-After: 1). */
  | { readonly kind: "error"; readonly status: 500 | 429 | 503; readonly fraction: number }
  /** Resets every connection, open ones (watches) at once and new ones as they arrive. */
  | { readonly kind: "reset" };

/** Counters of what the proxy did. */
export interface ProxyStats {
  requests: number;
  delayed: number;
  errors: number;
  resets: number;
}

/** Delays every chunk by a fixed time, keeping their order. */
class DelayStream extends Transform {
  constructor(private readonly ms: () => number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    const ms = this.ms();
    if (ms <= 0) return done(null, chunk);
    setTimeout(() => done(null, chunk), ms);
  }
}

/** The proxy; see the module comment. */
export class FaultProxy {
  readonly stats: ProxyStats = { requests: 0, delayed: 0, errors: 0, resets: 0 };
  private mode: ProxyMode = { kind: "pass" };
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    private readonly upstream: URL,
    private readonly agent: Agent,
    readonly url: string,
  ) {}

  /**
   * Starts on a free loopback port in front of `upstream` (the API server URL), with the
   * certificate and key kube-apiserver generated in `certDir`, trusting `caPem` upstream.
   */
  static async start(upstream: string, certDir: string, caPem: string): Promise<FaultProxy> {
    const cert = readFileSync(path.join(certDir, "apiserver.crt"));
    const key = readFileSync(path.join(certDir, "apiserver.key"));
    const agent = new Agent({ ca: caPem, keepAlive: true, maxSockets: 64 });
    const server = createServer({ cert, key });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => resolve());
    });
    const address = server.address();
    if (!address || typeof address !== "object") throw new Error("proxy has no address");
    const proxy = new FaultProxy(server, new URL(upstream), agent, `https://127.0.0.1:${address.port}`);
    server.on("connection", (socket: Socket) => {
      proxy.sockets.add(socket);
      socket.once("close", () => proxy.sockets.delete(socket));
      if (proxy.mode.kind === "reset") proxy.reset(socket);
    });
    server.on("request", (req: IncomingMessage, res: ServerResponse) => proxy.handle(req, res));
    // A client that disappears mid-handshake is expected in reset mode: not an error.
    server.on("tlsClientError", () => undefined);
    return proxy;
  }

  /** Switches the behaviour; entering "reset" resets every open connection at once. */
  setMode(mode: ProxyMode): void {
    this.mode = mode;
    if (mode.kind === "reset") for (const socket of this.sockets) this.reset(socket);
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private reset(socket: Socket): void {
    this.stats.resets++;
    // A TCP RST, not a FIN: what a crashed middlebox or a dropped NAT entry looks like.
    if (typeof socket.resetAndDestroy === "function" && !socket.destroyed) socket.resetAndDestroy();
    else socket.destroy();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    this.stats.requests++;
    const mode = this.mode;
    if (mode.kind === "reset") return this.reset(req.socket);
    if (mode.kind === "error" && Math.random() < mode.fraction) {
      this.stats.errors++;
      const tooMany = mode.status === 429;
      const body = JSON.stringify({
        kind: "Status",
        apiVersion: "v1",
        metadata: {},
        status: "Failure",
        message: tooMany ? "fault proxy: too many requests" : "fault proxy: injected server error",
        reason: tooMany ? "TooManyRequests" : mode.status === 503 ? "ServiceUnavailable" : "InternalError",
        code: mode.status,
      });
      // Read (and drop) the request body first, so the client is not left writing into a closed stream.
      req.resume();
      req.on("end", () => {
        res.writeHead(mode.status, {
          "Content-Type": "application/json",
          "Content-Length": Buffer.byteLength(body),
          ...(tooMany ? { "Retry-After": "1" } : {}),
        });
        res.end(body);
      });
      return;
    }
    if (mode.kind === "delay") {
      this.stats.delayed++;
      req.pause();
      setTimeout(() => this.forward(req, res), mode.ms);
      return;
    }
    this.forward(req, res);
  }

  private forward(req: IncomingMessage, res: ServerResponse): void {
    if (req.socket.destroyed) return;
    const headers = { ...req.headers, host: this.upstream.host };
    let upstreamDone = false;
    const upstreamReq = request(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.agent,
      },
      (upstreamRes) => {
        res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.headers);
        const delay = new DelayStream(() => (this.mode.kind === "delay" ? this.mode.ms : 0));
        upstreamRes.pipe(delay).pipe(res);
        upstreamRes.on("end", () => (upstreamDone = true));
        upstreamRes.on("error", () => res.destroy());
      },
    );
    upstreamReq.on("error", () => {
      if (!res.headersSent) {
        res.writeHead(502, { "Content-Type": "text/plain" });
        res.end("fault proxy: upstream error");
      } else res.destroy();
    });
    // The caller went away (reset, timeout, watch stopped): stop the upstream request too.
    res.on("close", () => {
      if (!upstreamDone) upstreamReq.destroy();
    });
    req.pipe(upstreamReq);
    req.resume();
  }
}
