// SPDX-License-Identifier: MIT
// TAI64 / TAI64N labels as djb's tools write them: 2^62 + 10 + unix seconds, then
// nanoseconds. runit's clock sets nanoseconds to microseconds*1000 + 500; we do the
// same so our labels are indistinguishable from runit's (runit-compat.md §0.3).
export const TAI64_BASE = 0x400000000000000an;

export interface Tai64n { sec: bigint; nsec: number }

/** A wall-clock time in milliseconds (fractional) at runit's resolution: whole microseconds plus 500 ns. */
export function tai64nFromMs(ms: number): Tai64n {
  const us = Math.floor(ms * 1000);
  const sec = Math.floor(us / 1e6);
  return { sec: BigInt(sec), nsec: (us - sec * 1e6) * 1000 + 500 };
}

/** Now, with microseconds (performance.timeOrigin + now() is the wall clock at µs precision). */
export function tai64nNow(): Tai64n {
  return tai64nFromMs(performance.timeOrigin + performance.now());
}

/** 12 bytes: TAI64 label then nanoseconds, both big-endian. */
export function packTai64n(t: Tai64n, into: Buffer = Buffer.alloc(12), at = 0): Buffer {
  into.writeBigUInt64BE(t.sec + TAI64_BASE, at);
  into.writeUInt32BE(t.nsec, at + 8);
  return into;
}

export function unpackTai64n(b: Buffer, at = 0): Tai64n {
  return { sec: b.readBigUInt64BE(at) - TAI64_BASE, nsec: b.readUInt32BE(at + 8) };
}

/** `@` and 24 lowercase hex digits (svlogd -t, rotated file names). */
export function formatTai64n(t: Tai64n): string {
  return `@${packTai64n(t).toString('hex')}`;
}
