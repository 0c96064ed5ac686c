/**
 * A small kubeconfig loader for the operator's runtime path.
 *
 * Why not client-node's KubeConfig: importing it loads every generated API and model class of
 * client-node (its config module imports them), which takes a bare Node.js process from about 40 to
 * 110-120 MiB RSS before the operator holds a single object. The operator needs only a server URL,
 * TLS material and an Authorization header, so this module reads the common kubeconfig shapes itself
 * (bearer token, token file, client certificate and key, CA, basic auth, impersonation, in-cluster
 * service account) and imports client-node lazily, only for what it does not handle: exec and
 * auth-provider credential plugins, proxies, and KUBECONFIG lists that must be merged.
 */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { isIPv6 } from "node:net";
import path from "node:path";
import type { RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse } from "yaml";

/**
 * What the runtime needs of a kubeconfig: where the API server is and how to reach it. Named after
 * client-node's KubeConfig methods so that a KubeConfig (used by tests and tools) satisfies it too.
 */
export interface ClusterAccess {
  /** The current cluster; `server` is the API server's base URL. */
  getCurrentCluster(): { readonly server: string } | null;
  /** Adds TLS material (ca, cert, key, rejectUnauthorized, servername) and auth headers to `opts`. */
  applyToHTTPSOptions(opts: RequestOptions): Promise<void>;
}

/** Where to load the kubeconfig from (the operator's --in-cluster / --kubeconfig flags). */
export type KubeConfigSource =
  | { readonly kind: "in-cluster" }
  | { readonly kind: "file"; readonly path: string }
  /** KUBECONFIG, else ~/.kube/config, else the in-cluster service account (as kubectl and client-node). */
  | { readonly kind: "default" };

/** The environment the loader reads; parameters so tests need not touch the real one. */
export interface KubeConfigEnvironment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homeDir: string;
  /** Prefix of the service account directory (tests point it at a temporary directory). */
  readonly serviceAccountDir?: string;
}

/** A kubeconfig that cannot be loaded: which file, which field, why. */
export class KubeConfigError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "KubeConfigError";
  }
}

/** The standard service account directory of a pod. */
export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Either inline (base64 `-data`) bytes or a file read at each use (a rotated file is picked up). */
export type Material = { readonly data: Buffer } | { readonly file: string };

/** The current context of a kubeconfig, reduced to what {@link StaticClusterAccess} needs. */
export interface ResolvedAccess {
  readonly server: string;
  readonly ca?: Material;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly cert?: Material;
  readonly key?: Material;
  /** A bearer token given inline. */
  readonly token?: string;
  /** A file holding the bearer token, re-read at each use (projected tokens rotate). */
  readonly tokenFile?: string;
  readonly basicAuth?: { readonly username: string; readonly password: string };
  readonly impersonate?: string;
}

/** What a kubeconfig's current context needs: handled here, or only by client-node (and why). */
export type Resolution =
  | { readonly kind: "static"; readonly access: ResolvedAccess }
  | { readonly kind: "client-node"; readonly reason: string };

type Fields = Readonly<Record<string, unknown>>;

/** An error's message, for wrapping it with context. */
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isFields(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Field `key` of `obj` as a string, undefined when absent; anything else is an error naming the field. */
function optionalString(obj: Fields, key: string, where: string): string | undefined {
  const value = obj[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw new KubeConfigError(`${where}.${key} must be a string`);
  return value === "" ? undefined : value;
}

function optionalBoolean(obj: Fields, key: string, where: string): boolean {
  const value = obj[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== "boolean") throw new KubeConfigError(`${where}.${key} must be true or false`);
  return value;
}

/** The entry named `name` of a kubeconfig list (clusters, users, contexts) and its inner object. */
function namedEntry(doc: Fields, list: string, inner: string, name: string, origin: string): Fields {
  const entries = doc[list];
  if (entries !== undefined && entries !== null && !Array.isArray(entries))
    throw new KubeConfigError(`${origin}: ${list} must be a list`);
  for (const [i, entry] of (entries ?? []).entries()) {
    if (!isFields(entry)) throw new KubeConfigError(`${origin}: ${list}[${String(i)}] must be a mapping`);
    if (entry["name"] !== name) continue;
    const value = entry[inner];
    // client-node and kubectl accept a user entry without a body (anonymous); so do we.
    if (value === undefined || value === null) return {};
    if (!isFields(value))
      throw new KubeConfigError(`${origin}: ${list}[${String(i)}].${inner} must be a mapping`);
    return value;
  }
  throw new KubeConfigError(`${origin}: ${list} has no entry named "${name}"`);
}

/** Inline base64 data (preferred, as kubectl does) or a path relative to the kubeconfig's directory. */
function material(
  obj: Fields,
  dataKey: string,
  fileKey: string,
  where: string,
  baseDir: string,
): Material | undefined {
  const data = optionalString(obj, dataKey, where);
  if (data !== undefined) {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(data)) throw new KubeConfigError(`${where}.${dataKey} is not base64`);
    return { data: Buffer.from(data, "base64") };
  }
  const file = optionalString(obj, fileKey, where);
  return file === undefined ? undefined : { file: path.resolve(baseDir, file) };
}

/** Why client-node must handle this user or cluster, or undefined when this module can. */
function needsClientNode(user: Fields, cluster: Fields): string | undefined {
  if (user["exec"] !== undefined && user["exec"] !== null) return "an exec credential plugin";
  const provider = user["auth-provider"];
  if (provider !== undefined && provider !== null) return "an auth-provider";
  if (cluster["proxy-url"] !== undefined && cluster["proxy-url"] !== null) return "a proxy-url";
  return undefined;
}

function resolveCluster(cluster: Fields, where: string, baseDir: string): ResolvedAccess {
  const server = optionalString(cluster, "server", where);
  if (server === undefined) throw new KubeConfigError(`${where}.server is missing`);
  try {
    new URL(server);
  } catch (err) {
    throw new KubeConfigError(`${where}.server is not a URL: ${server}`, { cause: err });
  }
  const ca = material(cluster, "certificate-authority-data", "certificate-authority", where, baseDir);
  const tlsServerName = optionalString(cluster, "tls-server-name", where);
  return {
    // Paths are appended to it; a trailing slash would double them (client-node strips it too).
    server: server.replace(/\/$/, ""),
    insecureSkipTlsVerify: optionalBoolean(cluster, "insecure-skip-tls-verify", where),
    ...(ca ? { ca } : {}),
    ...(tlsServerName !== undefined ? { tlsServerName } : {}),
  };
}

function resolveUser(user: Fields, where: string, baseDir: string): Partial<ResolvedAccess> {
  const cert = material(user, "client-certificate-data", "client-certificate", where, baseDir);
  const key = material(user, "client-key-data", "client-key", where, baseDir);
  if ((cert === undefined) !== (key === undefined))
    throw new KubeConfigError(`${where}: a client certificate needs both client-certificate and client-key`);
  const token = optionalString(user, "token", where);
  const tokenFile = optionalString(user, "tokenFile", where) ?? optionalString(user, "token-file", where);
  const username = optionalString(user, "username", where);
  const password = optionalString(user, "password", where);
  const impersonate = optionalString(user, "as", where);
  return {
    ...(cert && key ? { cert, key } : {}),
    ...(token !== undefined ? { token } : {}),
    ...(token === undefined && tokenFile !== undefined
      ? { tokenFile: path.resolve(baseDir, tokenFile) }
      : {}),
    ...(username !== undefined ? { basicAuth: { username, password: password ?? "" } } : {}),
    ...(impersonate !== undefined ? { impersonate } : {}),
  };
}

/**
 * Parses a kubeconfig (YAML or JSON) and resolves its current context. Pure: files it names are
 * only resolved against `baseDir` (the kubeconfig's directory), not read. Throws KubeConfigError.
 */
export function resolveKubeConfig(text: string, origin: string, baseDir: string): Resolution {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    throw new KubeConfigError(`${origin}: not valid YAML: ${messageOf(err)}`, {
      cause: err,
    });
  }
  if (!isFields(doc)) throw new KubeConfigError(`${origin}: not a kubeconfig (expected a mapping)`);
  const contextName = optionalString(doc, "current-context", origin);
  if (contextName === undefined) throw new KubeConfigError(`${origin}: current-context is not set`);
  const context = namedEntry(doc, "contexts", "context", contextName, origin);
  const where = `${origin}: context "${contextName}"`;
  const clusterName = optionalString(context, "cluster", where);
  if (clusterName === undefined) throw new KubeConfigError(`${where} names no cluster`);
  const cluster = namedEntry(doc, "clusters", "cluster", clusterName, origin);
  const userName = optionalString(context, "user", where);
  const user = userName === undefined ? {} : namedEntry(doc, "users", "user", userName, origin);
  const reason = needsClientNode(user, cluster);
  if (reason !== undefined) return { kind: "client-node", reason };
  return {
    kind: "static",
    access: {
      ...resolveCluster(cluster, `${origin}: cluster "${clusterName}"`, baseDir),
      ...resolveUser(user, `${origin}: user "${userName ?? ""}"`, baseDir),
    },
  };
}

/** The in-cluster service account's access, from the KUBERNETES_SERVICE_* variables. */
export function inClusterAccess(
  env: Readonly<Record<string, string | undefined>>,
  dir: string = SERVICE_ACCOUNT_DIR,
): ResolvedAccess {
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port)
    throw new KubeConfigError(
      "in-cluster configuration needs KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT (not running in a pod?)",
    );
  // As client-node and client-go: these ports mean a plain-HTTP proxy such as `kubectl proxy`.
  const scheme = port === "80" || port === "8080" || port === "8001" ? "http" : "https";
  const server = `${scheme}://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  return {
    server,
    insecureSkipTlsVerify: false,
    ca: { file: path.join(dir, "ca.crt") },
    tokenFile: path.join(dir, "token"),
  };
}

async function readMaterial(m: Material, what: string): Promise<Buffer> {
  if ("data" in m) return m.data;
  try {
    return await readFile(m.file);
  } catch (err) {
    throw new KubeConfigError(`cannot read the ${what} ${m.file}: ${messageOf(err)}`, { cause: err });
  }
}

/** A {@link ClusterAccess} for {@link ResolvedAccess}; files it names are read at each call. */
export class StaticClusterAccess implements ClusterAccess {
  constructor(private readonly access: ResolvedAccess) {}

  /** The API server, as client-node's KubeConfig reports it. */
  getCurrentCluster(): { readonly server: string } {
    return { server: this.access.server };
  }

  /**
   * Fills in TLS and auth options. Files are read on every call (the callers cache the result for a
   * few seconds) so that rotated certificates and projected service account tokens are followed.
   */
  async applyToHTTPSOptions(opts: RequestOptions): Promise<void> {
    const a = this.access;
    const headers: Record<string, string> = { ...(opts.headers as Record<string, string> | undefined) };
    if (a.insecureSkipTlsVerify) opts.rejectUnauthorized = false;
    if (a.tlsServerName !== undefined) opts.servername = a.tlsServerName;
    if (a.ca) opts.ca = await readMaterial(a.ca, "certificate authority");
    if (a.cert && a.key) {
      opts.cert = await readMaterial(a.cert, "client certificate");
      opts.key = await readMaterial(a.key, "client key");
    }
    if (a.basicAuth) opts.auth = `${a.basicAuth.username}:${a.basicAuth.password}`;
    const token = a.token ?? (a.tokenFile !== undefined ? await this.readToken(a.tokenFile) : undefined);
    if (token !== undefined && token !== "") headers["Authorization"] = `Bearer ${token}`;
    if (a.impersonate !== undefined) headers["Impersonate-User"] = a.impersonate;
    opts.headers = headers;
  }

  private async readToken(file: string): Promise<string> {
    try {
      // Trimmed: a token file written by hand or `echo` ends in a newline, invalid in a header.
      return (await readFile(file, "utf8")).trim();
    } catch (err) {
      throw new KubeConfigError(`cannot read the token file ${file}: ${messageOf(err)}`, { cause: err });
    }
  }
}

/** client-node's KubeConfig, imported only now: see the module comment for what it costs. */
async function clientNodeAccess(
  origin: string,
  load: (kc: KubeConfig, clientNode: { KubeConfig: new () => KubeConfig }) => void,
): Promise<ClusterAccess> {
  const clientNode = await import("@kubernetes/client-node");
  const kc = new clientNode.KubeConfig();
  try {
    load(kc, clientNode);
  } catch (err) {
    throw new KubeConfigError(`${origin}: ${messageOf(err)}`, { cause: err });
  }
  if (!kc.getCurrentCluster()) throw new KubeConfigError(`${origin}: no current cluster`);
  return kc;
}

async function fromFile(file: string): Promise<ClusterAccess> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new KubeConfigError(`cannot read kubeconfig ${file}: ${messageOf(err)}`, { cause: err });
  }
  const resolution = resolveKubeConfig(text, file, path.dirname(path.resolve(file)));
  if (resolution.kind === "static") return new StaticClusterAccess(resolution.access);
  return clientNodeAccess(file, (kc) => kc.loadFromFile(file));
}

/**
 * Loads the operator's cluster access. Only kubeconfigs this module cannot handle (see
 * {@link resolveKubeConfig}) and KUBECONFIG lists of several files import client-node.
 */
export async function loadClusterAccess(
  source: KubeConfigSource,
  environment: KubeConfigEnvironment,
): Promise<ClusterAccess> {
  const saDir = environment.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  if (source.kind === "in-cluster") return new StaticClusterAccess(inClusterAccess(environment.env, saDir));
  if (source.kind === "file") return fromFile(source.path);
  const list = (environment.env["KUBECONFIG"] ?? "").split(path.delimiter).filter((p) => p !== "");
  // Several files are merged entry by entry: client-node's rules (its loadFromDefault, which reads
  // process.env itself, so the same steps are taken here with the list given).
  if (list.length > 1)
    return clientNodeAccess(`KUBECONFIG ${list.join(path.delimiter)}`, (kc, clientNode) => {
      kc.loadFromFile(list[0] ?? "");
      for (const file of list.slice(1)) {
        const next = new clientNode.KubeConfig();
        next.loadFromFile(file);
        kc.mergeConfig(next, false);
      }
    });
  const single = list[0];
  if (single !== undefined) return fromFile(single);
  const home = path.join(environment.homeDir, ".kube", "config");
  if (existsSync(home)) return fromFile(home);
  if (existsSync(path.join(saDir, "token")))
    return new StaticClusterAccess(inClusterAccess(environment.env, saDir));
  throw new KubeConfigError(
    `no kubeconfig: KUBECONFIG is not set, ${home} does not exist and this is not a pod (no ${saDir}/token)`,
  );
}
