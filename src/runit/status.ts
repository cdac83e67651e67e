// SPDX-License-Identifier: MIT
// supervise/status, the 20-byte record runsv writes and sv, svstat and svok read
// (runit-compat.md §1.6): bytes 0-11 TAI64N timestamp (big-endian), 12-15 pid
// (little-endian), 16 paused, 17 want 'u'|'d', 18 got TERM, 19 state 0 down /
// 1 run / 2 finish. Bytes 0-17 are daemontools' layout. Also supervise/stat, the
// one-line text form (§1.7). pack/unpack/format are pure; read/write do the I/O.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomic } from '../lib/atomic-write.js';
import { packTai64n, unpackTai64n, type Tai64n } from '../lib/tai64n.js';

export const STATUS_SIZE = 20;

export const enum RunState { Down = 0, Run = 1, Finish = 2 }

export interface SvStatus {
  time: Tai64n;
  pid: number;
  paused: boolean;
  /** 'd' for want down and for want exit, as runit writes it. */
  want: 'u' | 'd';
  gotTerm: boolean;
  state: RunState;
}

export class StatusFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StatusFormatError';
  }
}

export function packStatus(s: SvStatus): Buffer {
  const b = Buffer.alloc(STATUS_SIZE);
  packTai64n(s.time, b, 0);
  b.writeUInt32LE(s.pid >>> 0, 12);
  b[16] = s.paused ? 1 : 0;
  b[17] = s.want.charCodeAt(0);
  b[18] = s.gotTerm ? 1 : 0;
  b[19] = s.state;
  return b;
}

/** Inverse of packStatus. A record of the wrong size (a truncated file) throws StatusFormatError. */
export function unpackStatus(b: Buffer): SvStatus {
  if (b.length !== STATUS_SIZE) throw new StatusFormatError(`status is ${b.length} bytes, expected ${STATUS_SIZE}`);
  const state = b[19]!;
  return {
    time: unpackTai64n(b, 0),
    pid: b.readUInt32LE(12),
    paused: b[16] !== 0,
    want: b[17] === 0x75 ? 'u' : 'd',
    gotTerm: b[18] !== 0,
    state: state === 1 ? RunState.Run : state === 2 ? RunState.Finish : RunState.Down,
  };
}

/** The supervise/stat line: STATE[, paused][, got TERM][, want down|, want exit]. */
export function formatStat(state: RunState, paused: boolean, gotTerm: boolean, want: 'up' | 'down' | 'exit'): string {
  let s = state === RunState.Run ? 'run' : state === RunState.Finish ? 'finish' : 'down';
  if (paused) s += ', paused';
  if (gotTerm) s += ', got TERM';
  if (state !== RunState.Down && want !== 'up') s += `, want ${want}`;
  return `${s}\n`;
}

export function readStatus(superviseDir: string): SvStatus {
  return unpackStatus(readFileSync(join(superviseDir, 'status')));
}

export function writeStatus(superviseDir: string, s: SvStatus): void {
  writeAtomic(join(superviseDir, 'status'), packStatus(s));
}
