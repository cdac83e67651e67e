// SPDX-License-Identifier: MIT
// The transfer checksums: negotiation (compat.c: negotiate_the_strings and the
// valid_checksums list), block strong sums (checksum.c: get_checksum2) and whole-file
// sums (checksum.c: sum_init/sum_update/sum_end, file_checksum). md5 comes from
// node:crypto (OpenSSL) for whole files and hash-wasm for small blocks; xxh128, xxh3 and
// xxh64 from hash-wasm, except the xxh128 of a block longer than 240 bytes in the
// matcher's window, which our own WebAssembly hashes in place (xxh3.ts: the sender's
// most frequent hash). rsync writes xxhash values little-endian; hash-wasm returns
// the canonical big-endian form, hence the byte reversal.
import { createHash } from 'node:crypto';
import { createMD5, createXXHash128, createXXHash3, createXXHash64, type IHasher } from 'hash-wasm';
import { XXH3_MIN_LONG, type SumWindow } from './rollsum.js';

export type CsumName = 'xxh128' | 'xxh3' | 'xxh64' | 'md5';

/** What we offer, in rsync's order of preference (compat.c: valid_checksums). */
export const CHECKSUM_OFFER: readonly CsumName[] = ['xxh128', 'xxh3', 'xxh64', 'md5'];

const ALIASES: Record<string, CsumName> = { xxh128: 'xxh128', xxh3: 'xxh3', xxh64: 'xxh64', xxhash: 'xxh64', md5: 'md5' };

/** A checksum name as rsync spells its aliases, or undefined when we do not implement it. */
export function checksumByName(name: string): CsumName | undefined {
  return ALIASES[name];
}

/** The server's choice: the first name in the client's list that we implement. */
export function chooseChecksum(clientList: string): CsumName | undefined {
  for (const n of clientList.split(/\s+/)) {
    const c = checksumByName(n);
    if (c && CHECKSUM_OFFER.includes(c)) return c;
  }
  return undefined;
}

export interface FileHasher {
  update(b: Uint8Array): void;
  digest(): Uint8Array;
}

export interface Checksums {
  name: CsumName;
  /** Digest length in bytes: 16 for md5/xxh128, 8 for xxh3/xxh64. */
  len: number;
  /** The seeded strong sum of one block (full length). */
  block(data: Uint8Array): Uint8Array;
  /** The same for win.buf[start, end), hashed in place where possible; valid until the next call. */
  blockIn(win: SumWindow, start: number, end: number): Uint8Array;
  /** A fresh unseeded whole-file hasher. */
  file(): FileHasher;
}

function reversed(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b[b.length - 1 - i]!;
  return out;
}

class WasmFile implements FileHasher {
  constructor(private readonly h: IHasher, private readonly rev: boolean) {
    h.init();
  }

  update(b: Uint8Array): void {
    this.h.update(b);
  }

  digest(): Uint8Array {
    const d = this.h.digest('binary');
    return this.rev ? reversed(d) : d;
  }
}

/** Set up the checksum `name` for a connection whose seed is `seed` (int32). */
export async function makeChecksums(name: CsumName, seed: number, properSeedOrder: boolean): Promise<Checksums> {
  if (name === 'md5') {
    const blockHasher = await createMD5();
    const seedBytes = Buffer.alloc(4);
    seedBytes.writeInt32LE(seed | 0);
    const block = (data: Uint8Array): Uint8Array => {
      blockHasher.init();
      // checksum.c: get_checksum2, CSUM_MD5 — the seed first with CF_CHKSUM_SEED_FIX, else after.
      if (seed && properSeedOrder) blockHasher.update(seedBytes);
      blockHasher.update(data);
      if (seed && !properSeedOrder) blockHasher.update(seedBytes);
      return blockHasher.digest('binary');
    };
    return {
      name, len: 16, block,
      blockIn: (win, start, end) => block(win.buf.subarray(start, end)),
      file() {
        const h = createHash('md5');
        return { update: (b) => { h.update(b); }, digest: () => h.digest() };
      },
    };
  }
  // An int seed widened to the 64-bit xxhash seed keeps its sign (C's int -> uint64).
  const lo = seed >>> 0;
  const hi = seed < 0 ? 0xffffffff : 0;
  const make = name === 'xxh128' ? createXXHash128 : name === 'xxh3' ? createXXHash3 : createXXHash64;
  const seeded = await make(lo, hi);
  const unseeded = await make(0, 0);
  const len = name === 'xxh128' ? 16 : 8;
  const block = (data: Uint8Array): Uint8Array => {
    seeded.init();
    seeded.update(data);
    return reversed(seeded.digest('binary'));
  };
  return {
    name, len, block,
    // xxh128 of a block longer than 240 bytes: our in-place WebAssembly (xxh3.ts).
    blockIn(win, start, end) {
      if (name === 'xxh128' && win.xxh128 && end - start >= XXH3_MIN_LONG) return win.xxh128(start, end, seed);
      return block(win.buf.subarray(start, end));
    },
    // The sender hashes one file at a time, so one reusable instance serves them all.
    file: () => new WasmFile(unseeded, true),
  };
}
