/**
 * Installs Istio's security.istio.io CRDs: Istio's own (../shared/crds/istio-security.yaml,
 * beside the repository in CI) when present, else the project's small fixture. The shared file
 * is read in place, never copied into the project.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  ApiException,
  ApiextensionsV1Api,
  loadAllYaml,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { adminKubeConfig } from "../../harness/test-env.js";
import { waitFor } from "../../support/wait.js";

/** Where the CRDs come from in this run. */
export function istioCrdSource(): { file: string; real: boolean } {
  const shared = path.resolve(repoRoot(), "..", "shared", "crds", "istio-security.yaml");
  if (existsSync(shared)) return { file: shared, real: true };
  return { file: path.join(repoRoot(), "test", "fixtures", "istio-security-crds.yaml"), real: false };
}

/** Creates the CRDs (idempotent) and waits until peerauthentications are Established. */
export async function installIstioCrds(): Promise<{ real: boolean }> {
  const { file, real } = istioCrdSource();
  const api = adminKubeConfig().makeApiClient(ApiextensionsV1Api);
  const crds = (loadAllYaml(readFileSync(file, "utf8")) as V1CustomResourceDefinition[]).filter(
    (d) => d?.kind === "CustomResourceDefinition",
  );
  for (const body of crds) {
    try {
      await api.createCustomResourceDefinition({ body });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409) throw err;
    }
  }
  for (const crd of crds) {
    const name = crd.metadata?.name ?? "";
    await waitFor(
      async () => {
        const got = await api.readCustomResourceDefinition({ name });
        return (got.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
      },
      { timeoutMs: 60_000, message: `CRD ${name} Established` },
    );
  }
  return { real };
}

/** Removes the security.istio.io CRDs and waits until discovery no longer serves them. */
export async function uninstallIstioCrds(): Promise<void> {
  const api = adminKubeConfig().makeApiClient(ApiextensionsV1Api);
  const names = ["peerauthentications.security.istio.io", "authorizationpolicies.security.istio.io"];
  for (const name of names) {
    try {
      await api.deleteCustomResourceDefinition({ name });
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 404) throw err;
    }
  }
  for (const name of names)
    await waitFor(
      async () => {
        try {
          await api.readCustomResourceDefinition({ name });
          return false;
        } catch (err) {
          return err instanceof ApiException && err.code === 404;
        }
      },
      { timeoutMs: 60_000, message: `CRD ${name} removed` },
    );
}
