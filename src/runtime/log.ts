/**
 * The one logging interface of the operator: a fixed message plus structured fields. The runtime and
 * the domain depend on it; observability/logger.ts builds the winston implementation.
 */

/** Structured context of one event: `{ workspace, writes }`. Values are serialised as JSON. */
export type LogFields = Readonly<Record<string, unknown>>;

/** What the operator logs through; each method takes a fixed message and optional fields. */
export interface Logger {
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
}
