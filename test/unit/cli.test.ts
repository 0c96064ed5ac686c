/**
 * The compiled `sws` CLI (dist/src/cli.js), run as a user runs it: a child process, its exit code,
 * stdout and stderr.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
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

function sws(args: readonly string[], input?: string, env?: Record<string, string>): Run {
  const result: SpawnSyncReturns<string> = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    input: input ?? "",
    encoding: "utf8",
    timeout: 30_000,
    env: { ...process.env, ...env },
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

    it("prints no empty uid: the ownerReference names the workspace without the server-assigned uid", () => {
      const docs = documents(sws(["render", "-f", "examples/team-quota.yaml"]).stdout);
      const owned = docs.filter((d) => d["kind"] !== "Namespace");
      expect(owned.length).to.be.greaterThan(3);
      for (const doc of owned) {
        const refs = (doc["metadata"] as { ownerReferences: Array<Record<string, unknown>> }).ownerReferences;
        expect(refs).to.deep.equal([
          {
            apiVersion: "secureworkspace.io/v1alpha1",
            kind: "SecureWorkspace",
            name: "example-team-quota",
            controller: true,
            blockOwnerDeletion: true,
          },
        ]);
      }
      expect(sws(["render", "-f", "examples/team-quota.yaml"]).stdout).to.not.match(/uid: ""/);
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
        'bad: spec.namespaces: duplicate namespace "team-a" at [1]',
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
        'bad: spec.namespaces: duplicate namespace "team-a" at [1]',
        'bad: spec.namespaces[2].name: "kube-system" is a system namespace',
        'bad: spec.networkPolicy.allowEgressTo[0].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR',
        'bad: spec.resourceQuota.hard[requests.cpu]: "lots" is not a valid quantity',
      ]);
    });

    it("reports schema problems and rule problems (CIDR, quantity) together, as the API server does", () => {
      const mixed = INVALID.replace(
        "    - name: kube-system\n",
        "    - name: kube-system\n    - name: Bad_Name\n",
      );
      const run = sws(["validate", "-f", "-"], mixed);
      expect(run.status).to.equal(1);
      const out = lines(run.stdout);
      expect(out.some((l) => l.startsWith('bad: spec.namespaces[3].name: "Bad_Name" should match'))).to.be
        .true;
      expect(out).to.include(
        'bad: spec.networkPolicy.allowEgressTo[0].ipBlock.cidr: "10.0.0.0/33" is not a valid CIDR',
      );
      expect(out).to.include('bad: spec.resourceQuota.hard[requests.cpu]: "lots" is not a valid quantity');
      // One line per problem: the schema's pattern problem is not repeated by the DNS-label rule.
      expect(out.filter((l) => l.startsWith("bad: spec.namespaces[3].name:"))).to.have.length(1);
    });

    it("a value of the wrong type stops the rules, and says so (as the API server does)", () => {
      const typed = INVALID.replace("  namespaces:\n", "  enforcement: [Audit]\n  namespaces:\n");
      const out = lines(sws(["validate", "-f", "-"], typed).stdout);
      expect(out[0]).to.equal("bad: spec.enforcement: must be of type string, got array");
      expect(out[out.length - 1]).to.match(/^bad: spec: some validation rules were not checked/);
      expect(out.some((l) => l.includes("not a valid CIDR"))).to.be.false;
    });

    it("a value outside an enum stops the rules too, and says so (as the API server does)", () => {
      const outside = INVALID.replace("spec:\n", "spec:\n  enforcement: Sometimes\n");
      const out = lines(sws(["validate", "-f", "-"], outside).stdout);
      expect(out).to.deep.equal([
        'bad: spec.enforcement: Unsupported value: "Sometimes": supported values: "Enforce", "Audit"',
        "bad: spec: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
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

  describe("usage errors exit 2 with one line on stderr", () => {
    const oneLine = (run: Run): string => {
      expect(run.status).to.equal(2);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.not.include("    at ");
      expect(lines(run.stderr)).to.have.length(1);
      return lines(run.stderr)[0] ?? "";
    };

    it("a command without -f names the missing flag", () => {
      expect(oneLine(sws(["validate"]))).to.equal("sws: missing -f FILE (use -f - for standard input)");
    });

    it("-f without a file is the same usage error", () => {
      expect(oneLine(sws(["render", "-f"]))).to.equal("sws: missing -f FILE (use -f - for standard input)");
    });

    it("an unknown command is named", () => {
      expect(oneLine(sws(["frobnicate"]))).to.equal('sws: unknown command "frobnicate" (see "sws --help")');
    });

    it("an unknown flag is refused, never ignored (sws audit --workspace x prints no rows)", () => {
      // No kubeconfig in reach: a usage error must come before any cluster access.
      const run = sws(["audit", "--workspace", "x"], "", { KUBECONFIG: path.join(tmp, "none") });
      expect(oneLine(run)).to.equal('sws: unknown flag --workspace for "sws audit" (see "sws audit --help")');
      expect(oneLine(sws(["render", "-f", "examples/minimal.yaml", "--dry-run"]))).to.match(
        /^sws: unknown flag --dry-run for "sws render"/,
      );
      expect(oneLine(sws(["validate", "-x", "examples/minimal.yaml"]))).to.match(/^sws: unknown flag -x /);
    });

    it("a stray argument is refused", () => {
      expect(oneLine(sws(["validate", "-f", "examples/minimal.yaml", "extra"]))).to.equal(
        'sws: unexpected argument "extra" for "sws validate" (see "sws validate --help")',
      );
      expect(oneLine(sws(["--version", "now"]))).to.match(/^sws: unexpected argument "now"/);
    });

    it("a value given to a boolean flag is refused", () => {
      expect(oneLine(sws(["validate", "--help=yes"]))).to.match(/takes no value|--help/);
    });

    it("audit refuses a bad -o or --state before it reads a kubeconfig", () => {
      const env = { KUBECONFIG: path.join(tmp, "none") };
      expect(oneLine(sws(["audit", "-o", "yaml"], "", env))).to.equal(
        'sws: -o must be one of table, json, markdown, oscal, not "yaml"',
      );
      expect(oneLine(sws(["audit", "--state", "Compliant,Broken"], "", env))).to.equal(
        'sws: --state must be one of Compliant, NonCompliant, NotApplicable, Unknown, not "Broken"',
      );
      expect(oneLine(sws(["audit", "-o"], "", env))).to.match(/^sws: flag needs an argument: --output/);
    });

    it("no command at all prints usage on stdout and exits 2; --help exits 0", () => {
      const none = sws([]);
      expect(none.status).to.equal(2);
      expect(none.stdout).to.match(/^usage:\n/);
      const help = sws(["--help"]);
      expect(help.status).to.equal(0);
      expect(help.stdout).to.include("sws render").and.include("sws validate").and.include("sws audit");
      expect(help.stdout).to.include("Exit codes:").and.include("kubectl sws");
    });
  });

  describe("help and version never touch a cluster or a file", () => {
    const env = (): Record<string, string> => ({ KUBECONFIG: path.join(tmp, "no-such-kubeconfig") });

    for (const command of ["render", "validate", "audit"]) {
      it(`sws ${command} --help and -h print the command's help on stdout, exit 0`, () => {
        for (const flag of ["--help", "-h"]) {
          const run = sws([command, flag], "", env());
          expect(run.stderr).to.equal("");
          expect(run.status).to.equal(0);
          expect(run.stdout).to.match(new RegExp(`^usage: sws ${command} `));
          expect(run.stdout).to.include("Flags:").and.include("Exit codes:");
        }
        expect(sws(["help", command], "", env()).stdout).to.equal(sws([command, "--help"], "", env()).stdout);
      });
    }

    it("--help wins over other arguments, even bad ones", () => {
      const run = sws(["audit", "--bogus", "--help"], "", env());
      expect(run.status).to.equal(0);
      expect(run.stdout).to.match(/^usage: sws audit/);
    });

    it("render --help says precisely what is left out of the render", () => {
      const text = sws(["render", "--help"]).stdout;
      expect(text).to.include("ownerReferences[].uid").and.include("secureworkspace.io/applied-hash");
      expect(text).to.include("secureworkspace.io/owner-uid");
    });

    it("audit --help documents the formats, --state and the exit codes", () => {
      const text = sws(["audit", "--help"], "", env()).stdout;
      for (const word of ["--output", "oscal", "--state", "NonCompliant", "--kubeconfig", "[NAME...]"])
        expect(text).to.include(word);
      expect(text).to.match(/1 {2}problems found/);
    });

    it("--version prints package.json's version", () => {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
      for (const args of [["--version"], ["version"]]) {
        const run = sws(args);
        expect(run.status).to.equal(0);
        expect(run.stdout).to.equal(`sws ${pkg.version}\n`);
      }
    });
  });

  describe("install: sws and kubectl-sws on PATH", () => {
    it("package.json names both bins, pointing at the compiled CLI with a node shebang", () => {
      const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
        bin: Record<string, string>;
      };
      expect(pkg.bin).to.deep.include({ sws: "dist/src/cli.js", "kubectl-sws": "dist/src/cli.js" });
      expect(readFileSync(CLI, "utf8").split("\n")[0]).to.equal("#!/usr/bin/env node");
    });

    it("works as a kubectl plugin: a kubectl-sws executable on PATH runs the same CLI", () => {
      // What npm link / npm install -g creates: an executable named kubectl-sws on PATH. kubectl
      // runs it with the arguments after "sws"; here we run it the same way, through PATH.
      const bin = path.join(tmp, "bin");
      mkdirSync(bin, { recursive: true });
      const plugin = path.join(bin, "kubectl-sws");
      writeFileSync(plugin, `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
      chmodSync(plugin, 0o755);
      const run = spawnSync("kubectl-sws", ["validate", "-f", "examples/minimal.yaml"], {
        cwd: ROOT,
        encoding: "utf8",
        env: { ...process.env, PATH: `${bin}${path.delimiter}${process.env["PATH"] ?? ""}` },
      });
      expect(run.status).to.equal(0);
      expect(run.stdout).to.equal("example-minimal: valid\n");
    });
  });
});
