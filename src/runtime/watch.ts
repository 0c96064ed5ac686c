/**
 * One watch request streamed line by line: the part of client-node's `Watch` the informer used,
 * without importing client-node (see kubeconfig.ts for what that import costs). Same contract as
 * client-node 1.4's `Watch.watch`, so the informer's loop did not change: the promise resolves with
 * an AbortController once the response headers arrived (or the request failed), rejects only when
 * building the request fails (e.g. unreadable credentials), and `done` is called exactly once.
 */
import { request as httpsRequest, type RequestOptions } from "node:https";
import { request as httpRequest, type IncomingMessage } from "node:http";
import type { ClusterAccess } from "./kubeconfig.js";

/** Called for every event: `type` is ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (object is then a Status). */
export type WatchEventHandler = (type: string, object: unknown) => void;

/** Called once when the stream ends: null for a clean end, else the error (with `statusCode` for HTTP). */
export type WatchDoneHandler = (err: unknown) => void;

/** A non-200 answer to a watch request. */
export class WatchHttpError extends Error {
  constructor(
    message: string,
    /** The HTTP status, read by the informer to classify the failure. */
    readonly statusCode: number,
  ) {
    super(message);
    this.name = "WatchHttpError";
  }
}

/** TCP keep-alive probes on a watch socket (as client-node): a dead peer is noticed without traffic. */
const KEEPALIVE_DELAY_MS = 30_000;

/** The most of a non-200 answer's body kept for the error message. */
const ERROR_BODY_LIMIT = 500;

/**
 * Splits a stream of text into lines. Chunks may cut a line (or a UTF-8 character, which the caller
 * avoids with setEncoding) anywhere; a line is handed on only when its newline arrived.
 */
export class LineSplitter {
  private pending = "";

  /** Feeds a chunk; calls `onLine` for each completed, non-blank line. */
  push(chunk: string, onLine: (line: string) => void): void {
    let text = this.pending + chunk;
    let newline = text.indexOf("\n");
    while (newline !== -1) {
      const line = text.slice(0, newline);
      text = text.slice(newline + 1);
      if (line.trim() !== "") onLine(line);
      newline = text.indexOf("\n");
    }
    this.pending = text;
  }

  /** Ends the stream: a last line without a newline is still a line. */
  end(onLine: (line: string) => void): void {
    const rest = this.pending;
    this.pending = "";
    if (rest.trim() !== "") onLine(rest);
  }
}

/** A watch event line, `{"type": ..., "object": ...}`; undefined for anything else (skipped, as client-node). */
export function parseWatchLine(line: string): { type: string; object: unknown } | undefined {
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof data !== "object" || data === null) return undefined;
  const record = data as { type?: unknown; object?: unknown };
  return typeof record.type === "string" ? { type: record.type, object: record.object } : undefined;
}

/** Watches collections of one cluster. */
export class WatchStream {
  constructor(private readonly access: ClusterAccess) {}

  /**
   * Starts a watch of `path` (a collection path) with `query` (watch=true is added). See the module
   * comment for the contract. An exception thrown by `onEvent` ends the watch with that error.
   */
  async watch(
    path: string,
    query: Readonly<Record<string, string | number | boolean>>,
    onEvent: WatchEventHandler,
    done: WatchDoneHandler,
  ): Promise<AbortController> {
    const cluster = this.access.getCurrentCluster();
    if (!cluster) throw new Error("watch: the kubeconfig has no current cluster");
    const url = new URL(cluster.server + path);
    url.searchParams.set("watch", "true");
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
    const opts: RequestOptions = { headers: { Accept: "application/json" } };
    await this.access.applyToHTTPSOptions(opts);
    const controller = new AbortController();
    opts.method = "GET";
    opts.signal = controller.signal;
    let finished = false;
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      controller.abort();
      done(err);
    };
    return new Promise<AbortController>((resolve) => {
      const send = url.protocol === "https:" ? httpsRequest : httpRequest;
      const req = send(url, opts, (res) => {
        if (res.statusCode === 200) this.stream(res, onEvent, finish);
        else failWithStatus(res, `watch ${path}`, finish);
        resolve(controller);
      });
      req.on("socket", (socket) => socket.setKeepAlive(true, KEEPALIVE_DELAY_MS));
      req.on("error", (err) => {
        finish(err);
        resolve(controller);
      });
      req.end();
    });
  }

  private stream(res: IncomingMessage, onEvent: WatchEventHandler, finish: (err: unknown) => void): void {
    const lines = new LineSplitter();
    const deliver = (line: string): void => {
      const event = parseWatchLine(line);
      if (event) onEvent(event.type, event.object);
    };
    // Multi-byte characters split across chunks are joined by the decoder, not the splitter.
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      try {
        lines.push(chunk, deliver);
      } catch (err) {
        finish(err);
      }
    });
    res.on("end", () => {
      try {
        lines.end(deliver);
        finish(null);
      } catch (err) {
        finish(err);
      }
    });
    res.on("error", finish);
    // A connection cut mid-stream may end with only 'close'. Reported as a clean end, as client-node
    // does: the informer then resumes from its last resourceVersion (a 410 says if that is too old).
    res.on("close", () => finish(null));
  }
}

/** Reads (a bounded part of) a non-200 answer and ends the watch with an error carrying the status. */
function failWithStatus(res: IncomingMessage, what: string, finish: (err: unknown) => void): void {
  const status = res.statusCode ?? 0;
  let body = "";
  res.setEncoding("utf8");
  res.on("data", (chunk: string) => {
    if (body.length < ERROR_BODY_LIMIT) body += chunk;
  });
  const fail = (): void => {
    const detail = body.trim().slice(0, ERROR_BODY_LIMIT);
    finish(new WatchHttpError(`${what}: HTTP ${String(status)}${detail ? `: ${detail}` : ""}`, status));
  };
  res.on("end", fail);
  res.on("close", fail);
  res.on("error", fail);
}
