/**
 * `make deploy` without Docker or a registry: builds the operator image (config/Dockerfile's final
 * stage, see images.ts) as a docker-archive, imports it into the local real node's containerd, and
 * applies config/ through a kustomize overlay that only swaps the image for the local tag with
 * imagePullPolicy Never. Everything else (namespace, RBAC, the two-replica Deployment, probes,
 * security context, admission policies) is exactly config/.
 *
 *   node dist/test/harness/node/deploy.js            build, import, apply (KUBECONFIG)
 *   node dist/test/harness/node/deploy.js --delete   delete what apply created (not the CRD)
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { repoRoot } from "../control-plane-binaries.js";
import { nodeBinaries, type NodeBinaries } from "./binaries.js";
import { lockRecord } from "./host.js";
import { OPERATOR_IMAGE, operatorImageSpec, writeImage } from "./images.js";

/** The image config/deployment.yaml names, which the overlay replaces. */
export const CONFIG_IMAGE = "ghcr.io/secure-workspace-operator/operator";

/** Writes the operator image archive into `dir`; returns its path. */
export function buildOperatorImage(bins: NodeBinaries, dir: string, log: (line: string) => void): string {
  mkdirSync(dir, { recursive: true });
  const archive = path.join(dir, "operator-image.tar");
  log(`building ${OPERATOR_IMAGE} from config/Dockerfile's final stage...`);
  writeImage(bins, operatorImageSpec(log), archive);
  return archive;
}

/**
 * A kustomize overlay of config/ with the local image; returns its directory (caller removes it).
 * The base is named by a relative path: kustomize refuses an absolute one.
 */
export function writeOverlay(): string {
  const dir = mkdtempSync(path.join(tmpdir(), "sws-deploy-"));
  const [name, tag] = OPERATOR_IMAGE.split(":") as [string, string];
  writeFileSync(
    path.join(dir, "kustomization.yaml"),
    `apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ${path.relative(dir, path.join(repoRoot(), "config"))}
images:
  - name: ${CONFIG_IMAGE}
    newName: ${name}
    newTag: ${tag}
patches:
  - target:
      kind: Deployment
      name: secure-workspace-operator
    patch: |-
      - op: replace
        path: /spec/template/spec/containers/0/imagePullPolicy
        value: Never
`,
  );
  return dir;
}

/** kubectl with an explicit kubeconfig (or $KUBECONFIG). */
function kubectl(kubeconfig: string | undefined, args: string[]): string {
  return execFileSync("kubectl", [...(kubeconfig ? ["--kubeconfig", kubeconfig] : []), ...args], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/**
 * Builds the image, imports it with `importImage`, and applies the overlay. The CRD goes first and
 * is waited for (kubectl applies a list in one pass).
 */
export function deployOperator(options: {
  bins: NodeBinaries;
  importImage: (archive: string) => void;
  kubeconfig?: string;
  workDir: string;
  log: (line: string) => void;
}): void {
  const archive = buildOperatorImage(options.bins, options.workDir, options.log);
  options.log("importing it into the node's containerd...");
  options.importImage(archive);
  const overlay = writeOverlay();
  try {
    options.log("kubectl apply -k config/ (image overridden, imagePullPolicy Never)...");
    kubectl(options.kubeconfig, ["apply", "-f", path.join(repoRoot(), "crds", "secureworkspace.yaml")]);
    kubectl(options.kubeconfig, [
      "wait",
      "--for=condition=Established",
      "crd/secureworkspaces.secureworkspace.io",
      "--timeout=60s",
    ]);
    kubectl(options.kubeconfig, ["apply", "-k", overlay]);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
}

/**
 * Removes what the overlay applied except the CRD (deleting it would delete every workspace): the
 * admission policies first, so nothing refuses the rest.
 */
export function undeployOperator(kubeconfig?: string): void {
  const overlay = writeOverlay();
  try {
    const docs = kubectl(kubeconfig, ["kustomize", overlay]);
    const kinds = ["ValidatingAdmissionPolicyBinding", "ValidatingAdmissionPolicy"];
    const objects = docs
      .split(/^---$/m)
      .map((d) => ({
        kind: /^kind: (\S+)/m.exec(d)?.[1],
        name: /^ {2}name: (\S+)/m.exec(d)?.[1],
        ns: /^ {2}namespace: (\S+)/m.exec(d)?.[1],
      }))
      .filter((o) => o.kind && o.name && o.kind !== "CustomResourceDefinition");
    const order = (k: string | undefined): number => (kinds.includes(k ?? "") ? 0 : 1);
    for (const o of objects.sort((a, b) => order(a.kind) - order(b.kind)))
      kubectl(kubeconfig, [
        "delete",
        o.kind!,
        o.name!,
        ...(o.ns ? ["-n", o.ns] : []),
        "--ignore-not-found",
        "--wait=false",
      ]);
  } finally {
    rmSync(overlay, { recursive: true, force: true });
  }
}

function main(): void {
  const log = (line: string): void => console.log(`[deploy] ${line}`);
  if (process.argv.includes("--delete")) {
    undeployOperator();
    log("deleted (the CRD stays)");
    return;
  }
  const record = lockRecord();
  if (!record)
    throw new Error("no local real node is running (make cluster NODE=1): the image has nowhere to go");
  const bins = nodeBinaries();
  const socket = path.join(record.dir, "containerd", "containerd.sock");
  deployOperator({
    bins,
    workDir: path.join(record.dir, "deploy"), // removed with the node
    importImage: (archive) => {
      execFileSync(bins.ctr, ["--address", socket, "--namespace", "k8s.io", "images", "import", archive], {
        stdio: "inherit",
      });
    },
    log,
  });
  log("applied; kubectl -n secure-workspace-system get pods");
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    console.error(`deploy: ${(err as Error).message}`);
    process.exit(1);
  }
}
