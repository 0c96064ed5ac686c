/**
 * The shape of a desired object and the metadata every managed object carries:
 * the contract's labels and an ownerReference to its SecureWorkspace.
 */
import { API_VERSION, KIND, MANAGED_BY_LABEL, MANAGED_BY_VALUE, WORKSPACE_LABEL } from "../api/constants.js";
import type { ResolvedSpec } from "../api/defaults.js";
import type { BaselineControl } from "./controls.js";

/** An owner reference (metav1.OwnerReference). */
export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller: boolean;
  blockOwnerDeletion: boolean;
}

/** Metadata of a desired object: only fields the operator owns. */
export interface DesiredMeta {
  name: string;
  namespace?: string;
  labels: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
}

/** A Kubernetes object the operator wants to exist, as a server-side-apply body. */
export interface DesiredObject {
  apiVersion: string;
  kind: string;
  metadata: DesiredMeta;
  [field: string]: unknown;
}

/**
 * The control an object belongs to: one of CONTROLS (controls.ts; one status condition each), or
 * the namespace itself.
 */
export type Control = "namespace" | BaselineControl;

/** What the baseline functions need besides the resolved spec. */
export interface WorkspaceRef {
  name: string;
  /** The SecureWorkspace's uid; empty when rendering offline (the server assigns it). */
  uid: string;
}

/** Everything a per-control builder reads. */
export interface BuildContext {
  workspace: WorkspaceRef;
  spec: ResolvedSpec;
}

/** The labels on every managed object. */
export function managedLabels(workspace: string): Record<string, string> {
  return { [MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [WORKSPACE_LABEL]: workspace };
}

/** The controller ownerReference to the workspace. */
export function ownerReference(ws: WorkspaceRef): OwnerReference {
  return {
    apiVersion: API_VERSION,
    kind: KIND,
    name: ws.name,
    uid: ws.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

/** Metadata for a namespaced managed object. */
export function objectMeta(ctx: BuildContext, namespace: string, name: string): DesiredMeta {
  return {
    name,
    namespace,
    labels: managedLabels(ctx.workspace.name),
    ownerReferences: [ownerReference(ctx.workspace)],
  };
}

/** `Kind/name` as used in status and Events. */
export function objectRef(obj: { kind: string; metadata: { name: string } }): string {
  return `${obj.kind}/${obj.metadata.name}`;
}
