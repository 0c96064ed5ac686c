/**
 * The operator's API client with the few requests only tests make: a JSON merge patch (a tenant's
 * or an admin's edit, as kubectl patch sends it), a ServiceAccount token from the TokenRequest
 * API (to act as a realistic identity), and a GET of a non-resource path. The operator never
 * sends these, so they live here, not in src/runtime.
 */
import { KubeClient, type KubeObject } from "../../src/runtime/client.js";
import { KUBERNETES, objectPath, type ResourceType } from "../../src/runtime/resources.js";

export class TestKubeClient extends KubeClient {
  /** A JSON merge patch (`kubectl patch --type merge [--subresource status]`). */
  async mergePatch<T extends KubeObject>(
    r: ResourceType,
    name: string,
    patch: unknown,
    namespace?: string,
    subresource?: "status",
  ): Promise<T> {
    return this.send<T>({
      verb: "patch",
      method: "PATCH",
      path: `${objectPath(r, name, namespace)}${subresource ? `/${subresource}` : ""}`,
      body: patch,
      contentType: "application/merge-patch+json",
    });
  }

  /** GETs a non-resource path such as /version or /readyz. */
  async getPath(path: string): Promise<unknown> {
    return this.send<unknown>({ verb: "get", method: "GET", path });
  }

  /** Mints a ServiceAccount token with the TokenRequest API. */
  async requestToken(namespace: string, serviceAccount: string, expirationSeconds = 3600): Promise<string> {
    const answer = await this.send<{ status: { token: string } }>({
      verb: "create",
      method: "POST",
      path: `${objectPath(KUBERNETES.ofKind("ServiceAccount"), serviceAccount, namespace)}/token`,
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds } },
    });
    return answer.status.token;
  }
}
