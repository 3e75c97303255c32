// Hot loops on raw bytes. XOR works on 64-bit words where the buffers allow it
// (V8's optimising compiler keeps BigUint64Array XOR in registers: about 2x
// faster than Int32 words, 8x faster than bytes) and on bytes for heads and tails.
// Every index below is bounded by the loop against a length checked on entry,
// so element reads carry `!` rather than a per-byte branch.

/** Buffers shorter than this are handled byte by byte (word views cost more than they save). */
const WORD_MIN_BYTES = 64;
/** Words staged at a time when a source is not word-aligned relative to the destination. */
const SCRATCH_WORDS = 512;
const scratchWords = new BigUint64Array(SCRATCH_WORDS);
const scratchBytes = new Uint8Array(scratchWords.buffer);

/** `u8[start, end)` without Buffer's species lookup (several times faster); `u8` itself when whole. */
export function view(u8: Uint8Array, start: number, end: number): Uint8Array {
  return start === 0 && end === u8.length ? u8 : new Uint8Array(u8.buffer, u8.byteOffset + start, end - start);
}

/** `dst[i] ^= src[i]` for every i < dst.length (src must be at least as long). */
export function xorInto(dst: Uint8Array, src: Uint8Array): void {
  const n = dst.length;
  let i = 0;
  if (n >= WORD_MIN_BYTES) {
    const head = (8 - (dst.byteOffset & 7)) & 7;
    for (; i < head; i++) dst[i]! ^= src[i]!;
    const words = (n - head) >>> 3;
    const dw = new BigUint64Array(dst.buffer, dst.byteOffset + head, words);
    if (((src.byteOffset + head) & 7) === 0) {
      const sw = new BigUint64Array(src.buffer, src.byteOffset + head, words);
      for (let j = 0; j < words; j++) dw[j]! ^= sw[j]!;
    } else {
      // Misaligned source: stage it through an aligned scratch block (memcpy is cheap).
      for (let w = 0; w < words; w += SCRATCH_WORDS) {
        const m = Math.min(SCRATCH_WORDS, words - w);
        const from = head + w * 8;
        scratchBytes.set(view(src, from, from + m * 8));
        for (let j = 0; j < m; j++) dw[w + j]! ^= scratchWords[j]!;
      }
    }
    i = head + words * 8;
  }
  for (; i < n; i++) dst[i]! ^= src[i]!;
}

/** Index of the first non-zero byte of `bytes[0, n)`, or -1. `words` must view the same (aligned) memory. */
export function firstNonZero(words: Int32Array, bytes: Uint8Array, n: number): number {
  const w = n >>> 2;
  let j = 0;
  while (j < w && words[j] === 0) j++;
  for (let i = j << 2; i < n; i++) if (bytes[i] !== 0) return i;
  return -1;
}

/** Block size for locating a difference once memcmp has said there is one. */
const DIFF_BLOCK = 4096;

/** Index of the first i in [start, end) where a[i] !== b[i], or -1. */
export function firstDifference(a: Uint8Array, b: Uint8Array, start: number, end: number): number {
  if (Buffer.compare(view(a, start, end), view(b, start, end)) === 0) return -1;
  for (let s = start; s < end; s += DIFF_BLOCK) {
    const t = Math.min(end, s + DIFF_BLOCK);
    if (Buffer.compare(view(a, s, t), view(b, s, t)) === 0) continue;
    for (let i = s; i < t; i++) if (a[i] !== b[i]) return i;
  }
  return -1;
}
