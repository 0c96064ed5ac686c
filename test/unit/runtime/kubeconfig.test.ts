import { expect } from "chai";
import fc from "fast-check";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { RequestOptions } from "node:https";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeConfig } from "@kubernetes/client-node";
import { stringify } from "yaml";
import {
  inClusterAccess,
  KubeConfigError,
  loadClusterAccess,
  resolveKubeConfig,
  StaticClusterAccess,
  type ClusterAccess,
} from "../../../src/runtime/kubeconfig.js";

const CA = "-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n";
const CERT = "-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n";
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** A one-context kubeconfig with the given cluster and user bodies. */
function kubeconfig(
  cluster: Record<string, unknown>,
  user: Record<string, unknown>,
): Record<string, unknown> {
  return {
    apiVersion: "v1",
    kind: "Config",
    clusters: [
      { name: "other", cluster: { server: "https://other:1" } },
      { name: "c", cluster },
    ],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u", namespace: "ns" } }],
    "current-context": "ctx",
  };
}

async function optionsOf(access: ClusterAccess): Promise<RequestOptions> {
  const opts: RequestOptions = { headers: { Accept: "application/json" } };
  await access.applyToHTTPSOptions(opts);
  return opts;
}

/** The fields both loaders set, comparable with deep.equal. */
function comparable(opts: RequestOptions): Record<string, unknown> {
  const str = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString("utf8") : v);
  const headers = opts.headers as Record<string, unknown>;
  return {
    ca: str(opts.ca),
    cert: str(opts.cert),
    key: str(opts.key),
    rejectUnauthorized: opts.rejectUnauthorized,
    servername: opts.servername,
    auth: opts.auth,
    authorization: headers["Authorization"],
    impersonate: headers["Impersonate-User"],
  };
}

describe("kubeconfig loader", () => {
  let dir: string;

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sws-kubeconfig-"));
  });

  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function write(name: string, content: string): string {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
    return file;
  }

  async function load(doc: unknown, asJson = false): Promise<ClusterAccess> {
    const file = write("config", asJson ? JSON.stringify(doc) : stringify(doc));
    return loadClusterAccess({ kind: "file", path: file }, { env: {}, homeDir: dir });
  }

  /** Loads the same file with client-node and with ours: both must configure a request the same way. */
  async function expectSameAsClientNode(doc: unknown): Promise<ClusterAccess> {
    const file = write("config", stringify(doc));
    const ours = await loadClusterAccess({ kind: "file", path: file }, { env: {}, homeDir: dir });
    expect(ours).to.be.instanceOf(StaticClusterAccess);
    const kc = new KubeConfig();
    kc.loadFromFile(file);
    expect(ours.getCurrentCluster()?.server).to.equal(kc.getCurrentCluster()?.server);
    expect(comparable(await optionsOf(ours))).to.deep.equal(comparable(await optionsOf(kc)));
    return ours;
  }

  it("reads a token and inline CA data, as client-node does (the integration suites' shape)", async () => {
    const access = await expectSameAsClientNode(
      kubeconfig(
        { server: "https://127.0.0.1:6443/", "certificate-authority-data": b64(CA) },
        { token: "abc.def" },
      ),
    );
    expect(access.getCurrentCluster()?.server).to.equal("https://127.0.0.1:6443");
    const opts = await optionsOf(access);
    expect((opts.headers as Record<string, string>)["Authorization"]).to.equal("Bearer abc.def");
    expect((opts.headers as Record<string, string>)["Accept"]).to.equal("application/json");
    expect(String(opts.ca)).to.equal(CA);
  });

  it("reads a kubeconfig written as JSON", async () => {
    const access = await load(kubeconfig({ server: "https://h:1" }, { token: "t" }), true);
    expect((await optionsOf(access)).headers).to.include({ Authorization: "Bearer t" });
  });

  it("reads client certificate, key and CA files relative to the kubeconfig, as client-node does", async () => {
    write("pki/ca.crt", CA);
    write("pki/client.crt", CERT);
    write("pki/client.key", KEY);
    await expectSameAsClientNode(
      kubeconfig(
        { server: "https://h:6443", "certificate-authority": "pki/ca.crt" },
        { "client-certificate": "pki/client.crt", "client-key": "pki/client.key" },
      ),
    );
  });

  it("reads inline client certificate and key data, as client-node does", async () => {
    await expectSameAsClientNode(
      kubeconfig(
        { server: "https://h:6443", "insecure-skip-tls-verify": true, "tls-server-name": "api.example" },
        { "client-certificate-data": b64(CERT), "client-key-data": b64(KEY), as: "jane" },
      ),
    );
  });

  it("sends basic auth as client-node does", async () => {
    await expectSameAsClientNode(
      kubeconfig({ server: "https://h:1" }, { username: "admin", password: "s3cret" }),
    );
  });

  it("re-reads a token file at each call (a rotated projected token is followed) and trims it", async () => {
    const tokenFile = write("token", "first\n");
    const access = await load(kubeconfig({ server: "https://h:1" }, { tokenFile }));
    expect((await optionsOf(access)).headers).to.include({ Authorization: "Bearer first" });
    writeFileSync(tokenFile, "second");
    expect((await optionsOf(access)).headers).to.include({ Authorization: "Bearer second" });
    rmSync(tokenFile);
    let error: unknown;
    await access.applyToHTTPSOptions({}).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(KubeConfigError);
    expect(String(error)).to.contain(tokenFile);
  });

  it("sends any token it reads verbatim in the Authorization header", async () => {
    await fc.assert(
      fc.asyncProperty(fc.stringMatching(/^[A-Za-z0-9._-]{1,200}$/), async (token) => {
        const access = new StaticClusterAccess(
          resolveAccess(stringify(kubeconfig({ server: "https://h:1" }, { token }))),
        );
        expect((await optionsOf(access)).headers).to.include({ Authorization: `Bearer ${token}` });
      }),
      { numRuns: 50 },
    );
  });

  function resolveAccess(text: string): ConstructorParameters<typeof StaticClusterAccess>[0] {
    const r = resolveKubeConfig(text, "test", "/");
    if (r.kind !== "static") throw new Error(`expected a static resolution, got ${r.reason}`);
    return r.access;
  }

  it("leaves exec and auth-provider users and proxies to client-node, imported then", async () => {
    const exec = kubeconfig(
      { server: "https://h:1" },
      { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "true" } },
    );
    expect(resolveKubeConfig(stringify(exec), "x", "/")).to.deep.equal({
      kind: "client-node",
      reason: "an exec credential plugin",
    });
    const provider = kubeconfig({ server: "https://h:1" }, { "auth-provider": { name: "oidc", config: {} } });
    expect(resolveKubeConfig(stringify(provider), "x", "/")).to.include({ kind: "client-node" });
    const proxy = kubeconfig({ server: "https://h:1", "proxy-url": "http://proxy:3128" }, { token: "t" });
    expect(resolveKubeConfig(stringify(proxy), "x", "/")).to.include({ kind: "client-node" });
    const access = await load(exec);
    expect(access).to.be.instanceOf(KubeConfig);
    expect(access.getCurrentCluster()?.server).to.equal("https://h:1");
  });

  it("rejects malformed kubeconfigs naming the file and the field", () => {
    const cases: Array<[unknown, RegExp]> = [
      [
        { ...kubeconfig({ server: "https://h:1" }, {}), "current-context": undefined },
        /f: current-context is not set/,
      ],
      [
        { ...kubeconfig({ server: "https://h:1" }, {}), "current-context": "nope" },
        /f: contexts has no entry named "nope"/,
      ],
      [kubeconfig({}, {}), /f: cluster "c"\.server is missing/],
      [kubeconfig({ server: 42 }, {}), /f: cluster "c"\.server must be a string/],
      [kubeconfig({ server: "not a url" }, {}), /f: cluster "c"\.server is not a URL/],
      [
        kubeconfig({ server: "https://h:1", "insecure-skip-tls-verify": "yes" }, {}),
        /insecure-skip-tls-verify must be true or false/,
      ],
      [
        kubeconfig({ server: "https://h:1", "certificate-authority-data": "%%%" }, {}),
        /certificate-authority-data is not base64/,
      ],
      [
        kubeconfig({ server: "https://h:1" }, { "client-certificate": "c.crt" }),
        /user "u": a client certificate needs both/,
      ],
      [kubeconfig({ server: "https://h:1" }, { token: ["a"] }), /user "u"\.token must be a string/],
      [{ ...kubeconfig({ server: "https://h:1" }, {}), clusters: "c" }, /f: clusters must be a list/],
      [{ ...kubeconfig({ server: "https://h:1" }, {}), users: [7] }, /f: users\[0\] must be a mapping/],
      [["a list"], /f: not a kubeconfig/],
    ];
    for (const [doc, message] of cases) {
      expect(() => resolveKubeConfig(stringify(doc), "f", "/"), stringify(doc)).to.throw(
        KubeConfigError,
        message,
      );
    }
    expect(() => resolveKubeConfig("a: [", "f", "/")).to.throw(KubeConfigError, /f: not valid YAML/);
  });

  it("says which file it could not read", async () => {
    const missing = path.join(dir, "missing");
    let error: unknown;
    await loadClusterAccess({ kind: "file", path: missing }, { env: {}, homeDir: dir }).catch(
      (err: unknown) => (error = err),
    );
    expect(error).to.be.instanceOf(KubeConfigError);
    expect(String(error)).to.contain(missing);
  });

  describe("in-cluster", () => {
    it("uses the service account's CA and token (re-read) and the KUBERNETES_SERVICE_* address", async () => {
      write("sa/ca.crt", CA);
      write("sa/token", "sa-token");
      const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
      const access = await loadClusterAccess(
        { kind: "in-cluster" },
        { env, homeDir: dir, serviceAccountDir: path.join(dir, "sa") },
      );
      expect(access.getCurrentCluster()?.server).to.equal("https://10.0.0.1:443");
      const opts = await optionsOf(access);
      expect(String(opts.ca)).to.equal(CA);
      expect(opts.headers).to.include({ Authorization: "Bearer sa-token" });
    });

    it("brackets IPv6 hosts, uses http on proxy ports, and needs both variables", () => {
      expect(
        inClusterAccess({ KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" }).server,
      ).to.equal("https://[fd00::1]:6443");
      expect(
        inClusterAccess({ KUBERNETES_SERVICE_HOST: "h", KUBERNETES_SERVICE_PORT: "8001" }).server,
      ).to.equal("http://h:8001");
      expect(() => inClusterAccess({ KUBERNETES_SERVICE_HOST: "h" })).to.throw(
        KubeConfigError,
        /KUBERNETES_SERVICE_PORT/,
      );
    });
  });

  describe("default source", () => {
    it("takes a single KUBECONFIG file first", async () => {
      const file = write("k", stringify(kubeconfig({ server: "https://from-env:1" }, { token: "t" })));
      write(".kube/config", stringify(kubeconfig({ server: "https://from-home:1" }, { token: "t" })));
      const access = await loadClusterAccess(
        { kind: "default" },
        { env: { KUBECONFIG: file }, homeDir: dir },
      );
      expect(access.getCurrentCluster()?.server).to.equal("https://from-env:1");
    });

    it("leaves a KUBECONFIG list (merged entry by entry) to client-node", async () => {
      const a = write("a", stringify(kubeconfig({ server: "https://a:1" }, { token: "t" })));
      const b = write("b", stringify({ clusters: [], users: [], contexts: [] }));
      const access = await loadClusterAccess(
        { kind: "default" },
        { env: { KUBECONFIG: [a, b].join(path.delimiter) }, homeDir: dir },
      );
      expect(access).to.be.instanceOf(KubeConfig);
      expect(access.getCurrentCluster()?.server).to.equal("https://a:1");
    });

    it("then ~/.kube/config, then the service account, else an error naming what it looked for", async () => {
      const sa = path.join(dir, "sa");
      const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
      let error: unknown;
      await loadClusterAccess({ kind: "default" }, { env, homeDir: dir, serviceAccountDir: sa }).catch(
        (err: unknown) => (error = err),
      );
      expect(error).to.be.instanceOf(KubeConfigError);
      expect(String(error))
        .to.contain(path.join(dir, ".kube", "config"))
        .and.contain(sa);
      write("sa/token", "t");
      const inCluster = await loadClusterAccess(
        { kind: "default" },
        { env, homeDir: dir, serviceAccountDir: sa },
      );
      expect(inCluster.getCurrentCluster()?.server).to.equal("https://10.0.0.1:443");
      write(".kube/config", stringify(kubeconfig({ server: "https://from-home:1" }, { token: "t" })));
      const home = await loadClusterAccess({ kind: "default" }, { env, homeDir: dir, serviceAccountDir: sa });
      expect(home.getCurrentCluster()?.server).to.equal("https://from-home:1");
    });
  });
});
