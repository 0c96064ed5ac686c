/**
 * One version source: package.json's "version". The operator's --version and startup log read it
 * (src/version.ts); the Helm chart, the image tag in config/, the Dockerfile's label and the
 * CHANGELOG carry it as text, and this test keeps them equal.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { parse, parseAllDocuments } from "yaml";
import { version } from "../../src/version.js";
import { repoRoot } from "../harness/control-plane-binaries.js";

const execFileAsync = promisify(execFile);
const read = (file: string): string => readFileSync(path.join(repoRoot(), file), "utf8");
const packageVersion = (JSON.parse(read("package.json")) as { version: string }).version;

describe("version: one source, package.json", () => {
  it("is what src/version.ts reads", () => {
    expect(packageVersion).to.match(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/);
    expect(version()).to.equal(packageVersion);
  });

  it("is what the operator prints for --version (and exits 0 without a cluster)", async () => {
    const { stdout } = await execFileAsync(process.execPath, [
      path.join(repoRoot(), "dist", "src", "main.js"),
      "--version",
    ]);
    expect(stdout).to.equal(`secure-workspace-operator ${packageVersion}\n`);
  });

  it("is the Helm chart's version and appVersion", () => {
    const chart = parse(read("config/helm/secure-workspace-operator/Chart.yaml")) as {
      version: string;
      appVersion: string;
    };
    expect(chart.version).to.equal(packageVersion);
    expect(chart.appVersion).to.equal(packageVersion);
  });

  it("is the image tag and version label of config/deployment.yaml", () => {
    const deployment = parseAllDocuments(read("config/deployment.yaml"))
      .map(
        (d) =>
          d.toJS() as {
            kind: string;
            metadata: { labels: Record<string, string> };
            spec: { template: { spec: { containers: { image: string }[] } } };
          },
      )
      .find((d) => d.kind === "Deployment");
    expect(deployment?.metadata.labels["app.kubernetes.io/version"]).to.equal(packageVersion);
    expect(deployment?.spec.template.spec.containers[0]?.image).to.match(
      new RegExp(`:${packageVersion.replace(/\./g, "\\.")}$`),
    );
  });

  it("is the Dockerfile's default VERSION label and its build example's tag", () => {
    const dockerfile = read("config/Dockerfile");
    expect(dockerfile).to.include(`ARG VERSION=${packageVersion}\n`);
    expect(dockerfile).to.include(`operator:${packageVersion} .`);
  });

  it("has a CHANGELOG section (Keep a Changelog), or is still Unreleased there", () => {
    const changelog = read("CHANGELOG.md");
    expect(changelog).to.include("## [Unreleased]");
    expect(changelog).to.match(
      new RegExp(`^## \\[${packageVersion.replace(/\./g, "\\.")}\\] - \\d{4}-\\d{2}-\\d{2}$`, "m"),
    );
  });
});
