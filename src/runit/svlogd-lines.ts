// SPDX-License-Identifier: MIT
// svlogd's line handling (svlogd.c: main loop): split input into lines, replace
// unprintable bytes (-r/-R) in the first -l bytes, select each line per directory
// with its patterns, and hand `STAMP PREFIX LINE\n` to the selected directories,
// `STAMP PREFIX HEAD[...]\n` to standard error and UDP.
//
// Input arrives in chunks; a line split across chunks is carried (at most -l bytes)
// until its end or until -l bytes are known, after which the rest of the line is
// streamed to the directories unreplaced, as runit does. Every line of a chunk gets
// the timestamp of the chunk it started in.
// compat: runit samples the clock per line (when the line's first byte is taken from
// its 1024-byte buffer); lines that arrived in one read differ there only by
// microseconds.
import { selectLine, type Selection } from './svlogd-match.js';
import type { LogdirConfig } from './svlogd-config.js';

/** What the line engine needs from a log directory (Logdir implements it). */
export interface LineTarget {
  active: boolean;
  cfg: Pick<LogdirConfig, 'inst' | 'prefix' | 'udp' | 'udponly'>;
  sel: Selection;
  put(src: Uint8Array, a: number, b: number): void;
  lineDone(): void;
  sendUdp(msg: Buffer): void;
}

export interface LineOptions {
  linemax: number;
  /** -r / -R replacement byte, 0 for none. */
  repl: number;
  /** -R: further bytes to replace. */
  replace: Uint8Array;
}

const NL = Buffer.from('\n');
const DOTS = Buffer.from('...');

export class LineEngine {
  private readonly linemax: number;
  private readonly repl: number;
  /** 1 for each byte value the replacement applies to. */
  private readonly replTable = new Uint8Array(256);
  /** svlogd.c's `line`: the head of the current line, after the heads of earlier ones. */
  private readonly line: Buffer;
  /** Start of a line seen without its end and shorter than -l: [bytes, stamp]. */
  private carry: Buffer | undefined;
  private carryStamp: Buffer = Buffer.alloc(0);
  /** The head of the current line has been emitted; its rest goes to the selected directories. */
  private excess = false;
  private err: Buffer[] = [];

  constructor(opts: LineOptions, private readonly targets: readonly LineTarget[], private readonly stderr: (b: Buffer) => void) {
    this.linemax = opts.linemax;
    this.repl = opts.repl;
    if (this.repl) {
      for (let c = 0; c < 256; c++) if (c < 32 || c > 126) this.replTable[c] = 1;
      for (const c of opts.replace) this.replTable[c] = 1;
    }
    this.line = Buffer.alloc(this.linemax);
  }

  /** A line is in progress: some of its bytes were taken, its newline was not. */
  get midLine(): boolean {
    return this.excess || this.carry !== undefined;
  }

  /** Handle one chunk of input; stamp is the prefix for lines starting in it ('' with no -t). */
  feed(chunk: Buffer, stamp: Buffer): void {
    let pos = 0;
    let c = chunk;
    if (this.excess) {
      const nl = c.indexOf(0x0a);
      this.rest(c, 0, nl < 0 ? c.length : nl);
      if (nl < 0) return;
      this.endLine();
      pos = nl + 1;
    }
    let firstStamp = stamp;
    if (this.carry) {
      c = Buffer.concat([this.carry, c.subarray(pos)]);
      pos = 0;
      firstStamp = this.carryStamp;
      this.carry = undefined;
    }
    const linemax = this.linemax;
    let st = firstStamp;
    for (;;) {
      const nl = c.indexOf(0x0a, pos);
      if (nl < 0) {
        const left = c.length - pos;
        if (left >= linemax) {
          this.head(c, pos, pos + linemax, st);
          this.rest(c, pos + linemax, c.length);
          this.excess = true;
        } else if (left > 0) {
          this.carry = Buffer.from(c.subarray(pos));
          this.carryStamp = st;
        }
        break;
      }
      if (!this.repl && this.simple(c, pos, nl, st)) {
        // fast path done
      } else {
        const headEnd = nl - pos > linemax ? pos + linemax : nl;
        this.head(c, pos, headEnd, st);
        this.rest(c, headEnd, nl);
        this.endLine();
      }
      pos = nl + 1;
      st = stamp;
    }
    this.flushErr();
  }

  /** End of input: a line longer than -l is ended with a newline; a shorter partial line is dropped (runit). */
  end(): void {
    if (this.excess) this.endLine();
    this.carry = undefined;
    this.flushErr();
  }

  /**
   * The common case without -r/-R: every directory either has no patterns or
   * patterns that select this line, nothing goes to stderr or UDP. Returns false
   * when the general path must run.
   */
  private simple(c: Buffer, a: number, nl: number, stamp: Buffer): boolean {
    const len = nl - a < this.linemax ? nl - a : this.linemax;
    let copied = false;
    for (const t of this.targets) {
      if (!t.active) continue;
      if (t.cfg.inst.length) {
        if (!copied) {
          this.copyHead(c, a, len);
          copied = true;
        }
        selectLine(t.cfg.inst, this.line, 0, len, t.sel);
      }
      if (t.sel.matcherr === 0x65 || (t.sel.match === 0x2b && t.cfg.udp)) return false;
    }
    for (const t of this.targets) {
      if (!t.active || t.sel.match !== 0x2b || t.cfg.udponly) continue;
      if (stamp.length) t.put(stamp, 0, stamp.length);
      if (t.cfg.prefix.length) t.put(t.cfg.prefix, 0, t.cfg.prefix.length);
      t.put(c, a, nl + 1);
      t.lineDone();
    }
    return true;
  }

  /** The first bytes of a line (at most -l): select, copy to stderr/UDP, start the line in the directories. */
  private head(c: Buffer, a: number, b: number, stamp: Buffer): void {
    const len = b - a;
    this.copyHead(c, a, len);
    const src = this.line;
    const from = 0;
    const truncated = len === this.linemax;
    for (const t of this.targets) {
      if (!t.active) continue;
      if (t.cfg.inst.length) selectLine(t.cfg.inst, src, from, len, t.sel);
      if (t.sel.matcherr === 0x65) {
        this.err.push(stamp, t.cfg.prefix, Buffer.from(src.subarray(from, from + len)));
        if (truncated) this.err.push(DOTS);
        this.err.push(NL);
      }
      if (t.sel.match !== 0x2b) continue;
      if (t.cfg.udp) {
        t.sendUdp(Buffer.concat([stamp, t.cfg.prefix, src.subarray(from, from + len), truncated ? DOTS : Buffer.alloc(0), NL]));
      }
      if (!t.cfg.udponly) {
        if (stamp.length) t.put(stamp, 0, stamp.length);
        if (t.cfg.prefix.length) t.put(t.cfg.prefix, 0, t.cfg.prefix.length);
        t.put(src, from, from + len);
      }
    }
  }

  /**
   * Copy the first len bytes of a line into the line buffer, replaced under -r/-R.
   * Bytes after them stay from earlier lines, as in svlogd's `line` (pmatch reads one).
   */
  private copyHead(c: Buffer, a: number, len: number): void {
    const line = this.line;
    if (this.repl) {
      const table = this.replTable;
      for (let i = 0; i < len; i++) {
        const ch = c[a + i]!;
        line[i] = table[ch] ? this.repl : ch;
      }
    } else {
      c.copy(line, 0, a, a + len);
    }
  }

  /** Bytes of a line beyond -l: written as they are, not matched, not sent to stderr or UDP. */
  private rest(c: Buffer, a: number, b: number): void {
    if (a >= b) return;
    for (const t of this.targets) {
      if (t.active && t.sel.match === 0x2b && !t.cfg.udponly) t.put(c, a, b);
    }
  }

  private endLine(): void {
    this.excess = false;
    for (const t of this.targets) {
      if (!t.active || t.sel.match !== 0x2b || t.cfg.udponly) continue;
      t.put(NL, 0, 1);
      t.lineDone();
    }
  }

  private flushErr(): void {
    if (this.err.length === 0) return;
    const b = Buffer.concat(this.err);
    this.err = [];
    this.stderr(b);
  }
}
