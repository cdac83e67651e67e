// SPDX-License-Identifier: MIT
// XXH3-128 with a seed, for inputs longer than 240 bytes (the "long" path of xxHash's
// XXH3_128bits_withSeed), as a WebAssembly function that hashes the matcher's window
// in place. The sender's strong sum of every matched block is this hash when xxh128 is
// negotiated (checksum.c: get_checksum2, CSUM_XXH3_128), and through hash-wasm's
// streaming interface each 8 KiB block cost an init, a copy into its memory, a final
// and two small arrays: about as much again as the hashing. Shorter blocks (the last
// one of a file) still go to hash-wasm.
//
// The algorithm, from xxHash's specification: the seed turns the 192-byte default
// secret into a custom one (each 16-byte pair: low word + seed, high word - seed);
// eight 64-bit accumulators take 64-byte stripes (acc[i ^ 1] += data[i];
// acc[i] += lo32(data[i] ^ key[i]) * hi32(data[i] ^ key[i]), the key moving 8 bytes
// per stripe), 16 stripes make a block after which the accumulators are scrambled
// (acc ^= acc >> 47; acc ^= key; acc *= PRIME32_1); the stripes of the last partial
// block, then the last 64 bytes of the input as a stripe with the key at secret +
// 121; the low half merges the accumulators with the secret at 11 and start
// len * PRIME64_1, the high half with the secret at 117 and start ~(len * PRIME64_2);
// a merge adds mul128_fold64 of accumulator pairs xor'ed with the secret and ends with
// the avalanche (h ^= h >> 37; h *= 0x165667919E3779F9; h ^= h >> 32).
import { get, set, sleb32, sleb64, uleb } from './wasm-encode.js';

/** xxHash's default secret (kSecret), a constant of the algorithm. */
const K_SECRET =
  'b8fe6c3923a44bbe7c01812cf721ad1cded46de9839097db7240a4a4b7b3671f' +
  'cb79e64eccc0e578825ad07dccff7221b8084674f743248ee03590e6813a264c' +
  '3c2852bb91c300cb88d0658b1b532ea371644897a20df94e3819ef46a9deacd8' +
  'a8fa763fe39c343ff9dcbbc7c70b4f1d8a51e04bcdb45931c89f7ec9d9787364' +
  'eac5ac8334d3ebc3c581a0fffa1363eb170ddd51b7f0da49d316552629d4689e' +
  '2b16be587d47a1fc8ff8b8d17ad031ce45cb3a8f95160428afd7fbcabb4b407e';

const M64 = (1n << 64n) - 1n;
const PRIME32_1 = 0x9e3779b1n;
const PRIME32_2 = 0x85ebca77n;
const PRIME32_3 = 0xc2b2ae3dn;
const PRIME64_1 = 0x9e3779b185ebca87n;
const PRIME64_2 = 0xc2b2ae3d27d4eb4fn;
const PRIME64_3 = 0x165667b19e3779f9n;
const PRIME64_4 = 0x85ebca77c2b2ae63n;
const PRIME64_5 = 0x27d4eb2f165667c5n;
const PRIME_MX1 = 0x165667919e3779f9n;

/** The inputs this function takes: longer ones only (shorter ones have other paths). */
export const XXH3_MIN_LONG = 241;
/** Bytes of the custom secret. */
export const SECRET_SIZE = 192;

/** XXH3_initCustomSecret: the default secret adjusted by a 64-bit seed (a signed int widened). */
export function customSecret(seed: bigint): Uint8Array {
  const k = Buffer.from(K_SECRET, 'hex');
  const out = Buffer.alloc(SECRET_SIZE);
  const s = BigInt.asUintN(64, seed);
  for (let i = 0; i < SECRET_SIZE; i += 16) {
    out.writeBigUInt64LE((k.readBigUInt64LE(i) + s) & M64, i);
    out.writeBigUInt64LE((k.readBigUInt64LE(i + 8) - s) & M64, i + 8);
  }
  return out;
}

/**
 * The function body of `xxh(p, len)`: hashes memory[p, p + len) (len > 240) with the
 * custom secret at `secret` and stores the low and high halves, little-endian, at
 * `out` and `out + 8` (the order rsync sends the digest in). Locals follow the params.
 */
export function xxh3Body(secret: number, out: number): number[] {
  // locals: 0 p, 1 len (params); i32: 2 end, 3 blockEnd, 4 k, 5 n, 6 q;
  // i64: 7..14 acc0..7, 15 dv, 16 dk, 17 a, 18 b, 19 res, 20 ll, 21 hl, 22 lh, 23 cross
  const P = 0, LEN = 1, END = 2, BLOCKEND = 3, K = 4, N = 5, Q = 6, ACC = 7, DV = 15, DK = 16, A = 17, B = 18, RES = 19;
  const LL = 20, HL = 21, LH = 22, CROSS = 23;
  const tee = (i: number): number[] => [0x22, i];
  const i64c = (v: bigint): number[] => [0x42, ...sleb64(v)];
  const i32c = (v: number): number[] => [0x41, ...sleb32(v)];
  const load64 = (off: number): number[] => [0x29, 0x03, ...uleb(off)];
  const store64 = (off: number): number[] => [0x37, 0x03, ...uleb(off)];
  const [add, mul, and, or, xor, shru, shl] = [[0x7c], [0x7e], [0x83], [0x84], [0x85], [0x88], [0x86]];
  const i32add = [0x6a];
  const lo32 = [...i64c(0xffffffffn), ...and];
  const hi32 = [...i64c(32n), ...shru];

  /** XXH3_accumulate_512 on the stripe at local `ptr` with the key at local K. */
  const stripe = (ptr: number): number[] => {
    const c: number[] = [];
    for (let i = 0; i < 8; i++) {
      c.push(...get(ptr), ...load64(8 * i), ...tee(DV));
      c.push(...get(ACC + (i ^ 1)), ...add, ...set(ACC + (i ^ 1)));
      c.push(...get(DV), ...get(K), ...load64(8 * i), ...xor, ...tee(DK));
      c.push(...lo32, ...get(DK), ...hi32, ...mul, ...get(ACC + i), ...add, ...set(ACC + i));
    }
    return c;
  };
  /** N stripes from local P on, the key from `secret` on, 8 bytes a stripe; P advances. */
  const stripes = (): number[] => [
    ...i32c(secret), ...set(K),
    0x02, 0x40, 0x03, 0x40,
    ...get(N), 0x45, 0x0d, 0x01, // br_if out when n == 0
    ...stripe(P),
    ...get(P), ...i32c(64), ...i32add, ...set(P),
    ...get(K), ...i32c(8), ...i32add, ...set(K),
    ...get(N), ...i32c(1), 0x6b, ...set(N),
    0x0c, 0x00, 0x0b, 0x0b,
  ];
  const scramble = (): number[] => {
    const c: number[] = [];
    for (let i = 0; i < 8; i++) {
      c.push(...get(ACC + i), ...get(ACC + i), ...i64c(47n), ...shru, ...xor);
      c.push(...i32c(0), ...load64(secret + SECRET_SIZE - 64 + 8 * i), ...xor);
      c.push(...i64c(PRIME32_1), ...mul, ...set(ACC + i));
    }
    return c;
  };
  /** mul128_fold64(A, B) on the stack (XXH_mult64to128 in 32-bit halves, then lower ^ upper). */
  const fold = (): number[] => [
    ...get(A), ...lo32, ...get(B), ...lo32, ...mul, ...set(LL),
    ...get(A), ...hi32, ...get(B), ...lo32, ...mul, ...set(HL),
    ...get(A), ...lo32, ...get(B), ...hi32, ...mul, ...set(LH),
    ...get(LL), ...hi32, ...get(HL), ...lo32, ...add, ...get(LH), ...add, ...set(CROSS),
    // lower = (cross << 32) | lo32(ll)
    ...get(CROSS), ...i64c(32n), ...shl, ...get(LL), ...lo32, ...or,
    // upper = hi32(hl) + hi32(cross) + hi * hi
    ...get(HL), ...hi32, ...get(CROSS), ...hi32, ...add,
    ...get(A), ...hi32, ...get(B), ...hi32, ...mul, ...add,
    ...xor,
  ];
  /** XXH3_mergeAccs with the secret at `at` and the start value on the stack; leaves the hash. */
  const merge = (at: number): number[] => {
    const c: number[] = [...set(RES)];
    for (let i = 0; i < 4; i++) {
      c.push(...get(ACC + 2 * i), ...i32c(0), ...load64(at + 16 * i), ...xor, ...set(A));
      c.push(...get(ACC + 2 * i + 1), ...i32c(0), ...load64(at + 16 * i + 8), ...xor, ...set(B));
      c.push(...get(RES), ...fold(), ...add, ...set(RES));
    }
    // XXH3_avalanche
    c.push(...get(RES), ...get(RES), ...i64c(37n), ...shru, ...xor, ...tee(RES));
    c.push(...i64c(PRIME_MX1), ...mul, ...tee(RES), ...get(RES), ...i64c(32n), ...shru, ...xor);
    return c;
  };
  const init = [PRIME32_3, PRIME64_1, PRIME64_2, PRIME64_3, PRIME64_4, PRIME32_2, PRIME64_5, PRIME32_1];
  const code: number[] = [];
  init.forEach((v, i) => code.push(...i64c(v), ...set(ACC + i)));
  code.push(...get(P), ...get(LEN), ...i32add, ...set(END));
  // blockEnd = p + ((len - 1) & -1024): the full blocks of 16 stripes
  code.push(...get(P), ...get(LEN), ...i32c(1), 0x6b, ...i32c(-1024), 0x71, ...i32add, ...set(BLOCKEND));
  code.push(
    0x02, 0x40, 0x03, 0x40,
    ...get(P), ...get(BLOCKEND), 0x4f, 0x0d, 0x01, // br_if out when p >= blockEnd
    ...i32c(16), ...set(N), ...stripes(), ...scramble(),
    0x0c, 0x00, 0x0b, 0x0b,
  );
  // The last partial block: ((end - 1) - p) / 64 stripes.
  code.push(...get(END), ...i32c(1), 0x6b, ...get(P), 0x6b, ...i32c(6), 0x76, ...set(N), ...stripes());
  // The last stripe: the input's last 64 bytes, the key at secret + 192 - 64 - 7.
  code.push(...get(END), ...i32c(64), 0x6b, ...set(Q), ...i32c(secret + SECRET_SIZE - 64 - 7), ...set(K), ...stripe(Q));
  // low = merge(secret + 11, len * PRIME64_1); high = merge(secret + 117, ~(len * PRIME64_2))
  code.push(...i32c(out));
  code.push(...get(LEN), 0xad, ...i64c(PRIME64_1), ...mul, ...merge(secret + 11));
  code.push(...store64(0));
  code.push(...i32c(out));
  code.push(...get(LEN), 0xad, ...i64c(PRIME64_2), ...mul, ...i64c(-1n), ...xor, ...merge(secret + SECRET_SIZE - 64 - 11));
  code.push(...store64(8));
  code.push(0x0b);
  // locals: 5 x i32, 17 x i64
  return [0x02, 0x05, 0x7f, 0x11, 0x7e, ...code];
}
