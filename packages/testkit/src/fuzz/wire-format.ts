/**
 * A minimal protobuf wire writer for hostile encodings the schema cannot
 * express: counts far beyond a limit built in microseconds, wrong wire types,
 * lengths that run past the end, varints that never end.
 */
export const WireType = { VARINT: 0, I64: 1, LEN: 2, I32: 5 } as const;

export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v &= (1n << 64n) - 1n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

export function tag(field: number, wireType: number): Buffer {
  return varint((field << 3) | wireType);
}

/** A length-delimited field (bytes, string or sub-message). */
export function lenField(field: number, payload: Uint8Array): Buffer {
  return Buffer.concat([tag(field, WireType.LEN), varint(payload.length), payload]);
}

export function varintField(field: number, value: number | bigint): Buffer {
  return Buffer.concat([tag(field, WireType.VARINT), varint(value)]);
}

/** `count` copies of one encoded element, as one buffer (fast even for millions). */
export function repeated(element: Uint8Array, count: number): Buffer {
  const out = Buffer.allocUnsafe(element.length * count);
  if (count > 0) {
    out.set(element, 0);
    // Doubling copy: log2(count) memcpys.
    let filled = element.length;
    while (filled < out.length) {
      const n = Math.min(filled, out.length - filled);
      out.copyWithin(filled, 0, n);
      filled += n;
    }
  }
  return out;
}

/**
 * `count` map entries (or repeated sub-messages) `{1: key, 2: value}` with
 * distinct keys `k0, k1, ...`, each wrapped as field `field`: written into one
 * buffer, so a million of them cost milliseconds to build.
 */
export function distinctEntries(field: number, count: number, value = "v"): Buffer {
  // Big ones are built once per run: building a million entries holds this process's loop for seconds,
  // which would show up as stalls of the cases running beside it.
  const key = `${field}:${count}:${value}`;
  const cached = bigEntries.get(key);
  if (cached) return cached;
  const built = buildEntries(field, count, value);
  if (count >= 10_000) bigEntries.set(key, built);
  return built;
}

const bigEntries = new Map<string, Buffer>();

function buildEntries(field: number, count: number, value: string): Buffer {
  const parts: Buffer[] = [];
  let chunk: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    const key = Buffer.from(`k${i}`);
    const entry = Buffer.concat([lenField(1, key), lenField(2, Buffer.from(value))]);
    chunk.push(lenField(field, entry));
    if (chunk.length === 4096) {
      parts.push(Buffer.concat(chunk));
      chunk = [];
    }
  }
  parts.push(Buffer.concat(chunk));
  return Buffer.concat(parts);
}
