// SPDX-License-Identifier: MIT
// Byte-level I/O of one rsync connection: a reader that demultiplexes the client's
// frames (protocol >= 30) into a continuous data stream and hands out-of-band messages
// to a callback, and a writer that packs protocol data into MSG_DATA frames and sends
// messages. Mirrors io.c: read_a_msg, raw_read_buf, mplex_write, io_flush. Reads never
// care about frame or TCP segment boundaries.
import type { Readable, Writable } from 'node:stream';
import {
  OutBuf, NdxState, writeNdx, varintExtra, decodeVarint, varlongExtra, decodeVarlong, muxHeader,
  MSG_DATA, NDX_DONE,
} from './wire/codec.js';

/** The peer closed the connection, or sent bytes that break the protocol. */
export class ProtocolError extends Error {
  constructor(message: string, readonly exitCode = 2) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/** rsync's "connection unexpectedly closed" (exit 12). */
export class ConnectionClosed extends ProtocolError {
  constructor() {
    super('connection unexpectedly closed', 12);
    this.name = 'ConnectionClosed';
  }
}

const HIGH_WATER = 16 * 1024 * 1024;
/** io.c: IO_BUFFER_SIZE — the largest MSG_DATA frame we write, as rsync does. */
const FRAME = 32 * 1024;
const QUEUE_MAX = 4 * 1024 * 1024;
/** Size of a batch of literal frames. */
const BATCH = 1024 * 1024;
/** Batch buffers kept for reuse (more than QUEUE_MAX / BATCH, the most in flight at once). */
const POOL_MAX = 8;

export class Reader {
  private buf: Uint8Array = new Uint8Array(256 * 1024);
  private pos = 0;
  private end = 0;
  private raw: Uint8Array = new Uint8Array(64 * 1024);
  private rawEnd = 0;
  private frameLeft = 0;
  private eof = false;
  private error: Error | undefined;
  private wake: (() => void) | undefined;
  private paused = false;
  /** Demultiplex input frames from now on. */
  mux = false;
  readonly ndx = new NdxState();
  /** Called for every non-data message; may throw to abort the reader. */
  onMessage: (code: number, payload: Uint8Array) => void = () => {};
  /** Called before the reader waits for input: the writer flushes so the peer can answer. */
  beforeWait: () => void = () => {};
  /** Total bytes read from the socket (for statistics). */
  total = 0;
  /** When the peer last sent anything (for the I/O timeout). */
  lastIo = Date.now();

  constructor(private readonly input: Readable, pending?: Uint8Array) {
    if (pending && pending.length) this.pushRaw(pending);
    input.on('data', (c: Buffer) => {
      this.total += c.length;
      this.lastIo = Date.now();
      this.pushRaw(c);
      if (this.rawEnd + this.end - this.pos > HIGH_WATER && !this.paused) {
        this.paused = true;
        input.pause();
      }
      this.poke();
    });
    input.on('end', () => { this.eof = true; this.poke(); });
    input.on('close', () => { this.eof = true; this.poke(); });
    input.on('error', (e: Error) => { this.error = e; this.eof = true; this.poke(); });
    input.resume();
  }

  private poke(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private pushRaw(c: Uint8Array): void {
    if (this.rawEnd + c.length > this.raw.length) {
      const nb = new Uint8Array(Math.max(this.raw.length * 2, this.rawEnd + c.length));
      nb.set(this.raw.subarray(0, this.rawEnd));
      this.raw = nb;
    }
    this.raw.set(c, this.rawEnd);
    this.rawEnd += c.length;
  }

  private addData(b: Uint8Array): void {
    if (this.end + b.length > this.buf.length) {
      const live = this.end - this.pos;
      if (this.pos > 0 && live + b.length <= this.buf.length) {
        this.buf.copyWithin(0, this.pos, this.end);
      } else {
        const nb = new Uint8Array(Math.max(this.buf.length * 2, live + b.length));
        nb.set(this.buf.subarray(this.pos, this.end));
        this.buf = nb;
      }
      this.pos = 0;
      this.end = live;
    }
    this.buf.set(b, this.end);
    this.end += b.length;
  }

  /** Move what arrived on the socket into the data buffer (demultiplexing as needed). */
  private drainRaw(): void {
    let at = 0;
    if (!this.mux) {
      if (this.rawEnd) this.addData(this.raw.subarray(0, this.rawEnd));
      this.rawEnd = 0;
      return;
    }
    for (;;) {
      if (this.frameLeft > 0) {
        const n = Math.min(this.frameLeft, this.rawEnd - at);
        if (n === 0) break;
        this.addData(this.raw.subarray(at, at + n));
        at += n;
        this.frameLeft -= n;
        continue;
      }
      if (this.rawEnd - at < 4) break;
      const r = this.raw;
      const len = r[at]! | (r[at + 1]! << 8) | (r[at + 2]! << 16);
      const code = r[at + 3]! - 7;
      if (code < 0) throw new ProtocolError(`unexpected tag ${code}`);
      if (code === MSG_DATA) {
        at += 4;
        this.frameLeft = len;
        continue;
      }
      if (this.rawEnd - at < 4 + len) break;
      const payload = r.slice(at + 4, at + 4 + len);
      at += 4 + len;
      this.onMessage(code, payload);
    }
    if (at > 0) {
      this.raw.copyWithin(0, at, this.rawEnd);
      this.rawEnd -= at;
    }
  }

  /** Bytes available in the data stream right now (after demultiplexing). */
  available(): number {
    this.drainRaw();
    return this.end - this.pos;
  }

  /** Wait until `n` data bytes are buffered. */
  async need(n: number): Promise<void> {
    while (this.end - this.pos < n) {
      this.drainRaw();
      if (this.end - this.pos >= n) break;
      if (this.eof) throw this.error instanceof ProtocolError ? this.error : new ConnectionClosed();
      if (this.paused) {
        this.paused = false;
        this.input.resume();
      }
      this.beforeWait();
      await new Promise<void>((res) => { this.wake = res; });
    }
  }

  /** Wait until the peer sends anything or closes; resolves false on EOF. */
  async waitAny(): Promise<boolean> {
    if (this.available() > 0) return true;
    if (this.eof) return false;
    this.beforeWait();
    await new Promise<void>((res) => { this.wake = res; });
    return this.available() > 0 || !this.eof;
  }

  /** End the connection from our side: pending reads fail with ConnectionClosed. */
  abort(err: Error): void {
    this.error = err;
    this.eof = true;
    this.poke();
  }

  /** The data buffered now (a view, valid until the next read); consume() what was used. */
  buffered(): Uint8Array {
    this.drainRaw();
    return this.buf.subarray(this.pos, this.end);
  }

  consume(n: number): void {
    if (n > this.end - this.pos) throw new RangeError('consume past the buffered data');
    this.pos += n;
  }

  /** Drop the buffered data. */
  skipAll(): void {
    this.available();
    this.pos = this.end;
  }

  u8(): number {
    return this.buf[this.pos++]!;
  }

  async byte(): Promise<number> {
    await this.need(1);
    return this.buf[this.pos++]!;
  }

  async int32(): Promise<number> {
    await this.need(4);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24);
  }

  async uint16(): Promise<number> {
    await this.need(2);
    const v = this.buf[this.pos]! | (this.buf[this.pos + 1]! << 8);
    this.pos += 2;
    return v;
  }

  async bytes(n: number): Promise<Uint8Array> {
    await this.need(n);
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  async varint(): Promise<number> {
    const lead = await this.byte();
    let extra: number;
    try {
      extra = varintExtra(lead);
    } catch (e) {
      throw new ProtocolError((e as Error).message);
    }
    if (extra === 0) return lead;
    return decodeVarint(lead, await this.bytes(extra));
  }

  async varlong(min: number): Promise<number> {
    await this.need(min);
    const lead = this.buf[this.pos]!;
    const extra = varlongExtra(lead);
    await this.need(min + extra);
    const v = decodeVarlong(lead, this.buf.subarray(this.pos + 1, this.pos + min + extra));
    this.pos += min + extra;
    return v;
  }

  async vstring(max = 0x7fff): Promise<string> {
    let len = await this.byte();
    if (len & 0x80) len = ((len & 0x7f) << 8) | (await this.byte());
    if (len > max) throw new ProtocolError(`over-long vstring received (${len} > ${max})`);
    return Buffer.from(await this.bytes(len)).toString('latin1');
  }

  /** io.c: read_ndx (protocol >= 30). */
  async readNdx(): Promise<number> {
    const st = this.ndx;
    let b = await this.byte();
    if (b === 0) return NDX_DONE;
    let neg = false;
    if (b === 0xff) {
      neg = true;
      b = await this.byte();
    }
    let num: number;
    const prev = neg ? st.prevNeg : st.prevPos;
    if (b === 0xfe) {
      const b0 = await this.byte();
      const b1 = await this.byte();
      if (b0 & 0x80) {
        const b2 = await this.byte();
        const b3 = await this.byte();
        num = ((b0 & 0x7f) << 24) | b1 | (b2 << 8) | (b3 << 16);
      } else {
        num = (b0 << 8) + b1 + prev;
      }
    } else {
      num = b + prev;
    }
    if (neg) {
      st.prevNeg = num;
      return -num;
    }
    st.prevPos = num;
    return num;
  }
}

/** Protocol data and messages towards the peer. */
/** An output buffer some of whose bytes may still be queued on the stream. */
interface Slab {
  buf: Buffer;
  /** First byte not yet handed to the stream. */
  start: number;
  /** End of the bytes written into the slab. */
  end: number;
  /** Writes of this slab the stream has not completed. */
  pending: number;
  /** No more bytes go into it: reuse it when `pending` reaches 0. */
  retired: boolean;
}

export class Writer {
  readonly out = new OutBuf(256 * 1024);
  readonly ndx = new NdxState();
  mux = false;
  /** Bytes written to the socket (for statistics). */
  total = 0;
  /** When we last wrote (for the I/O timeout). */
  lastIo = Date.now();
  private dead: Error | undefined;
  /** Literal frames waiting to be written in one go. */
  private slab: Slab | undefined;
  /**
   * Slabs whose writes have all completed: reused, because a fresh 1 MiB buffer per
   * batch costs page faults on first touch and garbage collections (a third of a full
   * transfer's time before).
   */
  private readonly pool: Buffer[] = [];
  /** `total` when maybeFlush last let the event loop run. */
  private yieldedAt = 0;
  private waiting: Promise<void> | undefined;
  /** --bwlimit in bytes per second (0 = none) and when the paced stretch started. */
  private rate = 0;
  private rateStart = 0;
  private rateBase = 0;

  constructor(private readonly output: Writable) {
    // A peer that hangs up (EPIPE, ECONNRESET) ends the run; never an unhandled 'error'.
    output.on('error', () => {
      this.dead ??= new ConnectionClosed();
    });
  }

  /** io.c: sleep_for_bwlimit — keep the average write rate at `kib` KiB/s. */
  setBwlimit(kib: number): void {
    this.rate = kib * 1024;
    this.rateStart = Date.now();
    this.rateBase = this.total;
  }

  /** Send the buffered data now (framed when multiplexing). */
  flush(): void {
    const len = this.out.len;
    if (!this.mux) {
      if (len === 0) return;
      this.send(Buffer.from(this.out.buf.slice(0, len)));
      this.out.len = 0;
      return;
    }
    this.frameOut();
    this.sendSlab();
  }

  /** Move the buffered protocol data into the slab as MSG_DATA frames. */
  private frameOut(): void {
    const len = this.out.len;
    if (len === 0) return;
    const data = this.out.buf;
    const frames = Math.ceil(len / FRAME);
    const sl = this.room(len + 4 * frames);
    const b = sl.buf;
    let o = sl.end;
    for (let at = 0; at < len; at += FRAME) {
      const n = Math.min(FRAME, len - at);
      muxHeader(MSG_DATA, n, b, o);
      b.set(data.subarray(at, at + n), o + 4);
      o += 4 + n;
    }
    sl.end = o;
    this.out.len = 0;
  }

  /** A slab with `n` free bytes: the current one, or (sending and retiring that) another. */
  private room(n: number): Slab {
    const cur = this.slab;
    if (cur && cur.buf.length - cur.end >= n) return cur;
    if (cur) {
      this.sendSlab();
      cur.retired = true;
      if (cur.pending === 0) this.recycle(cur.buf);
    }
    const buf = (n <= BATCH ? this.pool.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(BATCH, n));
    const sl: Slab = { buf, start: 0, end: 0, pending: 0, retired: false };
    this.slab = sl;
    return sl;
  }

  /** Write the slab's unsent bytes; the slab is reused once retired and all its writes completed. */
  private sendSlab(): void {
    const sl = this.slab;
    if (!sl || sl.end === sl.start) return;
    const part = sl.buf.subarray(sl.start, sl.end);
    sl.start = sl.end;
    sl.pending++;
    this.send(part, () => {
      sl.pending--;
      if (sl.retired && sl.pending === 0) this.recycle(sl.buf);
    });
  }

  /** A non-data message; buffered data goes first so the order on the wire is kept. */
  msg(code: number, payload: Uint8Array | string): void {
    this.flush();
    const p = typeof payload === 'string' ? Buffer.from(payload) : payload;
    const b = Buffer.allocUnsafe(4 + p.length);
    muxHeader(code, p.length, b, 0);
    b.set(p, 4);
    this.send(b);
  }

  msgInt(code: number, v: number): void {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v | 0);
    this.msg(code, b);
  }

  /**
   * A literal token (int32 length + the bytes) as one MSG_DATA frame of its own, with a
   * single copy of the data, gathered with the other output into a large reused slab so
   * that a full transfer makes few writes and no garbage (the hot path of a full transfer).
   */
  literal(data: Uint8Array, start: number, end: number): void {
    const n = end - start;
    if (!this.mux) {
      this.out.int32(n);
      this.out.bytes(data.subarray(start, end));
      return;
    }
    this.frameOut();
    const sl = this.room(8 + n);
    const b = sl.buf;
    const at = sl.end;
    muxHeader(MSG_DATA, 4 + n, b, at);
    b.writeInt32LE(n, at + 4);
    b.set(data.subarray(start, end), at + 8);
    sl.end = at + 8 + n;
  }

  private recycle(b: Buffer): void {
    if (b.length === BATCH && this.pool.length < POOL_MAX) this.pool.push(b);
  }

  /**
   * Room for a literal token of `n` bytes (n <= the largest token) whose data the caller
   * writes at buf[off, off + n) before anything else is written: a whole-file transfer
   * reads the file straight into the outgoing slab, sparing a copy of every byte.
   * Multiplexed output only (there is no other once the transfer runs).
   */
  literalRoom(n: number): { buf: Buffer; off: number } {
    if (!this.mux) throw new Error('literalRoom needs multiplexed output');
    this.frameOut();
    const sl = this.room(8 + n);
    const at = sl.end;
    muxHeader(MSG_DATA, 4 + n, sl.buf, at);
    sl.buf.writeInt32LE(n, at + 4);
    sl.end = at + 8 + n;
    return { buf: sl.buf, off: at + 8 };
  }

  writeNdx(ndx: number): void {
    writeNdx(this.out, this.ndx, ndx);
  }

  /** Write `b`; `written` runs once the stream is done with it (the buffer may then be reused). */
  private send(b: Buffer, written?: () => void): void {
    if (this.dead) throw this.dead;
    this.total += b.length;
    this.lastIo = Date.now();
    // Keep a few MiB queued before waiting: 'drain' fires only when the queue is empty,
    // so waiting at the stream's small high-water mark would stall the pipeline.
    const ok = written ? this.output.write(b, (err) => { if (!err) written(); }) : this.output.write(b);
    if (!ok && this.output.writableLength > QUEUE_MAX && !this.waiting) {
      this.waiting = new Promise<void>((res) => {
        const done = (): void => {
          this.output.off('drain', done);
          this.output.off('close', done);
          this.output.off('error', done);
          this.waiting = undefined;
          res();
        };
        this.output.on('drain', done);
        this.output.on('close', done);
        this.output.on('error', done);
      });
    }
  }

  /** Flush when the buffer is large; wait while the socket is congested. */
  async maybeFlush(limit = 256 * 1024): Promise<void> {
    if (this.out.len + (this.slab ? this.slab.end - this.slab.start : 0) >= (this.rate ? Math.min(limit, Math.max(512, this.rate / 8)) : limit)) this.flush();
    if (this.waiting) await this.waiting;
    else if (this.total - this.yieldedAt >= BATCH) {
      // Let the event loop run now and then: write completions (which hand slabs back
      // for reuse) and input are only processed there, and a sender that only ever
      // awaits settled promises would never get to them.
      this.yieldedAt = this.total;
      await new Promise((res) => setImmediate(res));
    }
    if (this.rate) {
      const due = this.rateStart + ((this.total - this.rateBase) / this.rate) * 1000;
      const now = Date.now();
      if (due > now) await new Promise((res) => setTimeout(res, due - now));
    }
  }

  /** Stop writing: a pending wait for 'drain' ends at once and later writes throw `err`. */
  abort(err: Error): void {
    this.dead = err;
    this.output.destroy();
  }

  /** Flush everything and wait until the socket accepted it. */
  async drain(): Promise<void> {
    this.flush();
    if (this.waiting) await this.waiting;
  }
}
