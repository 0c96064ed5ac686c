/**
 * The evidence `sws audit` shows for each control of status.controls[], derived from the workspace's
 * spec and conditions (status writes evidence only for a NonCompliant control). Pure.
 */
import type { Condition, ControlStatus, SecureWorkspace } from "../api/types.js";
import {
  CHANGE_CONTROL,
  CONDITION_OF_CONTROL,
  CONTROL_CATALOGUE,
  controlOf,
  MONITORING_CONTROL,
  type BaselineControl,
} from "./controls.js";
import { desiredState } from "./index.js";
import { objectRef, type Control, type DesiredObject } from "./objects.js";

/**
 * The evidence of a control as `sws audit` shows it: status's own (written only for a NonCompliant
 * control) or, for a Compliant or NotApplicable one, what shows its state: the baseline objects
 * that evidence it, derived from the workspace's spec as the operator derives them (or, when the
 * spec cannot be rendered, the conditions' messages). Pure.
 */
export function derivedEvidence(control: ControlStatus, ws: SecureWorkspace): string {
  if (control.evidence !== undefined && control.evidence !== "") return control.evidence;
  if (control.id === MONITORING_CONTROL.id)
    return "watches every managed object; drift is reported in status and Events";
  if (control.id === CHANGE_CONTROL.id)
    return control.state === "Compliant"
      ? `unauthorised changes are reverted and recorded as Events (driftCorrections: ${String(ws.status?.driftCorrections ?? 0)})`
      : "enforcement: Audit (changes are reported, not reverted)";
  if (control.state === "NotApplicable") return "not requested by the spec";
  const evidencedBy = CONTROL_CATALOGUE.find((c) => c.id === control.id)?.evidencedBy ?? [];
  return evidenceObjects(ws, evidencedBy) ?? conditionMessages(ws.status?.conditions ?? [], evidencedBy);
}

/** `NetworkPolicy/sws-default-deny, ...` (once per name across namespaces); undefined if the spec does not render. */
function evidenceObjects(ws: SecureWorkspace, evidencedBy: readonly Control[]): string | undefined {
  let desired: DesiredObject[];
  try {
    desired = desiredState(ws);
  } catch {
    return undefined;
  }
  const names = desired
    .filter((d) => evidencedBy.includes(controlOf(d)))
    .map((d) => (d.kind === "Namespace" ? "Namespace labels" : objectRef(d)));
  return [...new Set(names)].join(", ") || undefined;
}

function conditionMessages(conditions: readonly Condition[], evidencedBy: readonly Control[]): string {
  const types = evidencedBy
    .filter((ctl): ctl is BaselineControl => ctl !== "namespace")
    .map((ctl) => CONDITION_OF_CONTROL[ctl]);
  return conditions
    .filter((c) => types.includes(c.type))
    .map((c) => `${c.type}: ${c.message}`)
    .join("; ");
}
