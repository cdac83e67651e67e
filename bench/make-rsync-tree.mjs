// SPDX-License-Identifier: MIT
// Makes the rsync pull benchmark tree: 1,000 files of up to 200 KB in 20 directories,
// plus one 64 MiB file (about 165 MB in all), from a fixed seed so every run measures
// the same bytes. `node bench/make-rsync-tree.mjs DIR` makes DIR/tree; `--changed`
// makes DIR/changed: the same tree with 1% of the big file and 10 small files changed.
import { mkdirSync, writeFileSync, cpSync, openSync, writeSync, closeSync, utimesSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** xorshift32: a small deterministic byte source. */
function bytes(seed, n) {
  const out = Buffer.allocUnsafe(n);
  const w = new Uint32Array(out.buffer, out.byteOffset, n >> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    w[i] = x;
  }
  for (let i = w.length * 4; i < n; i++) out[i] = i & 0xff;
  return out;
}

const T0 = new Date('2024-01-02T03:04:05Z');

export function makeTree(dir) {
  const root = join(dir, 'tree');
  if (existsSync(join(root, 'big.bin'))) return root;
  for (let i = 0; i < 1000; i++) {
    const d = join(root, `d${String(i % 20).padStart(2, '0')}`);
    mkdirSync(d, { recursive: true });
    const size = (i * 7919) % 200_001;
    const f = join(d, `f${String(i).padStart(4, '0')}.dat`);
    writeFileSync(f, bytes(i + 1, size));
    utimesSync(f, T0, T0);
  }
  const big = join(root, 'big.bin');
  const fd = openSync(big, 'w');
  for (let i = 0; i < 64; i++) writeSync(fd, bytes(100_000 + i, 1024 * 1024));
  closeSync(fd);
  utimesSync(big, T0, T0);
  return root;
}

/** A copy with 1% of the big file (10 runs of 67,108 bytes) and 10 small files changed. */
export function makeChanged(dir) {
  const root = makeTree(dir);
  const changed = join(dir, 'changed');
  if (existsSync(join(changed, 'big.bin'))) return changed;
  cpSync(root, changed, { recursive: true, preserveTimestamps: true });
  const T1 = new Date('2024-02-03T04:05:06Z');
  const fd = openSync(join(changed, 'big.bin'), 'r+');
  const run = Math.floor((64 * 1024 * 1024) / 100 / 10);
  for (let i = 0; i < 10; i++) writeSync(fd, bytes(777 + i, run), 0, run, i * 6 * 1024 * 1024 + 12345);
  closeSync(fd);
  utimesSync(join(changed, 'big.bin'), T1, T1);
  for (let i = 0; i < 10; i++) {
    const n = 100 + i * 80;
    const f = join(changed, `d${String(n % 20).padStart(2, '0')}`, `f${String(n).padStart(4, '0')}.dat`);
    const fd2 = openSync(f, 'r+');
    writeSync(fd2, bytes(999 + i, 100), 0, 100, 50);
    closeSync(fd2);
    utimesSync(f, T1, T1);
  }
  return changed;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node bench/make-rsync-tree.mjs DIR [--changed]');
    process.exit(1);
  }
  console.log(process.argv.includes('--changed') ? makeChanged(dir) : makeTree(dir));
}
