/**
 * Every offline check of a SecureWorkspace in one call: the CRD's structural schema (the
 * same file the API server enforces), then the semantic rules. Used by `sws validate`,
 * `sws render` and the reconciler (objects stored before a rule existed).
 */
import { applyDefaults } from "./defaults.js";
import type { Problem } from "./problems.js";
import { checkSchema } from "./schema.js";
import type { SecureWorkspace } from "./types.js";
import { validateSpec } from "./validation.js";

/** Schema problems, or, when the shape is right, semantic problems. Empty means valid. */
export function checkWorkspace(ws: SecureWorkspace): Problem[] {
  const schema = checkSchema(ws);
  if (schema.length > 0) return schema;
  const semantic = validateSpec(ws.spec);
  // Defaults must apply cleanly too: a spec that passes but cannot be resolved is a bug to surface.
  if (semantic.length === 0) applyDefaults(ws.spec);
  return semantic;
}
