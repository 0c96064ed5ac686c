/**
 * The probe and scrape endpoint: GET /healthz (liveness), /readyz (readiness), /metrics (Prometheus).
 * Plain node:http, no framework: three routes do not justify a dependency.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Metrics } from "./metrics.js";

/** Options for {@link startHealthServer}. */
export interface HealthServerOptions {
  /** TCP port; 0 picks a free one (see {@link HealthServer.port}). */
  readonly port: number;
  /** Address to bind, default all interfaces. */
  readonly host?: string;
  /** What /metrics renders. */
  readonly metrics: Pick<Metrics, "render" | "contentType">;
  /** /healthz answers 200 while this is true, else 500 (the kubelet restarts the container). */
  readonly isLive: () => boolean;
  /** /readyz answers 200 while this is true, else 503. */
  readonly isReady: () => boolean;
  /** Told when /metrics cannot be rendered (the scrape gets a 500), default none. */
  readonly onError?: (err: unknown) => void;
}

/** A running health server. */
export interface HealthServer {
  /** The bound port (the real one when 0 was asked for). */
  readonly port: number;
  /** Stops listening and drops open connections (scrapers keep theirs alive). */
  close(): Promise<void>;
}

const TEXT = "text/plain; charset=utf-8";

function reply(res: ServerResponse, status: number, body: string, contentType = TEXT): void {
  // Probes and scrapes must always see the current state, never a cached one.
  res.writeHead(status, { "Content-Type": contentType, "Cache-Control": "no-store" });
  res.end(body);
}

/**
 * A probe callback that throws counts as failing (the answer must be a status code, not a crash),
 * and its error goes to onError: a failing probe with no word why would be silent.
 */
function probe(check: () => boolean, onError: ((err: unknown) => void) | undefined): boolean {
  try {
    return check();
  } catch (err: unknown) {
    onError?.(err);
    return false;
  }
}

async function handle(
  options: HealthServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    return reply(res, 405, "method not allowed\n");
  }
  // Probes may add query strings (e.g. ?verbose); only the path selects the route.
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  switch (path) {
    case "/healthz":
      return probe(options.isLive, options.onError) ? reply(res, 200, "ok") : reply(res, 500, "not live");
    case "/readyz":
      return probe(options.isReady, options.onError) ? reply(res, 200, "ok") : reply(res, 503, "not ready");
    case "/metrics": {
      let text: string;
      try {
        text = await options.metrics.render();
      } catch (err: unknown) {
        options.onError?.(err);
        return reply(res, 500, "metrics unavailable");
      }
      return reply(res, 200, text, options.metrics.contentType);
    }
    default:
      return reply(res, 404, "not found");
  }
}

/** Starts the server; resolves once it listens (rejects if the port cannot be bound). */
export function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server = createServer((req, res) => {
    handle(options, req, res).catch((err: unknown) => {
      // Only a broken socket gets here; an unhandled rejection would take the whole operator down.
      options.onError?.(err);
      res.destroy();
    });
  });
  return new Promise<HealthServer>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port: options.port, ...(options.host ? { host: options.host } : {}) }, () => {
      server.off("error", reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            // close() waits for keep-alive connections to go idle and time out; drop them now.
            server.closeAllConnections();
          }),
      });
    });
  });
}
