// SPDX-License-Identifier: MIT
// The sender's block matcher: given the receiver's block signatures, find the blocks
// of the basis in the new file and describe the file as literal runs and block
// references. Mirrors match.c: build_hash_table, hash_search, matched and
// match_sums, with the rolling checksum of checksum.c: get_checksum1 (bytes taken as
// signed chars, CHAR_OFFSET 0). The file is read in large windows into one reusable
// buffer; the per-byte loop touches only typed arrays and integers.

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
}

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

/**
 * checksum.c: get_checksum1 over i8[start, end): leaves the full s1, s2 in out[0], out[1].
 * The plain loop: measured faster in V8 than unrolled or word-at-a-time variants.
 */
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

/** The 32-bit rolling checksum rsync sends: (s1 & 0xffff) | (s2 << 16). */
export function rollingSum(data: Uint8Array): number {
  const out = new Int32Array(2);
  rollingParts(new Int8Array(data.buffer, data.byteOffset, data.length), 0, data.length, out);
  return ((out[0]! & 0xffff) | (out[1]! << 16)) >>> 0;
}

const WINDOW = 4 * 1024 * 1024;
const READ_MAX = 1024 * 1024;

/**
 * Send `size` bytes of a file through `sink`, using `sigs` (count may be 0 for a whole-file
 * transfer) and `strong` (the seeded block hash). Every byte read goes to `onData` for
 * the whole-file checksum, in order.
 */
export async function matchFile(
  readAt: ReadAt, size: number, sigs: Signatures, strong: (b: Uint8Array) => Uint8Array,
  sink: TokenSink, onData: (b: Uint8Array) => void, pace: () => Promise<void> = async () => {},
  scratch: { buf?: Uint8Array } = {},
): Promise<MatchResult> {
  const blength = sigs.blength;
  const res: MatchResult = { read: 0, literalBytes: 0, matchedBytes: 0, short: false };
  // A window no larger than the file; the caller's scratch buffer is reused across files.
  const bufSize = Math.min(Math.max(WINDOW, 2 * (blength + CHUNK_SIZE) + 1), Math.max(size, 1));
  if (!scratch.buf || scratch.buf.length < bufSize) scratch.buf = new Uint8Array(Math.max(bufSize, Math.min(WINDOW, 2 * (scratch.buf?.length ?? 0))));
  const buf = scratch.buf;
  const i8 = new Int8Array(buf.buffer, buf.byteOffset, buf.length);
  let bufStart = 0; // file offset of buf[0]
  let bufEnd = 0; // file offset just past the valid bytes
  let hashedTo = 0; // file offset up to which onData has seen the bytes

  /** Make buf hold [keepFrom, want) (want clamped to size); the bytes before keepFrom may go. */
  // Between windows the caller may wait for the socket to drain (backpressure, --bwlimit).
  const fill = async (keepFrom: number, want: number): Promise<void> => {
    if (want > size) want = size;
    if (want <= bufEnd) return;
    await pace();
    if (want - keepFrom > bufSize) throw new Error('match window too small');
    if (want - bufStart > bufSize) {
      buf.copyWithin(0, keepFrom - bufStart, bufEnd - bufStart);
      bufStart = keepFrom;
    }
    // Large reads, but not the whole window at once: data is read close to when it is
    // sent, so a file that changes while it is sent is noticed as rsync notices it.
    const target = Math.min(size, bufStart + bufSize, Math.max(want, bufEnd + READ_MAX));
    while (bufEnd < target) {
      let n = 0;
      if (!res.short) n = readAt(buf, bufEnd - bufStart, target - bufEnd, bufEnd);
      if (n <= 0) {
        // fileio.c: map_ptr zero-fills what it could not read: the file changed under us.
        res.short = true;
        buf.fill(0, bufEnd - bufStart, target - bufStart);
        n = target - bufEnd;
      } else {
        res.read += n;
      }
      bufEnd += n;
    }
    if (bufEnd > hashedTo) {
      onData(buf.subarray(hashedTo - bufStart, bufEnd - bufStart));
      hashedTo = bufEnd;
    }
  };

  const sendLiteral = (from: number, to: number): void => {
    for (let p = from; p < to; p += CHUNK_SIZE) {
      const e = Math.min(to, p + CHUNK_SIZE);
      sink.literal(buf, p - bufStart, e - bufStart);
    }
    res.literalBytes += to - from;
  };

  if (sigs.count === 0 || size === 0) {
    for (let at = 0; at < size;) {
      await fill(at, at + READ_MAX);
      const end = bufEnd;
      sendLiteral(at, end);
      at = end;
    }
    return res;
  }

  // match.c: build_hash_table — chained buckets on a hash of sum1.
  const count = sigs.count;
  let bits = 10;
  while ((1 << bits) < count * 2 && bits < 22) bits++;
  const mask = (1 << bits) - 1;
  const head = new Int32Array(1 << bits).fill(-1);
  const next = new Int32Array(count);
  const sum1 = sigs.sum1;
  for (let i = count - 1; i >= 0; i--) {
    const h = Math.imul(sum1[i]! ^ (sum1[i]! >>> bits), 0x9e3779b1) >>> (32 - bits) & mask;
    next[i] = head[h]!;
    head[h] = i;
  }
  const s2len = sigs.s2length;
  const stg = sigs.strong;
  const lastLen = sigs.remainder || blength;
  const blockLen = (i: number): number => (i === count - 1 ? lastLen : blength);

  let offset = 0;
  let lastMatch = 0;
  let wantI = 0;
  const end = size + 1 - lastLen;
  let k = Math.min(blength, size);
  await fill(0, k);
  const parts = new Int32Array(2);
  rollingParts(i8, 0, k, parts);
  let s1 = parts[0]!;
  let s2 = parts[1]!;
  let sum: number;

  while (offset < end) {
    sum = ((s1 & 0xffff) | (s2 << 16)) >>> 0;
    let i = head[Math.imul(sum ^ (sum >>> bits), 0x9e3779b1) >>> (32 - bits) & mask]!;
    let hit = -1;
    if (i >= 0) {
      const l = Math.min(blength, size - offset);
      let digest: Uint8Array | undefined;
      for (; i >= 0; i = next[i]!) {
        if (sum1[i] !== sum || blockLen(i) !== l) continue;
        if (!digest) {
          if (offset + l > bufEnd) await fill(lastMatch, offset + l);
          digest = strong(buf.subarray(offset - bufStart, offset - bufStart + l));
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
        if (wantI < count && sum1[wantI] === sum && blockLen(wantI) === l) {
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
        sendLiteral(lastMatch, offset);
        sink.block(hit, l);
        res.matchedBytes += l;
        offset += l;
        lastMatch = offset;
        wantI = hit + 1;
        if (offset >= end) break;
        k = Math.min(blength, size - offset);
        if (offset + k + 1 > bufEnd) await fill(lastMatch, offset + k + 1);
        rollingParts(i8, offset - bufStart, offset - bufStart + k, parts);
        s1 = parts[0]!;
        s2 = parts[1]!;
        continue;
      }
    }
    // Roll one byte: the window [offset, offset+k) becomes [offset+1, offset+1+k).
    if (offset + k + 1 > bufEnd) await fill(lastMatch, offset + k + 1 + bufSize / 2);
    const old = i8[offset - bufStart]!;
    s1 = (s1 - old) | 0;
    s2 = (s2 - k * old) | 0;
    if (offset + k < size) {
      s1 = (s1 + i8[offset + k - bufStart]!) | 0;
      s2 = (s2 + s1) | 0;
    } else {
      k--;
    }
    offset++;
    // Keep the pending literal bounded: it must stay inside the window.
    if (offset - lastMatch >= CHUNK_SIZE + blength) {
      sendLiteral(lastMatch, lastMatch + CHUNK_SIZE);
      lastMatch += CHUNK_SIZE;
    }
  }
  // What is left is literal.
  for (let at = lastMatch; at < size;) {
    await fill(at, Math.min(size, at + READ_MAX));
    const e = bufEnd;
    sendLiteral(at, e);
    at = e;
  }
  return res;
}
