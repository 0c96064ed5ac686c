/**
 * Reading SecureWorkspaces from YAML/JSON text (the CLI's input): every document must be a
 * SecureWorkspace with a spec. Errors are one line each, with the document number.
 */
import { parseAllDocuments } from "yaml";
import { API_VERSION, KIND } from "./constants.js";
import { asSecureWorkspace, type SecureWorkspace } from "./types.js";

/** Input that is not a SecureWorkspace at all. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InputError";
  }
}

/** Parses every YAML document in `text` as a SecureWorkspace (defaults not applied). */
export function parseWorkspaces(text: string, source: string): SecureWorkspace[] {
  const docs = parseAllDocuments(text);
  const out: SecureWorkspace[] = [];
  docs.forEach((doc, i) => {
    const where = docs.length > 1 ? `${source} (document ${i + 1})` : source;
    if (doc.errors.length > 0)
      throw new InputError(`${where}: not valid YAML: ${doc.errors[0]?.message.split("\n")[0] ?? ""}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return;
    if (typeof value !== "object" || Array.isArray(value))
      throw new InputError(`${where}: expected a YAML mapping (an object)`);
    const obj = value as Record<string, unknown>;
    if (obj["kind"] !== KIND)
      throw new InputError(`${where}: kind is ${JSON.stringify(obj["kind"] ?? null)}, expected ${KIND}`);
    if (obj["apiVersion"] !== API_VERSION)
      throw new InputError(
        `${where}: apiVersion is ${JSON.stringify(obj["apiVersion"] ?? null)}, expected ${API_VERSION}`,
      );
    const meta = obj["metadata"] as { name?: unknown } | undefined;
    if (typeof meta?.name !== "string" || meta.name === "")
      throw new InputError(`${where}: metadata.name is required`);
    if (typeof obj["spec"] !== "object" || obj["spec"] === null)
      throw new InputError(`${where}: spec is required`);
    const ws = asSecureWorkspace(obj);
    if (!ws) throw new InputError(`${where}: not a SecureWorkspace`);
    out.push(ws);
  });
  if (out.length === 0) throw new InputError(`${source}: no SecureWorkspace found`);
  return out;
}
