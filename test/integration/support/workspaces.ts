/**
 * Small helpers for reconcile tests: apply a workspace as an admin would, read it back, and
 * wait for its conditions. Waits poll with a generous deadline; nothing asserts timing.
 */
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { parse } from "yaml";
import type { Condition, SecureWorkspace, SecureWorkspaceSpec } from "../../../src/api/types.js";
import type { KubeObject } from "../../../src/runtime/client.js";
import type { TestKubeClient } from "../../support/test-client.js";
import { isNotFound } from "../../../src/runtime/errors.js";
import { resourceOfKind } from "../../../src/api/resources.js";
import { repoRoot } from "../../harness/control-plane-binaries.js";
import { waitFor } from "../../support/wait.js";

export const SWS = resourceOfKind("SecureWorkspace");

/** A SecureWorkspace object around a spec. */
export function workspace(name: string, spec: SecureWorkspaceSpec): KubeObject {
  return { apiVersion: "secureworkspace.io/v1alpha1", kind: "SecureWorkspace", metadata: { name }, spec };
}

/** Every example in examples/, parsed. */
export function examples(): Array<{ file: string; ws: SecureWorkspace }> {
  const dir = path.join(repoRoot(), "examples");
  return readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((file) => ({ file, ws: parse(readFileSync(path.join(dir, file), "utf8")) as SecureWorkspace }));
}

/** Reads a workspace (undefined when it is gone). */
export async function getWorkspace(
  admin: TestKubeClient,
  name: string,
): Promise<SecureWorkspace | undefined> {
  try {
    return (await admin.get(SWS, name)) as unknown as SecureWorkspace;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** A condition of a workspace's status. */
export function condition(ws: SecureWorkspace | undefined, type: string): Condition | undefined {
  return ws?.status?.conditions?.find((c) => c.type === type);
}

/** Waits until status is current (observedGeneration == generation) and `check` holds; returns the workspace. */
export async function waitForStatus(
  admin: TestKubeClient,
  name: string,
  check: (ws: SecureWorkspace) => boolean,
  what: string,
  timeoutMs = 90_000,
): Promise<SecureWorkspace> {
  let last: SecureWorkspace | undefined;
  return waitFor(
    async () => {
      last = await getWorkspace(admin, name);
      return last && last.status?.observedGeneration === last.metadata.generation && check(last)
        ? last
        : undefined;
    },
    {
      timeoutMs,
      intervalMs: 200,
      message: () => `${name}: ${what}; last status: ${JSON.stringify(last?.status?.conditions ?? null)}`,
    },
  );
}

/** Waits for Ready=True with a current observedGeneration. */
export async function waitReady(
  admin: TestKubeClient,
  name: string,
  reason = "Enforced",
): Promise<SecureWorkspace> {
  return waitForStatus(
    admin,
    name,
    (ws) => condition(ws, "Ready")?.status === "True" && condition(ws, "Ready")?.reason === reason,
    `Ready=True (${reason})`,
  );
}

/** Reads any object, undefined when absent. */
export async function getObject(
  admin: TestKubeClient,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return await admin.get(resourceOfKind(kind), name, namespace);
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Deletes a workspace and waits until it is gone (its finalizer ran). */
export async function deleteWorkspace(admin: TestKubeClient, name: string): Promise<void> {
  await admin.delete(SWS, name);
  await waitFor(async () => (await getWorkspace(admin, name)) === undefined, {
    timeoutMs: 90_000,
    message: `${name} deleted`,
  });
}
