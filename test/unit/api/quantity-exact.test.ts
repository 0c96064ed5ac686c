/**
 * parseExactQuantity and compareExactQuantities (src/api/quantity.ts) against the API server's own
 * reading. The tables below are the output of k8s.io/apimachinery v0.37.2's resource.ParseQuantity,
 * Quantity.AsInt64 (what CEL's isInteger() calls) and Quantity.Cmp (CEL's compareTo), run on each
 * string: the quantities the CRD's CEL rules see.
 */
import { expect } from "chai";
import fc from "fast-check";
import { compareExactQuantities, parseExactQuantity, type ExactQuantity } from "../../../src/api/quantity.js";

/** Strings ParseQuantity refuses. */
const INVALID = [
  "1K",
  "lots",
  "",
  "1 Gi",
  "0x10",
  "1e",
  ".Ei",
  "1Mi3",
  "1m3",
  "1.5.5",
  "1ki",
  "1e3m",
  "1e9223372036854775808",
];
/** Strings it parses, and AsInt64 succeeds on. */
const INTEGER = [
  "0",
  "1",
  "-1",
  "1e3",
  "1E3",
  "1E",
  "1Ki",
  "1k",
  "+1",
  "1.",
  "-0",
  "00",
  "16Gi",
  "2",
  "1e18",
  "1Ti",
  ".",
  "-",
  "+",
  "+.",
  ".Ki",
  "1e+3",
  "0e9",
  "100000000000000000",
  "123456789012345678",
  "1.G",
  "2Gi",
  "2147483648",
  "4",
];
/** Strings it parses, and AsInt64 fails on (fractions, negative scales, the decimal fallback). */
const NOT_INTEGER = [
  "0.5",
  "1.5",
  "500m",
  "1000m",
  "2454m",
  "1e-3",
  "1Ei",
  ".5",
  "0.0",
  "0.000",
  "1m",
  "100n",
  "1.0000000000000001",
  "1.000000001",
  "9223372036854775807",
  "9223372036854775808",
  "1e100",
  "1e19",
  "999Ti",
  "1Pi",
  "8Ei",
  "9Ei",
  "5.Ei",
  "0.Ei",
  "1.5Gi",
  "1e-10",
  "-1e-10",
  "1n",
  "0.1n",
  "1u",
  "10e-1",
  "1000000000000000000",
  "1234567890123456789",
  "1e-1000",
  "1e1000",
  "-1e-1000",
  "0.1e-8",
  "-1.5Gi",
  "-9Ei",
  "3.999999999999999999999",
];
/** Every parsed string in ascending order by Quantity.Cmp, equal values grouped. */
const ASCENDING: string[][] = [
  ["-9Ei"],
  ["-1.5Gi"],
  ["-1"],
  ["-1e-10", "-1e-1000"],
  ["0", "-0", "0.0", "0.000", "00", ".", "-", "+", "+.", ".Ki", "0.Ei", "0e9"],
  ["1e-10", "1n", "0.1n", "1e-1000", "0.1e-8"],
  ["100n"],
  ["1u"],
  ["1e-3", "1m"],
  ["0.5", "500m", ".5"],
  ["1", "1000m", "+1", "1.", "10e-1"],
  ["1.0000000000000001", "1.000000001"],
  ["1.5"],
  ["2"],
  ["2454m"],
  ["3.999999999999999999999", "4"],
  ["1e3", "1E3", "1k", "1e+3"],
  ["1Ki"],
  ["1.G"],
  ["1.5Gi"],
  ["2Gi", "2147483648"],
  ["16Gi"],
  ["1Ti"],
  ["999Ti"],
  ["1Pi"],
  ["100000000000000000"],
  ["123456789012345678"],
  ["1E", "1e18", "1000000000000000000"],
  ["1Ei"],
  ["1234567890123456789"],
  ["5.Ei"],
  ["9223372036854775807", "8Ei", "9Ei"],
  ["9223372036854775808"],
  ["1e19"],
  ["1e100"],
  ["1e1000"],
];

function parsed(s: string): ExactQuantity {
  const q = parseExactQuantity(s);
  if (!q) throw new Error(`${JSON.stringify(s)} did not parse`);
  return q;
}

describe("parseExactQuantity: quantities as the API server reads them", () => {
  it("refuses what ParseQuantity refuses", () => {
    for (const s of INVALID) expect(parseExactQuantity(s), JSON.stringify(s)).to.be.undefined;
  });

  it("parses what ParseQuantity parses, with CEL's isInteger() answer", () => {
    for (const s of INTEGER) expect(parsed(s).isInteger, s).to.be.true;
    for (const s of NOT_INTEGER) expect(parsed(s).isInteger, s).to.be.false;
  });

  it("orders and equates quantities as Quantity.Cmp does (nano rounding and the binary cap included)", () => {
    const all = ASCENDING.flat();
    for (const [i, a] of all.entries())
      for (const [j, b] of all.entries()) {
        const groupA = ASCENDING.findIndex((g) => g.includes(a));
        const groupB = ASCENDING.findIndex((g) => g.includes(b));
        expect(compareExactQuantities(parsed(a), parsed(b)), `${a} vs ${b} (${i}, ${j})`).to.equal(
          Math.sign(groupA - groupB),
        );
      }
  });

  it("never hangs on an exponent far beyond any real quantity", () => {
    const huge = parsed("1e2000000000");
    const tiny = parsed("1e-2000000000");
    expect(compareExactQuantities(huge, parsed("1e1000"))).to.equal(1);
    expect(compareExactQuantities(tiny, parsed("1n"))).to.equal(0);
  });

  it("compares whole numbers of milli-units as their integers do", () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e6, max: 1e6 }), fc.integer({ min: -1e6, max: 1e6 }), (a, b) => {
        expect(compareExactQuantities(parsed(`${a}m`), parsed(`${b}m`))).to.equal(Math.sign(a - b));
        expect(compareExactQuantities(parsed(`${a}m`), parsed(String(b / 1000)))).to.equal(Math.sign(a - b));
      }),
    );
  });
});
