// SPDX-License-Identifier: MIT
// The sender's block matcher: given the receiver's block signatures, find the blocks
// of the basis in the new file and describe the file as literal runs and block
// references. Mirrors match.c: build_hash_table, hash_search, matched and
// match_sums, with the rolling checksum of checksum.c: get_checksum1 (bytes taken as
// signed chars, CHAR_OFFSET 0). The file is read in large windows into one reusable
// buffer (rollsum.ts: in WebAssembly memory, where the block sum after each match runs
// as SIMD); the per-byte loop touches only typed arrays and integers.

import { rollingParts, sumWindow, type SumWindow } from './rollsum.js';

export { rollingParts };

/** rsync.h: CHUNK_SIZE — the largest literal token rsync writes. */
export const CHUNK_SIZE = 32 * 1024;

export interface SumHead {
  count: number;
  blength: number;
  s2length: number;
  remainder: number;
}

export interface Signatures extends SumHead {
  sum1: Uint32Array;
  /** count * s2length bytes. */
  strong: Uint8Array;
}

export interface TokenSink {
  /** Literal bytes data[start, end) (end - start <= CHUNK_SIZE). */
  literal(data: Uint8Array, start: number, end: number): void;
  /** Block `i` of the basis. */
  block(i: number, len: number): void;
  /**
   * Optional: room for a literal of `n` bytes (n <= CHUNK_SIZE) that the matcher fills
   * itself, at once; then a whole-file transfer reads the file straight into it.
   */
  literalRoom?(n: number): { buf: Uint8Array; off: number };
}

/** The seeded strong sum of win.buf[start, end) (the digest may be reused by the next call). */
export type StrongSum = (win: SumWindow, start: number, end: number) => Uint8Array;

/** Reads `len` bytes at file position `pos` into buf[off...]; returns the count (0 at EOF). */
export type ReadAt = (buf: Uint8Array, off: number, len: number, pos: number) => number;

export interface MatchResult {
  /** Bytes actually read from the file (less than `size` if it shrank while we read). */
  read: number;
  literalBytes: number;
  matchedBytes: number;
  /** The file was shorter than expected: the missing part was sent as zeros (fileio.c: map_ptr). */
  short: boolean;
}

/** The 32-bit rolling checksum rsync sends: (s1 & 0xffff) | (s2 << 16). */
export function rollingSum(data: Uint8Array): number {
  const out = new Int32Array(2);
  rollingParts(new Int8Array(data.buffer, data.byteOffset, data.length), 0, data.length, out);
  return ((out[0]! & 0xffff) | (out[1]! << 16)) >>> 0;
}

/**
 * match.c: hash_search's inner loop — roll from st[3] while no block has the window's
 * sum1 and length, up to `limit` (exclusive). Leaves s1, s2, k, offset in st: either at
 * a candidate offset or at `limit`.
 */
function scan(
  i8: Int8Array, bufStart: number, limit: number, size: number, st: Float64Array,
  head: Int32Array, next: Int32Array, sum1: Int32Array, bits: number, blength: number, lastLen: number, count: number,
): void {
  // Positions relative to the window (small integers: V8 keeps them int32, not float64
  // as file offsets past 2 GiB would force).
  let s1 = st[0]! | 0;
  let s2 = st[1]! | 0;
  let k = st[2]! | 0;
  let p = (st[3]! - bufStart) | 0;
  const pLimit = (limit - bufStart) | 0;
  const pSize = Math.min(size - bufStart, 0x7fffffff) | 0;
  const shift = 32 - bits;
  const mask = (1 << bits) - 1;
  const last = count - 1;
  while (p < pLimit) {
    // int32 throughout (a uint32 above 2^31 would make V8 use doubles): sum1 is viewed as Int32Array.
    const sum = (s1 & 0xffff) | (s2 << 16);
    let i = head[(Math.imul(sum ^ (sum >>> bits), 0x9e3779b1) >>> shift) & mask]!;
    if (i >= 0) {
      const l = blength < pSize - p ? blength : pSize - p;
      for (; i >= 0; i = next[i]!) {
        if (sum1[i] === sum && (i === last ? lastLen : blength) === l) {
          st[0] = s1;
          st[1] = s2;
          st[2] = k;
          st[3] = p + bufStart;
          return;
        }
      }
    }
    const old = i8[p]!;
    s1 = (s1 - old) | 0;
    s2 = (s2 - Math.imul(k, old)) | 0;
    if (p + k < pSize) {
      s1 = (s1 + i8[p + k]!) | 0;
      s2 = (s2 + s1) | 0;
    } else {
      k--;
    }
    p++;
  }
  st[0] = s1;
  st[1] = s2;
  st[2] = k;
  st[3] = p + bufStart;
}

const WINDOW = 4 * 1024 * 1024;
const READ_MAX = 1024 * 1024;

/**
 * Send `size` bytes of a file through `sink`, using `sigs` (count may be 0 for a whole-file
 * transfer) and `strong` (the seeded block hash of win.buf[start, end)); the window
 * is the matcher's own, so the hash may read it in place. Every byte read goes to `onData` for
 * the whole-file checksum, in order.
 */
export async function matchFile(
  readAt: ReadAt, size: number, sigs: Signatures, strong: StrongSum,
  sink: TokenSink, onData: (b: Uint8Array) => void, pace: () => Promise<void> = async () => {},
  scratch: { win?: SumWindow } = {},
): Promise<MatchResult> {
  const m = new Matcher(readAt, size, sigs, strong, sink, onData, scratch);
  // The matcher runs synchronously (V8 optimizes its loops) and stops after each read
  // window so that we can wait for the socket (backpressure, --bwlimit) in between.
  while (!m.run()) await pace();
  return m.res;
}

/** How many bytes the matcher reads before it lets the caller wait. */
const PAUSE_BYTES = READ_MAX;

class Matcher {
  readonly res: MatchResult = { read: 0, literalBytes: 0, matchedBytes: 0, short: false };
  private readonly win: SumWindow;
  private readonly buf: Uint8Array;
  private readonly i8: Int8Array;
  private readonly bufSize: number;
  private bufStart = 0; // file offset of buf[0]
  private bufEnd = 0; // file offset just past the valid bytes
  private hashedTo = 0; // file offset up to which onData has seen the bytes
  private sincePause = 0;
  private phase = 0; // 0 start, 1 matching, 2 literal tail, 3 done
  private readonly blength: number;
  private readonly count: number;
  private readonly lastLen: number;
  private readonly end: number;
  private bits = 10;
  private head = new Int32Array(0);
  private next = new Int32Array(0);
  private offset = 0;
  private lastMatch = 0;
  private wantI = 0;
  private k = 0;
  private s1 = 0;
  private s2 = 0;
  private readonly parts = new Int32Array(2);
  private readonly st = new Float64Array(4);

  constructor(
    private readonly readAt: ReadAt, private readonly size: number, private readonly sigs: Signatures,
    private readonly strong: StrongSum, private readonly sink: TokenSink,
    private readonly onData: (b: Uint8Array) => void, scratch: { win?: SumWindow },
  ) {
    this.blength = sigs.blength;
    this.count = sigs.count;
    this.lastLen = sigs.remainder || sigs.blength;
    this.end = size + 1 - this.lastLen;
    // A window no larger than the file; the caller's window is reused across files (one
    // WINDOW-sized allocation per connection: its pages are touched only as far as used).
    this.bufSize = Math.min(Math.max(WINDOW, 2 * (this.blength + CHUNK_SIZE) + 1), Math.max(size, 1));
    if (!scratch.win || scratch.win.buf.length < this.bufSize) scratch.win = sumWindow(Math.max(this.bufSize, WINDOW));
    this.win = scratch.win;
    this.buf = this.win.buf;
    this.i8 = this.win.i8;
  }

  /** Make buf hold [keepFrom, want) (want clamped to size); the bytes before keepFrom may go. */
  private fill(keepFrom: number, want: number): void {
    const size = this.size;
    if (want > size) want = size;
    // Whole bytes only: a fractional target would read 0 bytes and look like the end of the file.
    want = Math.ceil(want);
    if (want <= this.bufEnd) return;
    const buf = this.buf;
    if (want - keepFrom > this.bufSize) throw new Error('match window too small');
    if (want - this.bufStart > this.bufSize) {
      buf.copyWithin(0, keepFrom - this.bufStart, this.bufEnd - this.bufStart);
      this.bufStart = keepFrom;
    }
    // Large reads, but not the whole window at once: data is read close to when it is
    // sent, so a file that changes while it is sent is noticed as rsync notices it.
    const target = Math.min(size, this.bufStart + this.bufSize, Math.max(want, this.bufEnd + READ_MAX));
    while (this.bufEnd < target) {
      let n = 0;
      if (!this.res.short) n = this.readAt(buf, this.bufEnd - this.bufStart, target - this.bufEnd, this.bufEnd);
      if (n <= 0) {
        // fileio.c: map_ptr zero-fills what it could not read: the file changed under us.
        this.res.short = true;
        buf.fill(0, this.bufEnd - this.bufStart, target - this.bufStart);
        n = target - this.bufEnd;
      } else {
        this.res.read += n;
      }
      this.bufEnd += n;
      this.sincePause += n;
    }
    if (this.bufEnd > this.hashedTo) {
      this.onData(buf.subarray(this.hashedTo - this.bufStart, this.bufEnd - this.bufStart));
      this.hashedTo = this.bufEnd;
    }
  }

  private sendLiteral(from: number, to: number): void {
    for (let p = from; p < to; p += CHUNK_SIZE) {
      const e = Math.min(to, p + CHUNK_SIZE);
      this.sink.literal(this.buf, p - this.bufStart, e - this.bufStart);
    }
    this.res.literalBytes += to - from;
  }

  private blockLen(i: number): number {
    return i === this.count - 1 ? this.lastLen : this.blength;
  }

  /** Work until done (true) or until a read window was consumed (false: the caller may wait). */
  run(): boolean {
    this.sincePause = 0;
    if (this.phase === 0) {
      if (this.count === 0 || this.size === 0) {
        this.phase = 2;
      } else {
        this.start();
        this.phase = 1;
      }
    }
    if (this.phase === 1) {
      if (!this.matchLoop()) return false;
      this.phase = 2;
    }
    if (this.phase === 2 && this.count === 0 && this.sink.literalRoom) {
      if (!this.directTail()) return false;
      this.phase = 3;
    }
    if (this.phase === 2) {
      // What is left is literal.
      while (this.lastMatch < this.size) {
        if (this.sincePause >= PAUSE_BYTES) return false;
        const at = this.lastMatch;
        this.fill(at, Math.min(this.size, at + READ_MAX));
        const e = this.bufEnd;
        this.sendLiteral(at, e);
        this.lastMatch = e;
      }
      this.phase = 3;
    }
    return true;
  }

  /**
   * A whole-file transfer: read each token's data straight into the sink's room, in
   * CHUNK_SIZE pieces; what the file no longer has is sent as zeros (fileio.c: map_ptr),
   * as fill() does. Returns false when the caller may wait.
   */
  private directTail(): boolean {
    const sink = this.sink as Required<TokenSink>;
    while (this.lastMatch < this.size) {
      if (this.sincePause >= PAUSE_BYTES) return false;
      const pos = this.lastMatch;
      const n = Math.min(CHUNK_SIZE, this.size - pos);
      const { buf, off } = sink.literalRoom(n);
      let got = 0;
      while (got < n) {
        let r = 0;
        try {
          if (!this.res.short) r = this.readAt(buf, off + got, n - got, pos + got);
        } catch {
          // The token is already framed in the output: zeros, never stale bytes, go out
          // (fileio.c: map_ptr zero-fills after a read error too).
          r = 0;
        }
        if (r <= 0) {
          this.res.short = true;
          buf.fill(0, off + got, off + n);
          break;
        }
        got += r;
        this.res.read += r;
      }
      this.onData(buf.subarray(off, off + n));
      this.res.literalBytes += n;
      this.lastMatch = pos + n;
      this.sincePause += n;
    }
    return true;
  }

  /** match.c: build_hash_table — chained buckets on a hash of sum1 — and the first window. */
  private start(): void {
    const count = this.count;
    // A sparse table (about one slot in eight used): most offsets of a literal stretch
    // then find an empty slot and skip the chain walk and its mispredicted branches.
    let bits = 10;
    while ((1 << bits) < count * 8 && bits < 22) bits++;
    this.bits = bits;
    const mask = (1 << bits) - 1;
    this.head = new Int32Array(1 << bits).fill(-1);
    this.next = new Int32Array(count);
    const sum1 = this.sigs.sum1;
    for (let i = count - 1; i >= 0; i--) {
      const h = (Math.imul(sum1[i]! ^ (sum1[i]! >>> bits), 0x9e3779b1) >>> (32 - bits)) & mask;
      this.next[i] = this.head[h]!;
      this.head[h] = i;
    }
    this.k = Math.min(this.blength, this.size);
    this.fill(0, this.k);
    this.win.parts(0, this.k, this.parts);
    this.s1 = this.parts[0]!;
    this.s2 = this.parts[1]!;
  }

  /** match.c: hash_search. Returns true when the matching part is finished. */
  private matchLoop(): boolean {
    const { i8, size, blength, end, count, sigs, head, next, bits, st, parts, bufSize } = this;
    const sum1 = sigs.sum1;
    const sum1i = new Int32Array(sum1.buffer, sum1.byteOffset, sum1.length);
    const s2len = sigs.s2length;
    const stg = sigs.strong;
    const mask = (1 << bits) - 1;
    let { offset, lastMatch, wantI, k, s1, s2 } = this;
    const save = (): void => {
      this.offset = offset;
      this.lastMatch = lastMatch;
      this.wantI = wantI;
      this.k = k;
      this.s1 = s1;
      this.s2 = s2;
    };
    while (offset < end) {
      if (this.sincePause >= PAUSE_BYTES) {
        save();
        return false;
      }
      // The fast path: roll over offsets without a candidate block.
      let limit = Math.min(end, lastMatch + CHUNK_SIZE + blength);
      if (this.bufEnd < size) limit = Math.min(limit, this.bufEnd - k);
      if (offset < limit) {
        st[0] = s1;
        st[1] = s2;
        st[2] = k;
        st[3] = offset;
        scan(i8, this.bufStart, limit, size, st, head, next, sum1i, bits, blength, this.lastLen, count);
        s1 = st[0]!;
        s2 = st[1]!;
        k = st[2]!;
        offset = st[3]!;
        if (offset >= end) break;
      }
      const sum = ((s1 & 0xffff) | (s2 << 16)) >>> 0;
      let i = head[(Math.imul(sum ^ (sum >>> bits), 0x9e3779b1) >>> (32 - bits)) & mask]!;
      let hit = -1;
      if (i >= 0) {
        const l = Math.min(blength, size - offset);
        let digest: Uint8Array | undefined;
        for (; i >= 0; i = next[i]!) {
          if (sum1[i] !== sum || this.blockLen(i) !== l) continue;
          if (!digest) {
            if (offset + l > this.bufEnd) this.fill(lastMatch, offset + l);
            digest = this.strong(this.win, offset - this.bufStart, offset - this.bufStart + l);
          }
          let same = true;
          const base = i * s2len;
          for (let j = 0; j < s2len; j++) {
            if (stg[base + j] !== digest[j]) { same = false; break; }
          }
          if (!same) continue;
          hit = i;
          // match.c: hash_search prefers the block after the previous match (keeps runs contiguous).
          if (i === wantI) break;
          if (wantI < count && sum1[wantI] === sum && this.blockLen(wantI) === l) {
            let w = true;
            const wb = wantI * s2len;
            for (let j = 0; j < s2len; j++) {
              if (stg[wb + j] !== digest[j]) { w = false; break; }
            }
            if (w) hit = wantI;
          }
          break;
        }
        if (hit >= 0) {
          this.sendLiteral(lastMatch, offset);
          this.sink.block(hit, l);
          this.res.matchedBytes += l;
          offset += l;
          lastMatch = offset;
          wantI = hit + 1;
          if (offset >= end) break;
          k = Math.min(blength, size - offset);
          if (offset + k + 1 > this.bufEnd) this.fill(lastMatch, offset + k + 1);
          this.win.parts(offset - this.bufStart, offset - this.bufStart + k, parts);
          s1 = parts[0]!;
          s2 = parts[1]!;
          continue;
        }
      }
      // Roll one byte: the window [offset, offset+k) becomes [offset+1, offset+1+k).
      if (offset + k + 1 > this.bufEnd) this.fill(lastMatch, offset + k + 1 + (bufSize >>> 1));
      const old = i8[offset - this.bufStart]!;
      s1 = (s1 - old) | 0;
      s2 = (s2 - k * old) | 0;
      if (offset + k < size) {
        s1 = (s1 + i8[offset + k - this.bufStart]!) | 0;
        s2 = (s2 + s1) | 0;
      } else {
        k--;
      }
      offset++;
      // Keep the pending literal bounded: it must stay inside the window.
      if (offset - lastMatch >= CHUNK_SIZE + blength) {
        this.sendLiteral(lastMatch, lastMatch + CHUNK_SIZE);
        lastMatch += CHUNK_SIZE;
      }
    }
    save();
    return true;
  }
}

