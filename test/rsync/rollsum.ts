// The SIMD block sum (rollsum.ts) agrees with the plain get_checksum1 loop on random
// bytes, every short length (the scalar tail) and long ranges at any alignment, and
// the window is a usable read buffer of the asked size.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { rollingParts, sumWindow } from '../../src/rsync/rollsum.js';

t.test('SIMD sum equals the plain loop', async (t) => {
  const w = sumWindow(300_000);
  t.ok(w.buf.length >= 300_000, 'window at least as large as asked');
  w.buf.set(randomBytes(300_000));
  const a = new Int32Array(2);
  const b = new Int32Array(2);
  let bad = 0;
  let runs = 0;
  for (let start = 0; start < 40; start++) {
    for (let len = 0; len <= 70; len++) {
      w.parts(start, start + len, a);
      rollingParts(w.i8, start, start + len, b);
      runs++;
      if (a[0] !== b[0] || a[1] !== b[1]) bad++;
    }
  }
  for (let i = 0; i < 300; i++) {
    const start = Math.floor(Math.random() * 150_000);
    const len = Math.floor(Math.random() * 140_000);
    w.parts(start, start + len, a);
    rollingParts(w.i8, start, start + len, b);
    runs++;
    if (a[0] !== b[0] || a[1] !== b[1]) bad++;
  }
  t.equal(bad, 0, `${runs} ranges agree`);
});

t.test('all 0x80 and all 0x7f bytes (sign extension, lane overflow)', async (t) => {
  for (const v of [0x80, 0x7f, 0xff]) {
    const w = sumWindow(200_000);
    w.buf.fill(v, 0, 200_000);
    const a = new Int32Array(2);
    const b = new Int32Array(2);
    w.parts(3, 199_999, a);
    rollingParts(w.i8, 3, 199_999, b);
    t.same([...a], [...b], `byte ${v}`);
  }
});

t.test('the plain fallback window', async (t) => {
  const w = sumWindow(1000, false);
  t.equal(w.buf.length, 1000);
  w.buf.set(randomBytes(1000));
  const a = new Int32Array(2);
  const b = new Int32Array(2);
  w.parts(5, 999, a);
  rollingParts(new Int8Array(w.buf.buffer, w.buf.byteOffset, 1000), 5, 999, b);
  t.same([...a], [...b]);
});

t.test('in-place XXH3-128 equals hash-wasm (as rsync sends it) for every seed and long length', async (t) => {
  const { createXXHash128 } = await import('hash-wasm');
  const { XXH3_MIN_LONG } = await import('../../src/rsync/rollsum.js');
  const w = sumWindow(1 << 20);
  t.ok(w.xxh128, 'WebAssembly SIMD is available here');
  w.buf.set(randomBytes(1 << 20));
  const lengths = [XXH3_MIN_LONG, 242, 255, 256, 257, 1023, 1024, 1025, 1087, 1088, 1089, 2048, 2049, 8192, 8193, 131_072];
  for (let i = 0; i < 12; i++) lengths.push(XXH3_MIN_LONG + Math.floor(Math.random() * 300_000));
  let bad = 0;
  let runs = 0;
  for (const seed of [0, 1, 12345, -1, -987_654_321, 0x7fffffff, -0x80000000]) {
    const h = await createXXHash128(seed >>> 0, seed < 0 ? 0xffffffff : 0);
    for (const len of lengths) {
      const start = Math.floor(Math.random() * 4000);
      h.init();
      h.update(w.buf.subarray(start, start + len));
      const want = Buffer.from(h.digest('binary')).reverse();
      const got = Buffer.from(w.xxh128!(start, start + len, seed));
      runs++;
      if (!got.equals(want)) bad++;
    }
  }
  t.equal(bad, 0, `${runs} digests agree`);
  t.throws(() => w.xxh128!(0, XXH3_MIN_LONG - 1, 0), RangeError, 'short inputs are refused');
});
