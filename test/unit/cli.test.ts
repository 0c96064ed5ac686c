/**
 * The compiled `sws` CLI (dist/src/cli.js), run as a user runs it: a child process, its exit code,
 * stdout and stderr.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "chai";
import { parseAllDocuments } from "yaml";

/** The nearest directory above this file that holds package.json. */
function findRepoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, "package.json"))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("no package.json above the test file");
    dir = parent;
  }
  return dir;
}

const ROOT = findRepoRoot();
const CLI = path.join(ROOT, "dist", "src", "cli.js");
const EXAMPLES = path.join(ROOT, "examples");

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function sws(args: readonly string[], input?: string): Run {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000,
  });
  if (result.error) throw result.error;
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const lines = (text: string): string[] => text.split("\n").filter((l) => l !== "");

function documents(yamlText: string): Array<Record<string, unknown>> {
  return parseAllDocuments(yamlText).map((doc) => {
    expect(doc.errors, "render output is valid YAML").to.deep.equal([]);
    return doc.toJS() as Record<string, unknown>;
  });
}

const nameOf = (doc: Record<string, unknown>): string => (doc["metadata"] as { name: string }).name;

const MINIMAL = `apiVersion: secureworkspace.io/v1alpha1
kind: SecureWorkspace
metadata:
  name: from-stdin
spec:
  namespaces:
    - name: stdin-ns
`;

const INVALID = `apiVersion: secureworkspace.io/v1alpha1
kind: SecureWorkspace
metadata:
  name: bad
spec:
  namespaces:
    - name: team-a
    - name: team-a
    - name: kube-system
  networkPolicy:
    allowEgressTo:
      - ipBlock: {cidr: 10.0.0.0/33}
  resourceQuota:
    hard: {requests.cpu: lots}
`;

describe("sws CLI", function () {
  // Each case starts a Node.js process; give slow CI machines room.
  this.timeout(60_000);

  let tmp = "";
  const tmpFile = (name: string, text: string): string => {
    const file = path.join(tmp, name);
    writeFileSync(file, text);
    return file;
  };

  before(() => {
    expect(existsSync(CLI), `${CLI} (run npx tsc -p tsconfig.json first)`).to.be.true;
    tmp = mkdtempSync(path.join(os.tmpdir(), "sws-cli-test-"));
  });

  after(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  describe("render", () => {
    it("prints the minimal example as YAML documents: the Namespace first, then sws-default-deny", () => {
      const run = sws(["render", "-f", "examples/minimal.yaml"]);
      expect(run.stderr).to.equal("");
      expect(run.status).to.equal(0);
      const docs = documents(run.stdout);
      expect(docs.map((d) => `${String(d["kind"])}/${nameOf(d)}`)).to.deep.equal([
        "Namespace/example-minimal",
        "NetworkPolicy/sws-default-deny",
        "NetworkPolicy/sws-allow-same-namespace",
        "NetworkPolicy/sws-allow-dns",
      ]);
      expect(docs[0]).to.deep.equal({
        apiVersion: "v1",
        kind: "Namespace",
        metadata: {
          name: "example-minimal",
          labels: {
            "pod-security.kubernetes.io/enforce": "restricted",
            "pod-security.kubernetes.io/enforce-version": "latest",
            "pod-security.kubernetes.io/audit": "restricted",
            "pod-security.kubernetes.io/audit-version": "latest",
            "pod-security.kubernetes.io/warn": "restricted",
            "pod-security.kubernetes.io/warn-version": "latest",
            "app.kubernetes.io/managed-by": "secure-workspace-operator",
            "secureworkspace.io/workspace": "example-minimal",
          },
          annotations: {
            "secureworkspace.io/workspace-namespaces": "example-minimal",
            "secureworkspace.io/guardrail-networkpolicy": "WithinWorkspace",
            "secureworkspace.io/guardrail-rbac": "Strict",
            "secureworkspace.io/guardrail-mesh": "Strict",
          },
        },
      });
      expect(docs[1]?.["spec"]).to.deep.equal({
        podSelector: {},
        policyTypes: ["Egress", "Ingress"],
        ingress: [],
        egress: [],
      });
    });

    it("reads the workspace from standard input with -f -", () => {
      const run = sws(["render", "-f", "-"], MINIMAL);
      expect(run.status).to.equal(0);
      const docs = documents(run.stdout);
      expect(docs[0]).to.include({ kind: "Namespace" });
      expect(nameOf(docs[0])).to.equal("stdin-ns");
      expect(docs.map(nameOf)).to.include("sws-default-deny");
    });

    it("renders every example without error", () => {
      for (const file of readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"))) {
        const run = sws(["render", "-f", path.join("examples", file)]);
        expect(run.status, `${file}: ${run.stderr}`).to.equal(0);
        expect(documents(run.stdout)[0], file).to.include({ kind: "Namespace" });
      }
    });

    it("refuses an invalid spec: nothing on stdout, one line per problem on stderr, exit 1", () => {
      const run = sws(["render", "-f", tmpFile("invalid-render.yaml", INVALID)]);
      expect(run.status).to.equal(1);
      expect(run.stdout).to.equal("");
      expect(lines(run.stderr)).to.deep.equal([
        'bad: spec.namespaces[1].name: duplicate namespace "team-a"',
        'bad: spec.namespaces[2].name: "kube-system" is a system namespace',
        'bad: spec.networkPolicy.allowEgressTo[0].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR',
        'bad: spec.resourceQuota.hard[requests.cpu]: "lots" is not a valid quantity',
      ]);
    });
  });

  describe("validate", () => {
    const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith(".yaml"));

    it("finds the examples", () => {
      expect(exampleFiles.length).to.be.at.least(7);
    });

    for (const file of exampleFiles) {
      it(`accepts examples/${file} with exit 0`, () => {
        const run = sws(["validate", "-f", path.join("examples", file)]);
        expect(run.stderr).to.equal("");
        expect(run.status).to.equal(0);
        expect(lines(run.stdout)).to.have.length(1);
        expect(run.stdout).to.match(/^[a-z0-9-]+: valid\n$/);
      });
    }

    it("exits 1 with one line per problem, each naming the field path", () => {
      const run = sws(["validate", "-f", tmpFile("invalid.yaml", INVALID)]);
      expect(run.status).to.equal(1);
      expect(lines(run.stdout)).to.deep.equal([
        'bad: spec.namespaces[1].name: duplicate namespace "team-a"',
        'bad: spec.namespaces[2].name: "kube-system" is a system namespace',
        'bad: spec.networkPolicy.allowEgressTo[0].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR',
        'bad: spec.resourceQuota.hard[requests.cpu]: "lots" is not a valid quantity',
      ]);
    });

    it("reports each workspace of a multi-document file, and fails if any is invalid", () => {
      const run = sws(["validate", "-f", "-"], `${MINIMAL}---\n${INVALID}`);
      expect(run.status).to.equal(1);
      const out = lines(run.stdout);
      expect(out[0]).to.equal("from-stdin: valid");
      expect(out.slice(1).every((l) => l.startsWith("bad: spec."))).to.be.true;
      expect(out).to.have.length(5);
    });

    it("validates standard input with -f -", () => {
      const run = sws(["validate", "-f", "-"], MINIMAL);
      expect(run.status).to.equal(0);
      expect(run.stdout).to.equal("from-stdin: valid\n");
    });
  });

  describe("bad input is one line on stderr, never a stack trace", () => {
    const cases: Array<{ what: string; args: () => string[]; input?: string; message: RegExp }> = [
      {
        what: "text that is not YAML",
        args: () => ["validate", "-f", tmpFile("not-yaml.yaml", "a: [\n")],
        message: /^sws: .*not-yaml\.yaml: not valid YAML: /,
      },
      {
        what: "YAML that is not a mapping",
        args: () => ["render", "-f", "-"],
        input: "just some words\n",
        message: /^sws: <stdin>: expected a YAML mapping \(an object\)$/,
      },
      {
        what: "the wrong kind",
        args: () => [
          "validate",
          "-f",
          tmpFile("pod.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {}\n"),
        ],
        message: /^sws: .*pod\.yaml: kind is "Pod", expected SecureWorkspace$/,
      },
      {
        what: "a workspace without spec",
        args: () => [
          "render",
          "-f",
          tmpFile(
            "nospec.yaml",
            "apiVersion: secureworkspace.io/v1alpha1\nkind: SecureWorkspace\nmetadata: {name: x}\n",
          ),
        ],
        message: /^sws: .*nospec\.yaml: spec is required$/,
      },
      {
        what: "a file that does not exist",
        args: () => ["validate", "-f", path.join(tmp, "does-not-exist.yaml")],
        message: /^sws: .*does-not-exist\.yaml: cannot read: ENOENT$/,
      },
      {
        what: "empty input",
        args: () => ["validate", "-f", "-"],
        input: "",
        message: /^sws: <stdin>: no SecureWorkspace found$/,
      },
    ];

    for (const c of cases) {
      it(`${c.what}: exit 1`, () => {
        const run = sws(c.args(), c.input);
        expect(run.status).to.equal(1);
        expect(run.stdout).to.equal("");
        expect(run.stderr).to.not.include("    at ");
        expect(lines(run.stderr)).to.have.length(1);
        expect(lines(run.stderr)[0]).to.match(c.message);
      });
    }
  });

  describe("usage errors exit 2", () => {
    it("a command without -f names the missing flag, then shows usage", () => {
      const run = sws(["validate"]);
      expect(run.status).to.equal(2);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.not.include("    at ");
      expect(lines(run.stderr)[0]).to.equal("sws: missing -f FILE (use -f - for standard input)");
      expect(lines(run.stderr)[1]).to.equal("usage:");
    });

    it("-f without a file is the same usage error", () => {
      const run = sws(["render", "-f"]);
      expect(run.status).to.equal(2);
      expect(lines(run.stderr)[0]).to.equal("sws: missing -f FILE (use -f - for standard input)");
    });

    it("an unknown command is named", () => {
      const run = sws(["frobnicate"]);
      expect(run.status).to.equal(2);
      expect(run.stderr).to.not.include("    at ");
      expect(lines(run.stderr)[0]).to.equal('sws: unknown command "frobnicate"');
    });

    it("no command at all prints usage on stdout and exits 2; help exits 0", () => {
      const none = sws([]);
      expect(none.status).to.equal(2);
      expect(none.stdout).to.match(/^usage:\n/);
      const help = sws(["--help"]);
      expect(help.status).to.equal(0);
      expect(help.stdout).to.include("sws render").and.include("sws validate");
    });
  });
});
