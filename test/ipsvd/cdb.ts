// SPDX-License-Identifier: MIT
// The cdb reader against files written by ipsvd's own ipsvd-cdb, against a
// hand-built database with colliding slots, and against broken files.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bufferReader, cdbFind, cdbHash, CdbFormatError } from '../../src/ipsvd/cdb.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';

/** A minimal cdbmake for tests: records, then tables of 2 x count slots, header last. */
function makeCdb(pairs: [string, string][]): Buffer {
  const recs: Buffer[] = [];
  const entries: { h: number; pos: number }[][] = Array.from({ length: 256 }, () => []);
  let pos = 2048;
  for (const [k, v] of pairs) {
    const kb = Buffer.from(k);
    const vb = Buffer.from(v);
    const head = Buffer.alloc(8);
    head.writeUInt32LE(kb.length, 0);
    head.writeUInt32LE(vb.length, 4);
    const h = cdbHash(kb);
    entries[h & 255]!.push({ h, pos });
    recs.push(head, kb, vb);
    pos += 8 + kb.length + vb.length;
  }
  const header = Buffer.alloc(2048);
  const tables: Buffer[] = [];
  for (let i = 0; i < 256; i++) {
    const es = entries[i]!;
    const len = es.length * 2;
    header.writeUInt32LE(pos, i * 8);
    header.writeUInt32LE(len, i * 8 + 4);
    const tb = Buffer.alloc(len * 8);
    for (const e of es) {
      let slot = (e.h >>> 8) % len;
      while (tb.readUInt32LE(slot * 8 + 4) !== 0) slot = (slot + 1) % len;
      tb.writeUInt32LE(e.h, slot * 8);
      tb.writeUInt32LE(e.pos, slot * 8 + 4);
    }
    tables.push(tb);
    pos += tb.length;
  }
  return Buffer.concat([header, ...recs, ...tables]);
}

t.test('cdb hash is djb\'s', async (t) => {
  t.equal(cdbHash(Buffer.from('')), 5381);
  t.equal(cdbHash(Buffer.from('a')), ((5381 * 33) ^ 97) >>> 0);
  // A long key wraps modulo 2^32.
  let h = 5381;
  for (const c of Buffer.from('127.0.0.1-a-rather-long-key-to-overflow')) h = (Math.imul(h, 33) >>> 0 ^ c) >>> 0;
  t.equal(cdbHash(Buffer.from('127.0.0.1-a-rather-long-key-to-overflow')), h);
});

t.test('hand-built cdb: hits, misses, many keys per table', async (t) => {
  const pairs: [string, string][] = Array.from({ length: 2000 }, (_, i) => [`key${i}`, `value${i}`]);
  const read = bufferReader(makeCdb(pairs));
  for (const [k, v] of pairs) if (cdbFind(read, Buffer.from(k))?.toString() !== v) t.fail(`lookup ${k}`);
  t.equal(cdbFind(read, Buffer.from('key2000')), undefined, 'absent key');
  t.equal(cdbFind(read, Buffer.from('')), undefined, 'empty key absent');
  t.equal(cdbFind(bufferReader(makeCdb([])), Buffer.from('key1')), undefined, 'empty database');
});

t.test('truncated cdb is an error, not a miss', async (t) => {
  const db = makeCdb([['127.0.0.1', 'D']]);
  t.throws(() => cdbFind(bufferReader(db.subarray(0, 100)), Buffer.from('127.0.0.1')), CdbFormatError);
  // Header intact, records and tables cut off: the header points past the end.
  t.throws(() => cdbFind(bufferReader(db.subarray(0, 2048 + 4)), Buffer.from('127.0.0.1')), CdbFormatError);
});

t.test('reads what the real ipsvd-cdb writes', peerOpts('ipsvd-cdb'), async (t) => {
  const dir = t.testdir();
  const inst = join(dir, 'inst');
  mkdirSync(inst);
  writeFileSync(join(inst, '127.0.0'), '+FOO=fromfile\n+BAR=\n# comment\n');
  writeFileSync(join(inst, '127.0.0.2'), 'echo exec\n');
  chmodSync(join(inst, '127.0.0.2'), 0o755);
  writeFileSync(join(inst, '127.0.0.3'), '');
  chmodSync(join(inst, '127.0.0.3'), 0o000);
  const cdb = join(dir, 'x.cdb');
  execFileSync(peerPaths('ipsvd-cdb')['ipsvd-cdb'], [cdb, `${cdb}.tmp`, inst]);
  const read = bufferReader(readFileSync(cdb));
  t.equal(cdbFind(read, Buffer.from('127.0.0'))?.toString(), '+FOO=fromfile\0+BAR=\0# commentI');
  t.equal(cdbFind(read, Buffer.from('127.0.0.2'))?.toString(), 'echo execX');
  t.equal(cdbFind(read, Buffer.from('127.0.0.3'))?.toString(), 'D');
  t.equal(cdbFind(read, Buffer.from('127.0.0.1')), undefined);
});
