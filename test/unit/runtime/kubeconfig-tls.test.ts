/**
 * The operator's own kubeconfig loader is what its TLS trust rests on: a server whose certificate the
 * kubeconfig's CA did not sign (a man in the middle) must be refused before any byte of the request
 * (the bearer token) is sent, and the real server, signed by that CA, still answered. Certificates
 * are made for the test with openssl; the servers are local HTTPS listeners.
 */
import { expect } from "chai";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { KubeClient } from "../../../src/runtime/client.js";
import { loadClusterAccess } from "../../../src/runtime/kubeconfig.js";
import { KUBERNETES } from "../../../src/runtime/resources.js";

interface Pair {
  readonly cert: string;
  readonly key: string;
}

function selfSigned(dir: string, name: string): Pair {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-days",
      "1",
      "-keyout",
      key,
      "-out",
      cert,
      "-subj",
      `/CN=${name}`,
      "-addext",
      "subjectAltName=IP:127.0.0.1",
    ],
    { stdio: "ignore" },
  );
  return { cert: readFileSync(cert, "utf8"), key: readFileSync(key, "utf8") };
}

describe("the operator's kubeconfig trusts only its CA (a man in the middle is refused)", () => {
  let dir: string;
  let real: Pair;
  let impostor: Pair;
  const servers: Server[] = [];
  const authorizations: string[] = [];

  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), "sws-tls-"));
    real = selfSigned(dir, "real-apiserver");
    impostor = selfSigned(dir, "impostor");
  });

  after(async () => {
    for (const s of servers) await new Promise<void>((r) => s.close(() => r()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function serve(pair: Pair): Promise<string> {
    const server = createServer({ cert: pair.cert, key: pair.key }, (req, res) => {
      authorizations.push(req.headers.authorization ?? "");
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: "default" } }));
    });
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return `https://127.0.0.1:${String((server.address() as AddressInfo).port)}`;
  }

  async function clientTrustingRealCa(server: string): Promise<KubeClient> {
    const file = path.join(dir, `kubeconfig-${String(servers.length)}`);
    const ca = Buffer.from(real.cert).toString("base64");
    writeFileSync(
      file,
      JSON.stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: { server, "certificate-authority-data": ca } }],
        users: [{ name: "u", user: { token: "operator-secret-token" } }],
        contexts: [{ name: "x", context: { cluster: "c", user: "u" } }],
        "current-context": "x",
      }),
    );
    const access = await loadClusterAccess({ kind: "file", path: file }, { env: {}, homeDir: dir });
    return new KubeClient(access, { fieldManager: "tls-test", timeoutMs: 5_000 });
  }

  it("refuses a server whose certificate its CA did not sign, and sends it no token", async () => {
    const client = await clientTrustingRealCa(await serve(impostor));
    let error: unknown;
    try {
      await client.get(KUBERNETES.ofKind("Namespace"), "default");
    } catch (err) {
      error = err;
    }
    client.close();
    expect(error, "the request to the impostor failed").to.be.instanceOf(Error);
    expect(String((error as Error).cause ?? error)).to.match(/self[- ]signed|certificate|unable to verify/i);
    expect(authorizations).to.deep.equal([]);
  });

  it("talks to the server its CA signed, with the token", async () => {
    const client = await clientTrustingRealCa(await serve(real));
    const ns = await client.get(KUBERNETES.ofKind("Namespace"), "default");
    client.close();
    expect(ns.metadata.name).to.equal("default");
    expect(authorizations).to.deep.equal(["Bearer operator-secret-token"]);
  });
});
