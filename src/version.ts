/**
 * The operator's version: package.json's "version", the single source (the Helm chart, the image
 * tag in config/ and the CHANGELOG follow it; test/unit/version.test.ts checks they do).
 *
 * Read on first call, not at import (no side effect at import): from dist/src/version.js the file
 * is two folders up, where the image (config/Dockerfile) and a checkout both keep it.
 */
import { readFileSync } from "node:fs";

let cached: string | undefined;

/** package.json's "version" (e.g. "0.1.0"); throws when package.json cannot be read. */
export function version(): string {
  if (cached === undefined) {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: unknown;
    };
    if (typeof pkg.version !== "string") throw new Error("package.json has no version");
    cached = pkg.version;
  }
  return cached;
}
