import { expect } from "chai";
import fc from "fast-check";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { RequestOptions } from "node:https";
import type { ClusterAccess } from "../../../src/runtime/kubeconfig.js";
import { LineSplitter, parseWatchLine, WatchStream } from "../../../src/runtime/watch.js";
import { waitFor } from "../../support/wait.js";

describe("LineSplitter", () => {
  it("yields the same non-blank lines however the text is cut into chunks", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: "grapheme", maxLength: 30 }).map((s) => s.replace(/\n/g, "")),
          {
            maxLength: 20,
          },
        ),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.boolean(),
        (lines, cuts, finalNewline) => {
          const text = lines.join("\n") + (finalNewline ? "\n" : "");
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let at = 0;
          for (const p of points) {
            chunks.push(text.slice(at, p));
            at = p;
          }
          chunks.push(text.slice(at));
          const seen: string[] = [];
          const splitter = new LineSplitter();
          for (const chunk of chunks) splitter.push(chunk, (l) => seen.push(l));
          splitter.end((l) => seen.push(l));
          expect(seen).to.deep.equal(lines.filter((l) => l.trim() !== ""));
        },
      ),
    );
  });
});

describe("parseWatchLine", () => {
  it("reads events and skips what is not one", () => {
    expect(parseWatchLine('{"type":"ADDED","object":{"a":1}}')).to.deep.equal({
      type: "ADDED",
      object: { a: 1 },
    });
    expect(parseWatchLine("not json")).to.equal(undefined);
    expect(parseWatchLine("null")).to.equal(undefined);
    expect(parseWatchLine('{"object":{}}')).to.equal(undefined);
  });
});

describe("WatchStream against a local server", () => {
  let server: Server;
  let handler: (req: IncomingMessage, res: ServerResponse) => void;
  const open = new Set<ServerResponse>();

  before(async () => {
    server = createServer((req, res) => {
      open.add(res);
      res.on("close", () => open.delete(res));
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  after(async () => {
    for (const res of open) res.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function access(apply: (opts: RequestOptions) => Promise<void> = () => Promise.resolve()): ClusterAccess {
    const { port } = server.address() as AddressInfo;
    return {
      getCurrentCluster: () => ({ server: `http://127.0.0.1:${String(port)}` }),
      applyToHTTPSOptions: async (opts) => {
        opts.headers = { ...(opts.headers as Record<string, string>), Authorization: "Bearer t" };
        await apply(opts);
      },
    };
  }

  it("sends watch=true, the query and the credentials, delivers events split across writes, then ends cleanly", async () => {
    let request: IncomingMessage | undefined;
    handler = (req, res) => {
      request = req;
      res.writeHead(200, { "Content-Type": "application/json" });
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n{"type":"MOD');
      setTimeout(() => {
        res.write('IFIED","object":{"metadata":{"name":"é"}}}\n\nnot json\n');
        res.end('{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"9"}}}');
      }, 20);
    };
    const events: Array<[string, unknown]> = [];
    let doneWith: unknown = "not called";
    const controller = await new WatchStream(access()).watch(
      "/api/v1/namespaces",
      { resourceVersion: "5", allowWatchBookmarks: true, timeoutSeconds: 30 },
      (type, obj) => events.push([type, obj]),
      (err) => (doneWith = err),
    );
    expect(controller).to.be.instanceOf(AbortController);
    await waitFor(() => doneWith !== "not called");
    expect(doneWith).to.equal(null);
    const url = new URL(request?.url ?? "", "http://x");
    expect(url.pathname).to.equal("/api/v1/namespaces");
    expect(Object.fromEntries(url.searchParams)).to.deep.equal({
      watch: "true",
      resourceVersion: "5",
      allowWatchBookmarks: "true",
      timeoutSeconds: "30",
    });
    expect(request?.headers["authorization"]).to.equal("Bearer t");
    expect(events.map(([t]) => t)).to.deep.equal(["ADDED", "MODIFIED", "BOOKMARK"]);
    expect(events[1]?.[1]).to.deep.equal({ metadata: { name: "é" } });
  });

  it("ends with an error carrying the HTTP status for a non-200 answer, and still resolves", async () => {
    handler = (_req, res) => {
      res.writeHead(403, { "Content-Type": "application/json" });
      res.end('{"kind":"Status","reason":"Forbidden"}');
    };
    let doneWith: unknown;
    let calls = 0;
    await new WatchStream(access()).watch(
      "/api/v1/pods",
      {},
      () => undefined,
      (err) => {
        calls += 1;
        doneWith = err;
      },
    );
    await waitFor(() => doneWith !== undefined);
    expect(doneWith).to.be.instanceOf(Error).and.include({ statusCode: 403 });
    expect(String(doneWith)).to.contain("/api/v1/pods").and.contain("403").and.contain("Forbidden");
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).to.equal(1);
  });

  it("rejects when the credentials cannot be built, without calling done", async () => {
    let called = false;
    const failing = access(() => Promise.reject(new Error("token file gone")));
    let error: unknown;
    await new WatchStream(failing)
      .watch(
        "/api/v1/pods",
        {},
        () => undefined,
        () => (called = true),
      )
      .catch((err: unknown) => (error = err));
    expect(String(error)).to.contain("token file gone");
    expect(called).to.be.false;
  });

  it("calls done once with the error when the connection fails", async () => {
    const refused: ClusterAccess = {
      getCurrentCluster: () => ({ server: "http://127.0.0.1:1" }),
      applyToHTTPSOptions: () => Promise.resolve(),
    };
    let doneWith: unknown;
    await new WatchStream(refused).watch(
      "/api/v1/pods",
      {},
      () => undefined,
      (err) => (doneWith = err),
    );
    await waitFor(() => doneWith !== undefined);
    expect(doneWith).to.be.instanceOf(Error).and.include({ code: "ECONNREFUSED" });
  });

  it("stops delivering after its controller aborts, and reports the end once", async () => {
    let response: ServerResponse | undefined;
    handler = (_req, res) => {
      response = res;
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"metadata":{"name":"a"}}}\n');
    };
    const events: string[] = [];
    let calls = 0;
    const controller = await new WatchStream(access()).watch(
      "/api/v1/pods",
      {},
      (type) => events.push(type),
      () => (calls += 1),
    );
    await waitFor(() => events.length === 1);
    controller.abort();
    response?.write('{"type":"DELETED","object":{"metadata":{"name":"a"}}}\n');
    await waitFor(() => calls === 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(events).to.deep.equal(["ADDED"]);
    expect(calls).to.equal(1);
  });

  it("ends the watch with the error when an event handler throws", async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{}}\n');
    };
    let doneWith: unknown;
    await new WatchStream(access()).watch(
      "/api/v1/pods",
      {},
      () => {
        throw new Error("handler bug");
      },
      (err) => (doneWith = err),
    );
    await waitFor(() => doneWith !== undefined);
    expect(String(doneWith)).to.contain("handler bug");
  });
});
