import fc from "fast-check";
import type { CaseFamily } from "./case-context.js";

/** One generated case: its family and input, reproducible from (seed, index, family set) alone. */
export interface GeneratedCase {
  index: number;
  family: CaseFamily<unknown>;
  input: unknown;
}

/** A 32-bit seed for case `index` of a run seeded `seed` (murmur3's finaliser over both). */
export function caseSeed(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, 0x9e3779b1)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

/**
 * Cases drawn by fast-check from the families (by weight). Each case is
 * sampled with its own seed, so any single case can be replayed without the
 * ones before it.
 */
export class CaseStream {
  private readonly arbitrary: fc.Arbitrary<{ family: CaseFamily<unknown>; input: unknown }>;

  constructor(
    readonly seed: number,
    families: readonly CaseFamily<unknown>[],
  ) {
    if (families.length === 0) throw new Error("no case families selected");
    this.arbitrary = fc.oneof(...families.map((f) => ({ weight: f.weight, arbitrary: f.arbitrary.map((input) => ({ family: f, input })) })));
  }

  at(index: number): GeneratedCase {
    const [drawn] = fc.sample(this.arbitrary, { seed: caseSeed(this.seed, index), numRuns: 1 });
    if (!drawn) throw new Error(`fast-check drew no case #${index}`);
    return { index, ...drawn };
  }
}

/** A case's input in one printable line: byte arrays as their length, long strings cut. */
export function describeInput(input: unknown, max = 300): string {
  const text = JSON.stringify(input, (_k, v: unknown) => {
    if (v instanceof Uint8Array) return `<${v.length} bytes>`;
    if (v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data))
      return `<${(v as { data: unknown[] }).data.length} bytes>`;
    if (typeof v === "string" && v.length > 60) return `${v.slice(0, 40)}…(${v.length} chars)`;
    if (typeof v === "bigint") return String(v);
    return v;
  });
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
