/**
 * Whether Istio's security API is served, from discovery, remembered for a short while so a
 * busy loop does not ask on every reconcile, and re-asked so a later install is picked up.
 */
import type { KubeClient } from "../runtime/client.js";

/** Discovery of security.istio.io/v1 with a time-to-live. */
export class MeshDetector {
  private known: { value: boolean; at: number } | undefined;
  private inflight: Promise<boolean> | undefined;

  constructor(
    private readonly kube: KubeClient,
    /** How long an answer is trusted (default 30 s). */
    private readonly ttlMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True when peerauthentications.security.istio.io/v1 is served. */
  async istioInstalled(): Promise<boolean> {
    if (this.known && this.clock() - this.known.at < this.ttlMs) return this.known.value;
    this.inflight ??= this.kube
      .serves("security.istio.io/v1", "peerauthentications")
      .then((value) => {
        this.known = { value, at: this.clock() };
        return value;
      })
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }
}
