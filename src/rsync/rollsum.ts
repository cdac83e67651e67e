// SPDX-License-Identifier: MIT
// The block sum of rsync's rolling checksum (checksum.c: get_checksum1, bytes taken
// as signed chars, CHAR_OFFSET 0) over the matcher's read window, computed by a tiny
// WebAssembly SIMD routine. rsync does the same with SSE2/AVX2 (simd-checksum-x86_64.cpp,
// "SIMD-roll" in `rsync --version`): after every matched block the sender sums the
// next whole block, so on a mostly unchanged file this sum runs over every byte and
// was the sender's hot spot (a plain JavaScript loop costs about 3 ns a byte here; the
// SIMD routine about a tenth of that). The window lives in the WebAssembly memory, so
// the file is read straight into it and never copied. Where WebAssembly SIMD is not
// available the plain loop (rollingParts) serves. The same module hashes blocks of the
// window with XXH3-128 (xxh3.ts).
//
// The routine, 16 bytes per step, for a block b[0..n): s1 = sum b[i] and
// s2 = sum (n - i) * b[i] (mod 2^32). Per 16-byte vector with lane sums S (of all
// earlier vectors), P += S before S += this vector's byte sums, and W += the bytes
// weighted 16..1; then s2 = 16 * sum(P) + sum(W), and the last n % 16 bytes go one by
// one (s1 += b; s2 += s1). Hand-assembled below, as WAT:
//   (func (export "sum") (param $p i32) (param $n i32) ...
//     end16 = p + (n & -16); e = p + n
//     loop while p < end16: v = v128.load p; L = i16x8.extend_low_i8x16_s v;
//       H = i16x8.extend_high_i8x16_s v; P = P + S; S = S + dot(L, 1) + dot(H, 1);
//       W = W + dot(L, [16..9]) + dot(H, [8..1]); p += 16
//     s1 = lanes(S); s2 = lanes(P) << 4 + lanes(W)
//     loop while p < e: s1 += i32.load8_s p; s2 += s1; p++
//     i32.store 0 s1; i32.store 4 s2)

import { customSecret, xxh3Body, XXH3_MIN_LONG } from './xxh3.js';
import { get, section, set, uleb } from './wasm-encode.js';

// The WebAssembly memory: the block sum's results at 0 and 4, the xxh128 digest at
// 16..32, the xxh128 custom secret at 64..256, then the window.
const XXH_OUT = 16;
const SECRET = 64;
const BASE = 256;
const PAGE = 65536;

/** The matcher's read window and the block sum over a range of it. */
export interface SumWindow {
  /** The window (a view of WebAssembly memory, or a plain array). */
  readonly buf: Uint8Array;
  /** The same bytes as signed chars. */
  readonly i8: Int8Array;
  /** get_checksum1 over buf[start, end): the full s1 and s2 in out[0], out[1]. */
  parts(start: number, end: number, out: Int32Array): void;
  /**
   * XXH3-128 of buf[start, end) with an int32 seed, as rsync sends it (low half then
   * high half, little-endian), for end - start >= XXH3_MIN_LONG; the digest is valid
   * until the next call. Absent without WebAssembly SIMD.
   */
  xxh128?(start: number, end: number, seed: number): Uint8Array;
}

export { XXH3_MIN_LONG };

/** checksum.c: get_checksum1 over i8[start, end), the plain loop: leaves s1, s2 in out[0], out[1]. */
export function rollingParts(i8: Int8Array, start: number, end: number, out: Int32Array): void {
  let s1 = 0;
  let s2 = 0;
  for (let i = start; i < end; i++) {
    s1 = (s1 + i8[i]!) | 0;
    s2 = (s2 + s1) | 0;
  }
  out[0] = s1;
  out[1] = s2;
}

function i16x8(lanes: number[]): number[] {
  return lanes.flatMap((x) => [x & 0xff, (x >> 8) & 0xff]);
}

/** The module's bytes: functions "sum" and "xxh" on the memory imported as e.m. */
function moduleBytes(): Uint8Array {
  const SIMD = 0xfd;
  const vconst = (b: number[]): number[] => [SIMD, 0x0c, ...b];
  const add4 = [SIMD, 0xae, 0x01]; // i32x4.add
  const dot = [SIMD, 0xba, 0x01]; // i32x4.dot_i16x8_s
  const lane = (i: number): number[] => [SIMD, 0x1b, i]; // i32x4.extract_lane
  const ones = vconst(i16x8([1, 1, 1, 1, 1, 1, 1, 1]));
  const wlo = vconst(i16x8([16, 15, 14, 13, 12, 11, 10, 9]));
  const whi = vconst(i16x8([8, 7, 6, 5, 4, 3, 2, 1]));
  // locals: 0 p, 1 n (params); 2 end16, 3 e, 4 s1, 5 s2 (i32); 6 S, 7 P, 8 W, 9 v, 10 L, 11 H (v128)
  const hsum = (v: number): number[] => [...get(v), ...lane(0), ...get(v), ...lane(1), 0x6a, ...get(v), ...lane(2), 0x6a, ...get(v), ...lane(3), 0x6a];
  const code = [
    ...get(0), ...get(1), 0x41, 0x70, 0x71, 0x6a, ...set(2), // end16 = p + (n & -16)
    ...get(0), ...get(1), 0x6a, ...set(3), // e = p + n
    0x02, 0x40, 0x03, 0x40,
    ...get(0), ...get(2), 0x4f, 0x0d, 0x01, // br_if out when p >= end16
    ...get(0), SIMD, 0x00, 0x00, 0x00, 0x22, 9, // v = v128.load p (tee)
    SIMD, 0x87, 0x01, ...set(10), // L
    ...get(9), SIMD, 0x88, 0x01, ...set(11), // H
    ...get(7), ...get(6), ...add4, ...set(7), // P += S
    ...get(6), ...get(10), ...ones, ...dot, ...add4, ...get(11), ...ones, ...dot, ...add4, ...set(6),
    ...get(8), ...get(10), ...wlo, ...dot, ...add4, ...get(11), ...whi, ...dot, ...add4, ...set(8),
    ...get(0), 0x41, 0x10, 0x6a, ...set(0), // p += 16
    0x0c, 0x00, 0x0b, 0x0b,
    ...hsum(6), ...set(4),
    ...hsum(7), 0x41, 0x04, 0x74, ...hsum(8), 0x6a, ...set(5),
    0x02, 0x40, 0x03, 0x40,
    ...get(0), ...get(3), 0x4f, 0x0d, 0x01, // br_if out when p >= e
    ...get(4), ...get(0), 0x2c, 0x00, 0x00, 0x6a, 0x22, 4, // s1 += load8_s p (tee)
    ...get(5), 0x6a, ...set(5), // s2 += s1
    ...get(0), 0x41, 0x01, 0x6a, ...set(0),
    0x0c, 0x00, 0x0b, 0x0b,
    0x41, 0x00, ...get(4), 0x36, 0x02, 0x00,
    0x41, 0x04, ...get(5), 0x36, 0x02, 0x00,
    0x0b,
  ];
  const body = [0x02, 0x04, 0x7f, 0x06, 0x7b, ...code];
  const xxh = xxh3Body(SECRET, XXH_OUT);
  const name = (s: string): number[] => [s.length, ...Buffer.from(s, 'latin1')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [0x01, 0x60, 0x02, 0x7f, 0x7f, 0x00]),
    ...section(2, [0x01, ...name('e'), ...name('m'), 0x02, 0x00, 0x01]),
    ...section(3, [0x02, 0x00, 0x00]),
    ...section(7, [0x02, ...name('sum'), 0x00, 0x00, ...name('xxh'), 0x00, 0x01]),
    ...section(10, [0x02, ...uleb(body.length), ...body, ...uleb(xxh.length), ...xxh]),
  ]);
}

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface Wasm {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (desc: { initial: number }) => { buffer: ArrayBuffer };
}

/**
 * The compiled module, made once per process (compiling is the costly part; each window
 * instantiates it on a memory of its own). Compiled code, not per-connection state: a
 * connection process compiles it while it waits for its connection (prepareWindow).
 */
let compiled: object | null | undefined;

function compiledModule(wasm: Wasm): object | null {
  if (compiled === undefined) {
    const bytes = moduleBytes();
    compiled = wasm.validate(bytes) ? new wasm.Module(bytes) : null;
  }
  return compiled;
}

/** Compile the window's WebAssembly ahead of need (a pre-started connection process). */
export function prepareWindow(): void {
  const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
  if (wasm) compiledModule(wasm);
}

/** A window of at least `size` bytes, with the SIMD block sum when the runtime has it. */
export function sumWindow(size: number, simd = true): SumWindow {
  const wasm = (globalThis as { WebAssembly?: Wasm }).WebAssembly;
  if (simd && wasm) {
    const mod = compiledModule(wasm);
    if (mod) {
      const mem = new wasm.Memory({ initial: Math.ceil((BASE + Math.max(size, 1)) / PAGE) });
      const inst = new wasm.Instance(mod, { e: { m: mem } });
      const sum = inst.exports.sum as (p: number, n: number) => void;
      const xxh = inst.exports.xxh as (p: number, n: number) => void;
      const res = new Int32Array(mem.buffer, 0, 2);
      const digest = new Uint8Array(mem.buffer, XXH_OUT, 16);
      const secret = new Uint8Array(mem.buffer, SECRET, 192);
      let seeded: number | undefined;
      const len = mem.buffer.byteLength - BASE;
      return {
        xxh128(start, end, seed) {
          if (end - start < XXH3_MIN_LONG) throw new RangeError('xxh128: input too short for the long path');
          if (seed !== seeded) {
            secret.set(customSecret(BigInt(seed | 0)));
            seeded = seed;
          }
          xxh(BASE + start, end - start);
          return digest;
        },
        buf: new Uint8Array(mem.buffer, BASE, len),
        i8: new Int8Array(mem.buffer, BASE, len),
        parts(start, end, out) {
          sum(BASE + start, end - start);
          out[0] = res[0]!;
          out[1] = res[1]!;
        },
      };
    }
  }
  const buf = new Uint8Array(size);
  const i8 = new Int8Array(buf.buffer);
  return { buf, i8, parts: (start, end, out) => rollingParts(i8, start, end, out) };
}
