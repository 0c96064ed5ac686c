import { expect } from "chai";
import fc from "fast-check";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { KubeConfig, type KubernetesListObject, type V1ConfigMap } from "@kubernetes/client-node";
import {
  InformerError,
  jitteredTimeoutSeconds,
  ResilientInformer,
  statusCodeOf,
  watchQueryParams,
  type RestartInfo,
} from "../../../src/runtime/informer.js";
import { sleep, waitFor } from "../../support/wait.js";

describe("jitteredTimeoutSeconds", () => {
  it("stays within [base, 2 × base) for any random draw", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3600 }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (base, r) => {
          const t = jitteredTimeoutSeconds(base, r);
          expect(Number.isInteger(t)).to.be.true;
          expect(t).to.be.at.least(base);
          expect(t).to.be.below(Math.max(2 * base, base + 1));
        },
      ),
    );
  });
});

describe("watchQueryParams", () => {
  it("always asks for bookmarks and a server-side timeout", () => {
    expect(watchQueryParams({ resourceVersion: "42", timeoutSeconds: 300 })).to.deep.equal({
      allowWatchBookmarks: true,
      timeoutSeconds: 300,
      resourceVersion: "42",
    });
  });

  it("omits an empty resourceVersion and passes a label selector", () => {
    expect(
      watchQueryParams({ resourceVersion: "", labelSelector: "a=b,c in (d)", timeoutSeconds: 5 }),
    ).to.deep.equal({
      allowWatchBookmarks: true,
      timeoutSeconds: 5,
      labelSelector: "a=b,c in (d)",
    });
  });
});

describe("statusCodeOf", () => {
  it("reads a watch error's statusCode and an ApiException's numeric code, not a FetchError's string code", () => {
    expect(statusCodeOf(Object.assign(new Error("Forbidden"), { statusCode: 403 }))).to.equal(403);
    expect(statusCodeOf({ code: 500, body: "" })).to.equal(500);
    expect(statusCodeOf(Object.assign(new Error("refused"), { code: "ECONNREFUSED" }))).to.equal(undefined);
    expect(statusCodeOf("nope")).to.equal(undefined);
  });
});

/**
 * HTTP-level fakes of the watch endpoint. The real API server is used in
 * test/integration/informer.test.ts; these cover what it will not do on demand: a connection that goes
 * silent, a non-410 ERROR event, a 410 at a chosen moment, and a stop() that lands while connecting.
 */
describe("ResilientInformer against a fake watch endpoint", () => {
  type WatchScript = (req: IncomingMessage, res: ServerResponse, n: number) => void;
  let server: Server;
  let script: WatchScript;
  let watchUrls: URL[];
  let informer: ResilientInformer<V1ConfigMap> | undefined;
  const open = new Set<ServerResponse>();

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://fake");
      watchUrls.push(url);
      open.add(res);
      res.on("close", () => open.delete(res));
      script(req, res, watchUrls.length);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });

  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  beforeEach(() => {
    watchUrls = [];
  });

  afterEach(async () => {
    await informer?.stop();
    informer = undefined;
    for (const res of open) res.destroy();
  });

  function kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    const { port } = server.address() as AddressInfo;
    // client-node refuses plain http unless skipTLSVerify is set.
    kc.loadFromOptions({
      clusters: [{ name: "fake", server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
      users: [{ name: "fake" }],
      contexts: [{ name: "fake", cluster: "fake", user: "fake" }],
      currentContext: "fake",
    });
    return kc;
  }

  function configMap(name: string, rv: string, namespace = "ns"): V1ConfigMap {
    return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace, resourceVersion: rv } };
  }

  function listOf(items: V1ConfigMap[], rv: string): KubernetesListObject<V1ConfigMap> {
    return { metadata: { resourceVersion: rv }, items };
  }

  function send(res: ServerResponse, type: string, object: unknown): void {
    res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** A watch endpoint that answers watch number `n` with 410 Expired and keeps the others open. */
  function expireWatch(expired: number): WatchScript {
    return (_req, res, n) => {
      res.writeHead(200);
      if (n === expired) {
        send(res, "ERROR", { kind: "Status", code: 410, reason: "Expired" });
        res.end();
      }
    };
  }

  /** An informer whose list calls `listFn` (which may return, throw, or return a promise). */
  function make(
    listFn: (
      continueToken?: string,
    ) => KubernetesListObject<V1ConfigMap> | Promise<KubernetesListObject<V1ConfigMap>>,
    extra: {
      labelSelector?: string;
      indexers?: Readonly<Record<string, (obj: V1ConfigMap) => readonly string[]>>;
    } = {},
  ) {
    informer = new ResilientInformer<V1ConfigMap>({
      kc: kubeConfig(),
      path: "/api/v1/configmaps",
      list: (continueToken) => Promise.resolve().then(() => listFn(continueToken)),
      name: "ConfigMap",
      timeoutSeconds: 1,
      watchdogSlackMs: 300,
      backoff: { baseMs: 10, maxMs: 100 },
      ...extra,
    });
    return informer;
  }

  it("sends a well-formed watch request with timeout, bookmarks, selector and the listed resourceVersion", async () => {
    script = (_req, res) => res.writeHead(200); // keep the watch open
    const inf = make(() => listOf([], "17"), { labelSelector: "app in (a,b),tier!=x" });
    await inf.start();
    await inf.waitForSync(AbortSignal.timeout(30_000));
    const url = await waitFor(() => watchUrls[0], { message: "a watch request" });
    expect(url.pathname).to.equal("/api/v1/configmaps");
    expect(url.searchParams.get("watch")).to.equal("true");
    expect(url.searchParams.get("allowWatchBookmarks")).to.equal("true");
    expect(url.searchParams.get("resourceVersion")).to.equal("17");
    expect(url.searchParams.get("labelSelector")).to.equal("app in (a,b),tier!=x");
    const timeout = Number(url.searchParams.get("timeoutSeconds"));
    expect(timeout).to.be.within(1, 2);
  });

  it("lists page by page, caches every page and watches from the first page's resourceVersion", async () => {
    script = (_req, res) => res.writeHead(200);
    const tokens: Array<string | undefined> = [];
    const inf = make((token) => {
      tokens.push(token);
      if (token === undefined)
        return { metadata: { resourceVersion: "30", _continue: "p2" }, items: [configMap("a", "28")] };
      if (token === "p2")
        return { metadata: { resourceVersion: "30", _continue: "p3" }, items: [configMap("b", "29")] };
      return { metadata: { resourceVersion: "30" }, items: [configMap("c", "30")] };
    });
    await inf.start();
    await inf.waitForSync(AbortSignal.timeout(30_000));
    expect(tokens).to.deep.equal([undefined, "p2", "p3"]);
    expect(inf.list().map((c) => c.metadata?.name)).to.have.members(["a", "b", "c"]);
    const url = await waitFor(() => watchUrls[0], { message: "a watch request" });
    expect(url.searchParams.get("resourceVersion")).to.equal("30");
  });

  it("applies events to the cache, tracks bookmarks, and survives a throwing handler", async () => {
    let lastWatch: ServerResponse | undefined;
    script = (_req, res) => {
      res.writeHead(200);
      lastWatch = res;
    };
    const inf = make(() => listOf([configMap("a", "1")], "1"));
    const errors: InformerError[] = [];
    const seen: string[] = [];
    inf.on("error", (err) => errors.push(err as InformerError));
    inf.on("add", () => {
      throw new Error("handler bug");
    });
    inf.on("add", (o) => seen.push(`add ${o.metadata?.name}`));
    inf.on("update", (o, previous) =>
      seen.push(`update ${o.metadata?.name} from ${previous?.metadata?.resourceVersion}`),
    );
    inf.on("delete", (o) => seen.push(`delete ${o.metadata?.name}`));
    await inf.start();
    await inf.waitForSync(AbortSignal.timeout(30_000));
    const res = await waitFor(() => lastWatch, { message: "the watch" });
    send(res, "ADDED", configMap("b", "2"));
    send(res, "MODIFIED", configMap("a", "3"));
    send(res, "MODIFIED", configMap("a", "3")); // same version: not an update
    send(res, "DELETED", configMap("b", "4"));
    send(res, "BOOKMARK", { kind: "ConfigMap", metadata: { resourceVersion: "9" } });
    res.end();
    await waitFor(() => watchUrls.length >= 2, { message: "a re-watch after the stream ended" });
    expect(seen).to.deep.equal(["add a", "add b", "update a from 1", "delete b"]);
    expect(inf.list().map((o) => o.metadata?.name)).to.deep.equal(["a"]);
    expect(inf.get("a", "ns")?.metadata?.resourceVersion).to.equal("3");
    // The re-watch resumes from the bookmark, without a relist.
    expect(watchUrls[1]?.searchParams.get("resourceVersion")).to.equal("9");
    expect(errors.map((e) => e.phase)).to.deep.equal(["handler", "handler"]);
  });

  it("keeps its indexes with the cache: filed on add, moved when the value changes, gone on delete and relist", async () => {
    let lastWatch: ServerResponse | undefined;
    script = (_req, res) => {
      res.writeHead(200);
      lastWatch = res;
    };
    const team = (name: string, rv: string, value?: string): V1ConfigMap => ({
      ...configMap(name, rv),
      metadata: { name, namespace: "ns", resourceVersion: rv, ...(value ? { labels: { team: value } } : {}) },
    });
    let lists = 0;
    const inf = make(
      () =>
        ++lists === 1
          ? listOf([team("a", "1", "red"), team("b", "1")], "1")
          : listOf([team("d", "9", "red")], "9"),
      { indexers: { team: (o) => (o.metadata?.labels?.["team"] ? [o.metadata.labels["team"]] : []) } },
    );
    const names = (value: string): string[] =>
      inf
        .byIndex("team", value)
        .map((o) => o.metadata?.name ?? "")
        .sort();
    await inf.start();
    await inf.waitForSync(AbortSignal.timeout(30_000));
    expect(names("red")).to.deep.equal(["a"]);
    expect(inf.indexedCount("team")).to.equal(1);

    const res = await waitFor(() => lastWatch, { message: "the watch" });
    send(res, "MODIFIED", team("a", "2", "blue"));
    send(res, "ADDED", team("c", "3", "red"));
    send(res, "DELETED", team("c", "4", "red"));
    send(res, "ADDED", team("e", "5", "red"));
    await waitFor(() => inf.get("e", "ns"), { message: "the last event" });
    expect([names("red"), names("blue"), inf.indexedCount("team")]).to.deep.equal([["e"], ["a"], 2]);

    send(res, "ERROR", { kind: "Status", code: 410, reason: "Expired" });
    res.end();
    await waitFor(() => (lists >= 2 && inf.get("d", "ns") ? true : undefined), { message: "the relist" });
    expect([names("red"), names("blue"), inf.indexedCount("team")]).to.deep.equal([["d"], [], 1]);
  });

  it("restarts a silent watch through the watchdog", async () => {
    script = (_req, res) => res.writeHead(200); // headers, then silence: a half-dead connection
    const inf = make(() => listOf([], "5"));
    const restarts: RestartInfo[] = [];
    inf.on("restart", (info) => restarts.push(info));
    await inf.start();
    await waitFor(() => restarts.find((r) => r.reason === "watchdog"), { message: "a watchdog restart" });
    await waitFor(() => watchUrls.length >= 2, { message: "a new watch after the watchdog" });
    expect(watchUrls[1]?.searchParams.get("resourceVersion")).to.equal("5");
  });

  it("lists again, with back-off, after a non-410 ERROR event instead of re-watching in a loop", async () => {
    script = (_req, res) => {
      res.writeHead(200);
      send(res, "ERROR", { kind: "Status", code: 500, reason: "InternalError", message: "boom" });
      res.end();
    };
    let lists = 0;
    const inf = make(() => {
      lists++;
      return listOf([], "5");
    });
    const restarts: RestartInfo[] = [];
    inf.on("restart", (info) => restarts.push(info));
    inf.on("error", () => undefined);
    await inf.start();
    await waitFor(() => restarts.length >= 3, { message: "three restarts" });
    expect(restarts.slice(0, 3).map((r) => [r.reason, r.attempt, r.relist])).to.deep.equal([
      ["error", 1, true],
      ["error", 2, true],
      ["error", 3, true],
    ]);
    expect(restarts[0]?.error?.message).to.match(/500 InternalError boom/);
    expect(lists).to.be.at.least(3);
  });

  it("relists after a 410 ERROR event and reports objects that vanished meanwhile as deleted", async () => {
    script = expireWatch(1);
    let lists = 0;
    const inf = make(() => {
      lists++;
      return lists === 1 ? listOf([configMap("old", "1")], "1") : listOf([configMap("new", "7")], "7");
    });
    const deleted: string[] = [];
    const errors: Error[] = [];
    inf.on("delete", (o) => deleted.push(o.metadata?.name ?? ""));
    inf.on("error", (e) => errors.push(e));
    await inf.start();
    await waitFor(() => watchUrls.length >= 2, { message: "the watch after the relist" });
    expect(deleted).to.deep.equal(["old"]);
    expect(inf.list().map((o) => o.metadata?.name)).to.deep.equal(["new"]);
    expect(watchUrls[1]?.searchParams.get("resourceVersion")).to.equal("7");
    expect(errors).to.deep.equal([]);
  });

  it("tells relist handlers the list's resourceVersion after the list's own events", async () => {
    script = expireWatch(1);
    let lists = 0;
    const inf = make(() => (++lists === 1 ? listOf([configMap("a", "1")], "1") : listOf([], "9")));
    const seen: string[] = [];
    inf.on("delete", (o) => seen.push(`delete ${o.metadata?.name ?? ""}`));
    inf.on("relist", ({ resourceVersion }) => seen.push(`relist ${resourceVersion}`));
    await inf.start();
    await waitFor(() => seen.length >= 3, { message: "two relists" });
    expect(seen).to.deep.equal(["relist 1", "delete a", "relist 9"]);
  });

  it("relists at once after an outage ends in 410, without waiting out the outage's back-off", async () => {
    // Four refused watches (the server down), then 410 (its watch cache starts after our version).
    script = (req, res, n) => {
      if (n <= 4) {
        res.writeHead(503);
        res.end();
        return;
      }
      expireWatch(5)(req, res, n);
    };
    const restarts: RestartInfo[] = [];
    const inf = make(() => listOf([], "1"));
    inf.on("restart", (r) => restarts.push(r));
    await inf.start();
    await waitFor(() => restarts.some((r) => r.reason === "expired"), { message: "the 410" });
    const expired = restarts.find((r) => r.reason === "expired");
    expect(expired?.attempt).to.be.greaterThan(1);
    expect(expired?.delayMs).to.equal(0);
  });

  it("retries a failing list and becomes synced once it succeeds", async () => {
    script = (_req, res) => res.writeHead(200);
    let lists = 0;
    const inf = make(() => {
      lists++;
      if (lists < 3) throw Object.assign(new Error("HTTP-Code: 503"), { code: 503, body: "" });
      return listOf([], "1");
    });
    const errors: InformerError[] = [];
    inf.on("error", (e) => errors.push(e as InformerError));
    await inf.start();
    expect(inf.synced).to.be.false;
    await inf.waitForSync(AbortSignal.timeout(30_000));
    expect(inf.synced).to.be.true;
    expect(errors.map((e) => [e.phase, e.statusCode])).to.deep.equal([
      ["list", 503],
      ["list", 503],
    ]);
  });

  it("emits nothing after a stop() that lands while the watch is still connecting", async () => {
    let release: (() => void) | undefined;
    script = (_req, res) => {
      // Answer only later, as a slow server would; the event then arrives after stop().
      release = () => {
        res.writeHead(200);
        send(res, "ADDED", configMap("late", "2"));
      };
    };
    const inf = make(() => listOf([], "1"));
    const events: string[] = [];
    inf.on("add", (o) => events.push(`add ${o.metadata?.name}`));
    inf.on("error", (e) => events.push(`error ${e.message}`));
    inf.on("restart", (r) => events.push(`restart ${r.reason}`));
    await inf.start();
    const answer = await waitFor(() => release, { message: "the watch request to arrive" });
    await inf.stop();
    answer();
    await sleep(200);
    expect(events).to.deep.equal([]);
    expect(inf.list()).to.deep.equal([]);
    await inf.start().then(
      () => expect.fail("start after stop must be refused"),
      (err: Error) => expect(err.message).to.match(/stopped/),
    );
  });

  it("rejects waitForSync when stopped before the first list", async () => {
    script = (_req, res) => res.writeHead(200);
    const inf = make(() => new Promise(() => undefined)); // a list that never answers
    await inf.start();
    const waiting = inf.waitForSync(AbortSignal.timeout(30_000));
    await inf.stop();
    await waiting.then(
      () => expect.fail("must not resolve"),
      (err: Error) => expect(err.message).to.match(/stopped before sync/),
    );
  });
});
