// SPDX-License-Identifier: MIT
// A reader for djb's constant database (cdb), the format ipsvd-cdb writes for
// `tcpsvd -x`. Layout (shared/docs/runit-compat.md §6.7): a 2048-byte header of
// 256 (pos, len) pairs, the records, then 256 open-addressing hash tables; all
// integers little-endian 32-bit. Lookups read only the slots and the record they
// need through a positional reader, so a large cdb is never loaded whole, and the
// same code serves a Buffer (tests) and a file descriptor (tcpsvd).
import { readSync } from 'node:fs';

/** Reads exactly len bytes at pos, or fewer at the end of the data. */
export type PositionalRead = (pos: number, len: number) => Buffer;

export class CdbFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CdbFormatError';
  }
}

/** cdb_hash: h = 5381; h = ((h << 5) + h) ^ c, modulo 2^32. */
export function cdbHash(key: Uint8Array): number {
  let h = 5381;
  for (const c of key) h = ((((h << 5) >>> 0) + h) >>> 0 ^ c) >>> 0;
  return h;
}

export function bufferReader(buf: Buffer): PositionalRead {
  return (pos, len) => buf.subarray(pos, Math.min(buf.length, pos + len));
}

export function fdReader(fd: number): PositionalRead {
  return (pos, len) => {
    const b = Buffer.alloc(len);
    let got = 0;
    while (got < len) {
      const n = readSync(fd, b, got, len - got, pos + got);
      if (n === 0) break;
      got += n;
    }
    return b.subarray(0, got);
  };
}

function exact(read: PositionalRead, pos: number, len: number): Buffer {
  const b = read(pos, len);
  if (b.length !== len) throw new CdbFormatError(`truncated at ${pos}`);
  return b;
}

/** The data of the first record with this key, or undefined (cdb_find + cdb_read). */
export function cdbFind(read: PositionalRead, key: Uint8Array): Buffer | undefined {
  const h = cdbHash(key);
  const head = exact(read, (h & 255) * 8, 8);
  const tpos = head.readUInt32LE(0);
  const tlen = head.readUInt32LE(4);
  if (tlen === 0) return undefined;
  let slot = (h >>> 8) % tlen;
  for (let probes = 0; probes < tlen; probes++) {
    const s = exact(read, tpos + slot * 8, 8);
    const sh = s.readUInt32LE(0);
    const rpos = s.readUInt32LE(4);
    if (rpos === 0) return undefined;
    if (sh === h) {
      const rh = exact(read, rpos, 8);
      const klen = rh.readUInt32LE(0);
      const dlen = rh.readUInt32LE(4);
      if (klen === key.length && Buffer.compare(exact(read, rpos + 8, klen), key) === 0) {
        return Buffer.from(exact(read, rpos + 8 + klen, dlen));
      }
    }
    slot = (slot + 1) % tlen;
  }
  return undefined;
}
