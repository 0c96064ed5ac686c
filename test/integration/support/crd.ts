/**
 * Installs crds/secureworkspace.yaml into a test cluster, for every integration suite that needs
 * the SecureWorkspace API. Idempotent: creates the CRD, or replaces it when it exists (so a
 * changed schema takes effect in a long-lived `make cluster`), then waits until it is served.
 */
import { readFileSync } from "node:fs";
import {
  ApiException,
  ApiextensionsV1Api,
  CustomObjectsApi,
  loadYaml,
  type KubeConfig,
  type V1CustomResourceDefinition,
} from "@kubernetes/client-node";
import { GROUP, PLURAL, VERSION } from "../../../src/api/constants.js";
import { crdPath } from "../../../src/api/schema.js";

/** The CRD's name, `<plural>.<group>`. */
export const CRD_NAME = `${PLURAL}.${GROUP}`;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The manifest as a typed object: loadYaml maps `x-kubernetes-*` keys onto the client's model. */
function manifest(): V1CustomResourceDefinition {
  return loadYaml<V1CustomResourceDefinition>(readFileSync(crdPath(), "utf8"));
}

function isEstablished(crd: V1CustomResourceDefinition): boolean {
  return (crd.status?.conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
}

async function createOrReplace(api: ApiextensionsV1Api, body: V1CustomResourceDefinition): Promise<void> {
  try {
    await api.createCustomResourceDefinition({ body });
    return;
  } catch (err) {
    if (!(err instanceof ApiException) || err.code !== 409) throw err;
  }
  // Exists: replace with the current resourceVersion, retrying when another writer got there first.
  for (let attempt = 0; ; attempt++) {
    const existing = await api.readCustomResourceDefinition({ name: CRD_NAME });
    const update = {
      ...body,
      metadata: { ...body.metadata, resourceVersion: existing.metadata?.resourceVersion },
    };
    try {
      await api.replaceCustomResourceDefinition({ name: CRD_NAME, body: update });
      return;
    } catch (err) {
      if (!(err instanceof ApiException) || err.code !== 409 || attempt >= 5) throw err;
    }
  }
}

/**
 * Creates or replaces the SecureWorkspace CRD and resolves once it is Established and its
 * resource answers a list request (discovery and the REST handler can lag Established).
 * Rejects with the API server's message when the server refuses the CRD (e.g. a CEL rule over
 * the cost budget), or after `timeoutMs` (default 60 s).
 */
export async function installCrd(kc: KubeConfig, timeoutMs = 60_000): Promise<void> {
  const api = kc.makeApiClient(ApiextensionsV1Api);
  const objects = kc.makeApiClient(CustomObjectsApi);
  await createOrReplace(api, manifest());
  const deadline = Date.now() + timeoutMs;
  let last = "not Established";
  while (Date.now() < deadline) {
    const crd = await api.readCustomResourceDefinition({ name: CRD_NAME });
    if (isEstablished(crd)) {
      try {
        await objects.listClusterCustomObject({ group: GROUP, version: VERSION, plural: PLURAL, limit: 1 });
        return;
      } catch (err) {
        if (!(err instanceof ApiException) || err.code !== 404) throw err;
        last = "Established but not served yet";
      }
    }
    await sleep(100);
  }
  throw new Error(`CRD ${CRD_NAME} not ready after ${timeoutMs} ms: ${last}`);
}
