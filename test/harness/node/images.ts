/**
 * Images for the real node without Docker or a registry: test/nodebuild/images/imagetool writes a
 * one-layer docker-archive from a spec, `ctr -n k8s.io images import` loads it, and pods name it
 * with imagePullPolicy Never.
 *
 * The operator image follows config/Dockerfile's final stage instruction by instruction (COPY,
 * USER, WORKDIR, ENV, ENTRYPOINT, EXPOSE, LABEL): the Dockerfile stays the one description of the
 * image, and an instruction this reader does not know fails the build instead of being skipped.
 * Its base, distroless nodejs, is replaced by the same layout built from this machine: the node
 * binary at /nodejs/bin/node with the shared libraries it links, /etc/passwd and /etc/group with
 * the nonroot user 65532, /tmp, CA certificates.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { repoRoot } from "../control-plane-binaries.js";
import type { NodeBinaries } from "./binaries.js";

/** The tags pods use. */
export const PAUSE_IMAGE = "sws.local/pause:test";
export const PROBE_IMAGE = "sws.local/probe:test";
export const OPERATOR_IMAGE = "sws.local/secure-workspace-operator:test";

/** One layer entry; see imagetool's Entry. */
interface Entry {
  path: string;
  from?: string;
  content?: string;
  dir?: boolean;
  link?: string;
  mode?: number;
}

/** An image: tag, OCI config (Docker's field names), entries. */
interface ImageSpec {
  tag: string;
  config: Record<string, unknown>;
  entries: Entry[];
}

/** Writes the docker-archive for a spec. */
export function writeImage(bins: NodeBinaries, spec: ImageSpec, out: string): void {
  const specPath = `${out}.json`;
  writeFileSync(specPath, JSON.stringify(spec, null, 2));
  execFileSync(bins.imagetool, ["-spec", specPath, "-out", out], { stdio: ["ignore", "ignore", "pipe"] });
}

/** The sandbox image: a static "sleep until SIGTERM" as PID 1. */
export function pauseImageSpec(bins: NodeBinaries): ImageSpec {
  return {
    tag: PAUSE_IMAGE,
    config: { Entrypoint: ["/pause"], User: "65535:65535" },
    entries: [{ path: "/pause", from: bins.pause }],
  };
}

/** The network probe: `probe serve`, `probe check`, `probe sleep` (see images/probe). */
export function probeImageSpec(bins: NodeBinaries): ImageSpec {
  return {
    tag: PROBE_IMAGE,
    config: { Entrypoint: ["/probe"], Cmd: ["sleep"] },
    entries: [{ path: "/probe", from: bins.probe }],
  };
}

const cacheRoot = (): string =>
  process.env["SWS_CACHE_DIR"] ??
  path.join(
    process.env["XDG_CACHE_HOME"] ?? path.join(process.env["HOME"] ?? "/root", ".cache"),
    "secure-workspace-operator",
  );

/**
 * The production node_modules (`npm ci --omit=dev`, as the Dockerfile's deps stage), cached by the
 * hash of package.json and package-lock.json.
 */
export function productionNodeModules(log: (line: string) => void): string {
  const root = repoRoot();
  const hash = createHash("sha256")
    .update(readFileSync(path.join(root, "package.json")))
    .update(readFileSync(path.join(root, "package-lock.json")))
    .digest("hex")
    .slice(0, 16);
  const out = path.join(cacheRoot(), `operator-node-modules-${hash}`);
  if (existsSync(path.join(out, "node_modules"))) return path.join(out, "node_modules");
  log("npm ci --omit=dev for the operator image...");
  mkdirSync(cacheRoot(), { recursive: true });
  const tmp = mkdtempSync(`${out}.tmp.`);
  try {
    for (const f of ["package.json", "package-lock.json"])
      copyFileSync(path.join(root, f), path.join(tmp, f));
    execFileSync("npm", ["ci", "--omit=dev", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: tmp,
      stdio: ["ignore", "ignore", "pipe"],
    });
    renameSync(tmp, out);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return path.join(out, "node_modules");
}

/** The node binary and the shared libraries (and loader) it links, at their paths. */
function nodeRuntimeEntries(): Entry[] {
  const node = process.execPath;
  const entries: Entry[] = [{ path: "/nodejs/bin/node", from: node }];
  const ldd = execFileSync("ldd", [node], { encoding: "utf8" });
  for (const line of ldd.split("\n")) {
    // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) entries.push({ path: match[1], from: match[1] });
  }
  return entries;
}

/** What distroless's base gives a process: users, /tmp, CA certificates. */
function baseEntries(): Entry[] {
  const entries: Entry[] = [
    {
      path: "/etc/passwd",
      content:
        "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    },
    { path: "/etc/group", content: "root:x:0:\nnonroot:x:65532:\n" },
    { path: "/home/nonroot", dir: true, mode: 0o700 },
    { path: "/tmp", dir: true, mode: 0o1777 },
  ];
  const certs = "/etc/ssl/certs/ca-certificates.crt";
  if (existsSync(certs)) entries.push({ path: certs, from: certs });
  return entries;
}

/** The final stage of a Dockerfile as logical instructions (continuations joined). */
function finalStage(dockerfile: string): Array<{ op: string; args: string }> {
  const logical: string[] = [];
  let pending = "";
  for (const raw of dockerfile.split("\n")) {
    const line = raw.trim();
    if (!pending && (line === "" || line.startsWith("#"))) continue;
    if (line.endsWith("\\")) {
      pending += line.slice(0, -1) + " ";
      continue;
    }
    logical.push(pending + line);
    pending = "";
  }
  const lastFrom = logical.map((l) => l.split(/\s+/)[0].toUpperCase()).lastIndexOf("FROM");
  return logical.slice(lastFrom + 1).map((l) => {
    const [op, ...rest] = l.split(/\s+/);
    return { op: op.toUpperCase(), args: rest.join(" ") };
  });
}

/** Splits `k="v" k2=v2` (LABEL, ENV) into pairs. */
function pairs(args: string): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const m of args.matchAll(/([\w.-]+)=("((?:[^"\\]|\\.)*)"|\S+)/g)) out.push([m[1], m[3] ?? m[2]]);
  return out;
}

/** The entries of one COPY: each source at its destination under the working directory. */
function copyEntries(
  args: string,
  workdir: string,
  sources: Record<string, (src: string) => string>,
): Entry[] {
  const words = args.split(/\s+/);
  const from = words[0].startsWith("--from=") ? words.shift()!.slice("--from=".length) : undefined;
  if (words.some((w) => w.startsWith("--"))) throw new Error(`unsupported COPY flags: ${args}`);
  const dest = words.pop()!;
  return words.map((src) => {
    const host = from ? sources[from]?.(src) : path.join(repoRoot(), src);
    if (!host) throw new Error(`unknown stage in COPY --from=${from}`);
    const into = dest.endsWith("/") ? path.posix.join(dest, path.posix.basename(src)) : dest;
    return { path: path.posix.resolve(workdir, into), from: host };
  });
}

/**
 * The operator image spec from config/Dockerfile's final stage. `--from=deps` copies come from
 * the production node_modules, `--from=build` from this checkout's dist/ (run `make build` first),
 * plain copies from the repository.
 */
export function operatorImageSpec(log: (line: string) => void): ImageSpec {
  const root = repoRoot();
  const dockerfile = readFileSync(path.join(root, "config", "Dockerfile"), "utf8");
  const version = /^ARG VERSION=(\S+)/m.exec(dockerfile)?.[1] ?? "0.0.0";
  const config: Record<string, unknown> = { Env: [] as string[], Labels: {} };
  const entries: Entry[] = [...baseEntries(), ...nodeRuntimeEntries()];
  let workdir = "/";
  const sources: Record<string, (src: string) => string> = {
    deps: (src) => {
      if (src !== "/src/node_modules") throw new Error(`unexpected COPY --from=deps ${src}`);
      return productionNodeModules(log);
    },
    build: (src) => {
      const rel = path.relative("/src", src);
      if (rel.startsWith("..")) throw new Error(`unexpected COPY --from=build ${src}`);
      const host = path.join(root, rel);
      if (!existsSync(host)) throw new Error(`${host} is missing: run make build first`);
      return host;
    },
  };
  for (const { op, args } of finalStage(dockerfile)) {
    switch (op) {
      case "ARG":
        break;
      case "LABEL":
        for (const [k, v] of pairs(args))
          (config["Labels"] as Record<string, string>)[k] = v.replace("${VERSION}", version);
        break;
      case "ENV":
        for (const [k, v] of pairs(args)) (config["Env"] as string[]).push(`${k}=${v}`);
        break;
      case "WORKDIR":
        workdir = path.posix.resolve(workdir, args);
        config["WorkingDir"] = workdir;
        entries.push({ path: workdir, dir: true });
        break;
      case "USER":
        config["User"] = args;
        break;
      case "EXPOSE":
        config["ExposedPorts"] = Object.fromEntries(
          args.split(/\s+/).map((p) => [p.includes("/") ? p : `${p}/tcp`, {}]),
        );
        break;
      case "ENTRYPOINT":
        config["Entrypoint"] = JSON.parse(args) as string[];
        break;
      case "COPY":
        entries.push(...copyEntries(args, workdir, sources));
        break;
      default:
        throw new Error(
          `config/Dockerfile: the node image builder does not know ${op}; teach test/harness/node/images.ts`,
        );
    }
  }
  // distroless sets a PATH; keep one so `node` child processes behave the same.
  (config["Env"] as string[]).unshift(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/nodejs/bin",
  );
  return { tag: OPERATOR_IMAGE, config, entries };
}
