// SPDX-License-Identifier: MIT
// Bounded reads from the client during the daemon handshake: lines ending in '\n'
// (or NUL for the argument list of protocol >= 30), raw byte counts, each with a
// length limit, so a hostile client can make us hold at most `limit` bytes. What is
// read past the handshake stays buffered and is handed to the transfer engine.
// Mirrors io.c read_line_old (greeting, module, auth lines: a NUL inside is an
// error, '\r' is dropped) and read_line (arguments).
import type { Readable } from 'node:stream';

export class HandshakeError extends Error {
  constructor(readonly kind: 'eof' | 'too-long' | 'nul' | 'timeout' | 'io', message: string) {
    super(message);
    this.name = 'HandshakeError';
  }
}

export class LineReader {
  private buf: Buffer = Buffer.alloc(0);
  private ended = false;
  private failure: HandshakeError | undefined;
  private wake: (() => void) | undefined;
  /** Total bytes received, for the log's "received N bytes". */
  received = 0;
  private readonly onData = (b: Buffer): void => {
    this.received += b.length;
    this.buf = this.buf.length ? Buffer.concat([this.buf, b]) : b;
    if (this.buf.length > this.maxBuffered) {
      // A client running this far ahead of the handshake is flooding us: stop reading.
      this.input.pause();
      this.fail(new HandshakeError('too-long', `more than ${this.maxBuffered} bytes sent ahead of the handshake`));
    }
    this.kick();
  };
  private readonly onEnd = (): void => { this.ended = true; this.kick(); };
  private readonly onError = (e: Error): void => { this.fail(new HandshakeError('io', e.message)); };

  /** maxBuffered bounds what we hold unread (the client may send ahead of our answers). */
  constructor(private readonly input: Readable, private readonly maxBuffered = 16 << 20) {
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('close', this.onEnd);
    input.on('error', this.onError);
  }

  /** Make every pending and later read fail (timeout, shutdown). */
  fail(e: HandshakeError): void {
    this.failure ??= e;
    this.kick();
  }

  private kick(): void {
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private async more(): Promise<void> {
    if (this.failure) throw this.failure;
    if (this.ended) throw new HandshakeError('eof', 'connection closed');
    await new Promise<void>((res) => { this.wake = res; });
    if (this.failure) throw this.failure;
  }

  /**
   * One line without its terminator. limit counts the bytes before the terminator;
   * a longer line fails with 'too-long' as soon as the limit is passed, without
   * waiting for the rest. `strict` (read_line_old) rejects a NUL and drops '\r'.
   */
  async line(limit: number, term: 0x0a | 0x00 = 0x0a, strict = true): Promise<string> {
    for (;;) {
      const at = this.buf.indexOf(term);
      const upto = at < 0 ? this.buf.length : at;
      if (strict && term === 0x0a) {
        const nul = this.buf.subarray(0, upto).indexOf(0);
        if (nul >= 0) throw new HandshakeError('nul', 'NUL byte in a handshake line');
      }
      if (upto > limit) throw new HandshakeError('too-long', `line longer than ${limit} bytes`);
      if (at >= 0) {
        let s = this.buf.subarray(0, at).toString('latin1');
        this.buf = this.buf.subarray(at + 1);
        if (term === 0x0a) s = s.replace(/\r/g, '');
        return s;
      }
      if (this.ended && this.buf.length === 0) throw new HandshakeError('eof', 'connection closed');
      if (this.ended) throw new HandshakeError('eof', 'connection closed inside a line');
      await this.more();
    }
  }

  async bytes(n: number): Promise<Buffer> {
    while (this.buf.length < n) await this.more();
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }

  /** Stop listening and give back what was read but not consumed. */
  detach(): Buffer {
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.input.off('error', this.onError);
    this.input.pause();
    const rest = this.buf;
    this.buf = Buffer.alloc(0);
    return rest;
  }
}
