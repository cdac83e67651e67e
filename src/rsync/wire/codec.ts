// SPDX-License-Identifier: MIT
// rsync's wire encodings (io.c: write_int, write_varint, write_varlong, write_vstring,
// write_ndx, and their read_* twins), for protocol 30 and later. Encoders append to an
// OutBuf; decoders take the bytes the caller has already gathered. No I/O here.

/** A growable output buffer: protocol items are appended, then taken as one chunk. */
export class OutBuf {
  buf: Uint8Array;
  len = 0;
  private view: DataView;

  constructor(size = 64 * 1024) {
    this.buf = new Uint8Array(size);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const nb = new Uint8Array(size);
    nb.set(this.buf.subarray(0, this.len));
    this.buf = nb;
    this.view = new DataView(nb.buffer);
  }

  byte(v: number): void {
    this.ensure(1);
    this.buf[this.len++] = v & 0xff;
  }

  uint16(v: number): void {
    this.ensure(2);
    this.view.setUint16(this.len, v & 0xffff, true);
    this.len += 2;
  }

  int32(v: number): void {
    this.ensure(4);
    this.view.setInt32(this.len, v | 0, true);
    this.len += 4;
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }

  /** io.c: write_varint — 1 to 5 bytes, the count of leading 1 bits says how many follow. */
  varint(v: number): void {
    const x = v >>> 0;
    let n = 1;
    while (n < 5 && x >= 2 ** (7 * n)) n++;
    this.ensure(5);
    const extra = n - 1;
    if (extra === 4) {
      this.buf[this.len++] = 0xf0;
    } else {
      const top = Math.floor(x / 2 ** (8 * extra)) & 0xff;
      this.buf[this.len++] = ((0xff << (8 - extra)) & 0xff) | top;
    }
    for (let i = 0; i < extra; i++) this.buf[this.len++] = Math.floor(x / 2 ** (8 * i)) & 0xff;
  }

  /** io.c: write_varlong — `min` low bytes always, more as needed; lead byte counts them. */
  varlong(v: number, min: number): void {
    if (!Number.isSafeInteger(v)) throw new RangeError(`varlong out of range: ${v}`);
    const b: number[] = [];
    // Negative values (times before 1970) travel as 64-bit two's complement, as SIVAL64 writes them.
    let x = v < 0 ? 2 ** 64 + v : v;
    if (v < 0) {
      let big = BigInt.asUintN(64, BigInt(v));
      for (let i = 0; i < 8; i++) {
        b.push(Number(big & 0xffn));
        big >>= 8n;
      }
      x = 0;
    }
    for (let i = b.length; i < 8; i++) {
      b.push(x % 256);
      x = Math.floor(x / 256);
    }
    let cnt = 8;
    while (cnt > min && b[cnt - 1] === 0) cnt--;
    const bit = 1 << (7 - cnt + min);
    this.ensure(9);
    if (b[cnt - 1]! >= bit) {
      this.buf[this.len++] = (~(bit - 1) & 0xff) | 0;
      cnt++;
      // the lead byte carries no value bits: all of the cnt-1 bytes follow
      for (let i = 0; i < cnt - 1; i++) this.buf[this.len++] = b[i] ?? 0;
      return;
    }
    if (cnt > min) this.buf[this.len++] = (~(bit * 2 - 1) & 0xff) | b[cnt - 1]!;
    else this.buf[this.len++] = b[cnt - 1]!;
    for (let i = 0; i < cnt - 1; i++) this.buf[this.len++] = b[i]!;
  }

  /** io.c: write_vstring — 1 length byte below 0x80, else 2 (max 0x7FFF). */
  vstring(s: string | Uint8Array): void {
    const b = typeof s === 'string' ? Buffer.from(s) : s;
    if (b.length > 0x7fff) throw new RangeError('vstring too long');
    if (b.length >= 0x80) {
      this.byte(0x80 | (b.length >> 8));
      this.byte(b.length & 0xff);
    } else {
      this.byte(b.length);
    }
    this.bytes(b);
  }

  /** Take the bytes written so far and start empty again. */
  take(): Uint8Array {
    const out = this.buf.slice(0, this.len);
    this.len = 0;
    return out;
  }
}

/** Number of bytes after the lead byte of a varint (io.c: int_byte_extra). */
export function varintExtra(lead: number): number {
  if (lead < 0x80) return 0;
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  if (lead < 0xf0) return 3;
  if (lead < 0xf8) return 4;
  throw new RangeError(`invalid varint lead byte 0x${lead.toString(16)}`);
}

/** Decode a varint from its lead byte and the `varintExtra(lead)` bytes after it, to int32. */
export function decodeVarint(lead: number, rest: Uint8Array): number {
  const extra = rest.length;
  let v = 0;
  for (let i = 0; i < extra; i++) v += rest[i]! * 2 ** (8 * i);
  if (extra > 0 && extra < 4) v += (lead & ((1 << (8 - extra)) - 1)) * 2 ** (8 * extra);
  else if (extra === 0) v = lead;
  return v | 0;
}

/** Number of value bytes after the first `min` bytes of a varlong, from its lead byte. */
export function varlongExtra(lead: number): number {
  return lead < 0xf8 ? varintExtra(lead) : lead < 0xfc ? 5 : 6;
}

/** Decode a varlong from its lead byte and the min-1+extra bytes after it (io.c: read_varlong). */
export function decodeVarlong(lead: number, rest: Uint8Array): number {
  const extra = varlongExtra(lead);
  let v = 0;
  for (let i = 0; i < rest.length; i++) v += rest[i]! * 2 ** (8 * i);
  return v + (lead & ((1 << (8 - extra)) - 1)) * 2 ** (8 * rest.length);
}

export const NDX_DONE = -1;
export const NDX_FLIST_EOF = -2;
export const NDX_DEL_STATS = -3;
export const NDX_FLIST_OFFSET = -101;

/** One direction's state of the protocol-30 file-index delta encoding. */
export class NdxState {
  prevPos = -1;
  prevNeg = 1;
}

/** io.c: write_ndx. */
export function writeNdx(o: OutBuf, st: NdxState, ndx: number): void {
  if (ndx === NDX_DONE) {
    o.byte(0);
    return;
  }
  let num: number;
  let diff: number;
  if (ndx >= 0) {
    num = ndx;
    diff = num - st.prevPos;
    st.prevPos = num;
  } else {
    o.byte(0xff);
    num = -ndx;
    diff = num - st.prevNeg;
    st.prevNeg = num;
  }
  if (diff > 0 && diff < 0xfe) {
    o.byte(diff);
  } else if (diff < 0 || diff > 0x7fff) {
    o.byte(0xfe);
    o.byte((num >> 24) | 0x80);
    o.byte(num & 0xff);
    o.byte((num >> 8) & 0xff);
    o.byte((num >> 16) & 0xff);
  } else {
    o.byte(0xfe);
    o.byte(diff >> 8);
    o.byte(diff & 0xff);
  }
}

// Multiplexing (io.c: mplex_write): a 4-byte LE header ((MPLEX_BASE + code) << 24 | len).
export const MPLEX_BASE = 7;
export const MSG_DATA = 0;
export const MSG_ERROR_XFER = 1;
export const MSG_INFO = 2;
export const MSG_ERROR = 3;
export const MSG_WARNING = 4;
export const MSG_IO_ERROR = 22;
export const MSG_IO_TIMEOUT = 33;
export const MSG_NOOP = 42;
export const MSG_ERROR_EXIT = 86;
export const MSG_SUCCESS = 100;
export const MSG_DELETED = 101;
export const MSG_NO_SEND = 102;
export const MAX_FRAME = 0xffffff;

export function muxHeader<T extends Uint8Array>(code: number, len: number, out: T = new Uint8Array(4) as T, at = 0): T {
  out[at] = len & 0xff;
  out[at + 1] = (len >> 8) & 0xff;
  out[at + 2] = (len >> 16) & 0xff;
  out[at + 3] = MPLEX_BASE + code;
  return out;
}

/** Split a header into [code, length]; code < 0 means the tag was below MPLEX_BASE (garbage). */
export function parseMuxHeader(b: Uint8Array, at = 0): [number, number] {
  return [b[at + 3]! - MPLEX_BASE, b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16)];
}
