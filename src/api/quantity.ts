/**
 * Kubernetes resource quantities as numbers, so "1000m" and "1" compare equal: the API server
 * stores quantities in canonical form, which need not be the form the spec used.
 */
const SUFFIX: Record<string, number> = {
  "": 1,
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const QUANTITY = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E|[eE][+-]?\d+)?$/;

/** The value of a quantity, or undefined when the string is not one. */
export function parseQuantity(value: string): number | undefined {
  const match = QUANTITY.exec(value);
  if (!match) return undefined;
  const number = Number(match[1]);
  const suffix = match[2] ?? "";
  // A decimal exponent ("1e3", "1E-2"), not the binary/decimal SI suffixes "E" and "Ei".
  if (/^[eE][+-]?\d+$/.test(suffix)) return number * 10 ** Number(suffix.slice(1));
  const factor = SUFFIX[suffix];
  return factor === undefined ? undefined : number * factor;
}

/** Whether two quantity strings denote the same amount (within float rounding). */
export function sameQuantity(a: string, b: string): boolean {
  if (a === b) return true;
  const x = parseQuantity(a);
  const y = parseQuantity(b);
  if (x === undefined || y === undefined) return false;
  return Math.abs(x - y) <= Math.max(Math.abs(x), Math.abs(y)) * 1e-12;
}

// ---- exact, as the API server reads them -----------------------------------------------------
// The CRD's CEL rules (isQuantity, quantity(...).compareTo, isInteger) run on apimachinery's
// resource.ParseQuantity. The float reading above is close enough to compare a spec with what the
// server stored; `sws validate` must give the server's verdict, so it reads quantities the same
// way, exactly: a port of ParseQuantity (k8s.io/apimachinery/pkg/api/resource, v0.37) on bigints.

/** A quantity's value: sign × digits × 10^exponent (digits without trailing zeros, or 0n). */
export interface ExactQuantity {
  readonly negative: boolean;
  readonly digits: bigint;
  readonly exponent: number;
  /**
   * What CEL's `isInteger()` answers: whether the server holds the value as an int64 at a scale
   * of 0 or more. Not the same as being whole: "1000m", "1.0" and "1Pi" are whole but are not.
   */
  readonly isInteger: boolean;
}

const DECIMAL_SUFFIX: Readonly<Record<string, number>> = {
  "": 0,
  n: -9,
  u: -6,
  m: -3,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIX: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Gi: 30, Ti: 40, Pi: 50, Ei: 60 };
const MAX_INT64 = (1n << 63n) - 1n;
const NANO = -9;

interface QuantityParts {
  readonly negative: boolean;
  /** The numerator without leading zeros ("0" when none are left). */
  readonly num: string;
  readonly denom: string;
  readonly suffix: string;
}

const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9";

function skip(str: string, from: number, test: (c: string | undefined) => boolean): number {
  let i = from;
  while (i < str.length && test(str[i])) i++;
  return i;
}

/** parseQuantityString: sign, numerator, denominator and suffix, or undefined when malformed. */
function quantityParts(str: string): QuantityParts | undefined {
  const negative = str.startsWith("-");
  let pos = str.startsWith("-") || str.startsWith("+") ? 1 : 0;
  pos = skip(str, pos, (c) => c === "0");
  if (pos >= str.length) return { negative, num: "0", denom: "", suffix: "" };
  const numEnd = skip(str, pos, isDigit);
  const num = str.slice(pos, numEnd) || "0";
  pos = numEnd;
  let denom = "";
  if (str[pos] === ".") {
    const denomEnd = skip(str, pos + 1, isDigit);
    denom = str.slice(pos + 1, denomEnd);
    pos = denomEnd;
  }
  const suffixStart = pos;
  pos = skip(str, pos, (c) => c !== undefined && "eEinumkKMGTP".includes(c));
  if (pos < str.length && (str[pos] === "-" || str[pos] === "+")) pos++;
  pos = skip(str, pos, isDigit);
  return pos < str.length ? undefined : { negative, num, denom, suffix: str.slice(suffixStart) };
}

type Suffix = { base: 10 | 2; exponent: number };

/** The suffix's base and exponent; a decimal exponent must fit an int64 and wraps to int32 as in Go. */
function interpretSuffix(suffix: string): Suffix | undefined {
  const decimal = DECIMAL_SUFFIX[suffix];
  if (decimal !== undefined) return { base: 10, exponent: decimal };
  const binary = BINARY_SUFFIX[suffix];
  if (binary !== undefined) return { base: 2, exponent: binary };
  if (!/^[eE][+-]?\d+$/.test(suffix)) return undefined;
  const parsed = BigInt(suffix.slice(1));
  if (parsed > MAX_INT64 || parsed < -MAX_INT64 - 1n) return undefined;
  return { base: 10, exponent: Number(BigInt.asIntN(32, parsed)) };
}

/**
 * ParseQuantity's fast path: the value as an int64 at a scale (a power of ten) of at least nano,
 * or undefined when the server falls back to an arbitrary-precision decimal.
 */
function fastPath(parts: QuantityParts, suffix: Suffix): { value: bigint; scale: number } | undefined {
  const { num, denom } = parts;
  const precision =
    suffix.base === 10
      ? 18 - (num.length + denom.length)
      : denom === ""
        ? 15 - num.length - Math.trunc((suffix.exponent * 3) / 10) - 1
        : -1;
  const scale = (suffix.base === 10 ? suffix.exponent : 0) - denom.length;
  if (precision < 0 || scale < NANO) return undefined;
  const value = BigInt(num + denom) * (suffix.base === 2 ? 1n << BigInt(suffix.exponent) : 1n);
  return value > MAX_INT64 ? undefined : { value, scale };
}

/** CEL's isInteger(): Quantity.AsInt64 succeeds (an int64 held at a scale of 0 or more that fits). */
function heldAsInteger(str: string, fast: { value: bigint; scale: number } | undefined): boolean {
  if (str === "0") return true;
  if (!fast || fast.scale < 0) return false;
  // Past 10^18 only zero fits an int64 (and the power is not worth computing).
  if (fast.scale > 18) return fast.value === 0n;
  return fast.value * 10n ** BigInt(fast.scale) <= MAX_INT64;
}

function normalised(negative: boolean, digits: bigint, exponent: number, isInteger: boolean): ExactQuantity {
  if (digits === 0n) return { negative: false, digits, exponent: 0, isInteger };
  let d = digits;
  let e = exponent;
  while (d % 10n === 0n) {
    d /= 10n;
    e++;
  }
  return { negative, digits: d, exponent: e, isInteger };
}

/**
 * A quantity exactly as the API server parses it, or undefined when it refuses the string. Like
 * the server, every value is rounded away from zero to a whole nano (1e-9), and binary-suffixed
 * values are capped at the int64 maximum.
 */
export function parseExactQuantity(str: string): ExactQuantity | undefined {
  if (str === "") return undefined;
  const parts = quantityParts(str);
  const suffix = parts && interpretSuffix(parts.suffix);
  if (!parts || !suffix) return undefined;
  const fast = fastPath(parts, suffix);
  // Off the fast path the server parses the number as a decimal, which needs a digit ("." alone
  // is zero on the fast path, an error off it: ".Ki" is a quantity, ".Ei" is not).
  if (!fast && !/\d/.test(str.slice(0, str.length - parts.suffix.length))) return undefined;
  const isInteger = heldAsInteger(str, fast);
  let digits = BigInt(parts.num + parts.denom);
  let exponent = -parts.denom.length;
  if (suffix.base === 10) exponent += suffix.exponent;
  else digits *= 1n << BigInt(suffix.exponent);
  if (exponent < NANO) {
    // Round up to a whole nano; a shift longer than the digits leaves one nano of a non-zero value.
    const shift = NANO - exponent;
    const divisor = shift > String(digits).length ? undefined : 10n ** BigInt(shift);
    digits = divisor === undefined ? (digits === 0n ? 0n : 1n) : (digits + divisor - 1n) / divisor;
    exponent = NANO;
  }
  if (suffix.base === 2 && digits > MAX_INT64 * 10n ** BigInt(-exponent)) {
    digits = MAX_INT64;
    exponent = 0;
  }
  return normalised(parts.negative, digits, exponent, isInteger);
}

/** The sign of a - b for two parsed quantities (-1, 0 or 1), exactly, whatever their exponents. */
export function compareExactQuantities(a: ExactQuantity, b: ExactQuantity): number {
  const sign = (q: ExactQuantity): number => (q.digits === 0n ? 0 : q.negative ? -1 : 1);
  if (sign(a) !== sign(b)) return Math.sign(sign(a) - sign(b));
  if (sign(a) === 0) return 0;
  // Same sign: compare magnitudes by order of magnitude first, then digit by digit.
  const order = (q: ExactQuantity): number => String(q.digits).length + q.exponent;
  let magnitude = Math.sign(order(a) - order(b));
  if (magnitude === 0) {
    const low = Math.min(a.exponent, b.exponent);
    const x = a.digits * 10n ** BigInt(a.exponent - low);
    const y = b.digits * 10n ** BigInt(b.exponent - low);
    magnitude = x === y ? 0 : x > y ? 1 : -1;
  }
  return sign(a) * magnitude;
}
