// SPDX-License-Identifier: MIT
// The few pieces of the WebAssembly binary format our hand-assembled modules need
// (rollsum.ts: the block sum; xxh3.ts: XXH3-128): LEB128 numbers, local get/set and
// sections. One place, so both modules encode alike.

/** Unsigned LEB128 (sizes, indexes, memory offsets). */
export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}

/** Signed LEB128 of a 64-bit value (i64.const). */
export function sleb64(v: bigint): number[] {
  v = BigInt.asIntN(64, v);
  const out: number[] = [];
  for (;;) {
    const b = Number(v & 0x7fn);
    v >>= 7n;
    if ((v === 0n && !(b & 0x40)) || (v === -1n && b & 0x40)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

/** Signed LEB128 of a 32-bit value (i32.const). */
export function sleb32(v: number): number[] {
  return sleb64(BigInt(v));
}

/** local.get i */
export const get = (i: number): number[] => [0x20, i];
/** local.set i */
export const set = (i: number): number[] => [0x21, i];

/** A section: id, then its size and bytes. */
export function section(id: number, bytes: number[]): number[] {
  return [id, ...uleb(bytes.length), ...bytes];
}
