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
