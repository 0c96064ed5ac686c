/**
 * The operator's logger: a fixed message plus structured fields, one line per event, on winston.
 * Only the app layer logs (libraries report through callbacks and results), so this module is small:
 * {@link createLogger} builds the {@link Logger} (src/runtime/log.ts) the rest of the code depends on.
 */
import winston from "winston";
import { describeError } from "../runtime/errors.js";
import type { LogFields, Logger } from "../runtime/log.js";

/** Severity, most to least severe; a logger prints its level and the ones above it. */
export type LogLevel = "error" | "warn" | "info" | "debug";

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** Lowest level printed. */
  readonly level: LogLevel;
  /** `json`: one JSON object per line (for log collectors); `text`: `time LEVEL message k=v` for people. */
  readonly format: "json" | "text";
  /** Where lines go, default process.stdout (tests pass a buffer). */
  readonly stream?: NodeJS.WritableStream;
}

/** Replaces the value of any field whose key mentions one of these, at any depth. */
const SECRET_KEY = /token|authorization|password/i;
/** What a redacted value becomes. */
export const REDACTED = "[REDACTED]";
/** Deeper structures are cut off: a log line is not a dump, and a cycle must not hang the process. */
const MAX_DEPTH = 6;
/** Keys winston itself writes; a field with one of these names is renamed rather than overwriting it. */
const RESERVED_KEYS = new Set(["level", "message", "timestamp"]);

/**
 * A JSON-safe copy of `value` with secret-looking keys redacted, errors turned into their messages,
 * and bigints into strings. Exported for tests; pure.
 */
export function sanitize(value: unknown, depth = 0): unknown {
  if (value instanceof Error) return describeError(value);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Date) return value.toISOString();
  if (depth >= MAX_DEPTH) return "[…]";
  if (Array.isArray(value)) return value.map((v: unknown) => sanitize(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : sanitize(v, depth + 1);
  }
  return out;
}

/** The fields as winston metadata: sanitised, with winston's own keys renamed (`message` → `message_`). */
function toMeta(fields: LogFields | undefined): Record<string, unknown> {
  const meta: Record<string, unknown> = {};
  if (!fields) return meta;
  const clean = sanitize(fields) as Record<string, unknown>;
  for (const [key, v] of Object.entries(clean)) meta[RESERVED_KEYS.has(key) ? `${key}_` : key] = v;
  return meta;
}

/** `k=v` with strings quoted only when they contain spaces, quotes or `=`, like logfmt. */
function logfmtValue(v: unknown): string {
  if (typeof v === "string") return /[\s"=]/.test(v) || v === "" ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? "undefined";
}

/** `2026-01-01T00:00:00.000Z INFO  reconciled workspace=team-a writes=2`. */
const textFormat = winston.format.printf((info) => {
  const { level, message, timestamp, ...fields } = info;
  const kv = Object.entries(fields)
    .map(([k, v]) => `${k}=${logfmtValue(v)}`)
    .join(" ");
  const head = `${String(timestamp)} ${level.toUpperCase().padEnd(5)} ${String(message)}`;
  return kv ? `${head} ${kv}` : head;
});

/** Builds a logger writing one line per event to stdout (or `options.stream`). */
export function createLogger(options: LoggerOptions): Logger {
  const w = winston.createLogger({
    level: options.level,
    // npm levels contain ours (error 0, warn 1, info 2, debug 5); the ones we never use stay silent.
    levels: winston.config.npm.levels,
    format: winston.format.combine(
      winston.format.timestamp(),
      options.format === "json" ? winston.format.json() : textFormat,
    ),
    transports: [new winston.transports.Stream({ stream: options.stream ?? process.stdout })],
    // A logger must never end the process: uncaught errors are main's business.
    exitOnError: false,
  });
  const emit =
    (level: LogLevel) =>
    (message: string, fields?: LogFields): void => {
      w.log({ ...toMeta(fields), level, message });
    };
  return { error: emit("error"), warn: emit("warn"), info: emit("info"), debug: emit("debug") };
}
