// SPDX-License-Identifier: MIT
// The pure half of `sv` (runit's sv.c): what a command word means, how a
// supervise/status record is printed, and when a waited-for command counts as
// done. No I/O here; src/runit/control.ts does the file work and
// src/applets/sv.ts prints (runit-compat.md §4.3-4.5).
//
// sv works on the raw bytes of the record, not on a decoded SvStatus: a garbage
// state byte prints no state word, a want byte other than 'u'/'d' prints no
// "want", and `control` tests the TERM byte for exactly 1. We keep that.
import { TAI64_BASE } from '../lib/tai64n.js';

/** What sv does for a command word (sv.c: main, the switch on *action). */
export interface SvPlan {
  /** 'control': write `letters` to supervise/control; 'status': print; 'none': only wait (`check`). */
  act: 'control' | 'status' | 'none';
  /** Control letters to send, and the letters the wait loop checks (sv.c: acts). */
  letters: string;
  /** Wait for the letters to take effect and print ok:/timeout:/kill: lines. */
  wait: boolean;
  /** On timeout send `k` and print `kill:` instead of `timeout:` (the force-* forms). */
  kill: boolean;
}

/**
 * The plan for `word`, or undefined for a usage error. `verbose` is -v/-w.
 * `lsb` is true when sv runs under another name (an /etc/init.d link): there only
 * the exact word `status` means status.
 */
export function planFor(word: string, verbose: boolean, lsb: boolean): SvPlan | undefined {
  const plan = (letters: string, wait: boolean, kill = false, act: SvPlan['act'] = 'control'): SvPlan => ({ act, letters, wait, kill });
  switch (word[0]) {
    case 'x': case 'e': return plan('x', verbose);
    case 'X': case 'E': return plan('x', true, true);
    case 'D': return plan('d', true, true);
    case 'T': return plan('tc', true, true);
    case 't':
      if (word === 'try-restart') return plan('tc', true);
      return plan('t', verbose);
    case 'c':
      if (word === 'check') return plan('C', true, false, 'none');
      return plan('c', verbose);
    case 'u': case 'd': case 'o': case 'p': case 'h':
    case 'a': case 'i': case 'k': case 'q': case '1': case '2':
      return plan(word[0], verbose);
    case 's':
      if (word === 'shutdown') return plan('x', true);
      if (word === 'start') return plan('u', true);
      if (word === 'stop') return plan('d', true);
      if (lsb && word !== 'status') return undefined;
      return plan('s', false, false, 'status');
    case 'r':
      if (word === 'restart') return plan('tcu', true);
      if (word === 'reload') return plan('h', true);
      return undefined;
    case 'f':
      if (word === 'force-reload') return plan('tc', true, true);
      if (word === 'force-restart') return plan('tcu', true, true);
      if (word === 'force-shutdown') return plan('x', true, true);
      if (word === 'force-stop') return plan('d', true, true);
      return undefined;
    default:
      return undefined;
  }
}

/** The 20 status bytes as sv reads them. `label` is the TAI64 label (2^62 + 10 + unix seconds). */
export interface RawStatus {
  label: bigint;
  pid: number;
  paused: number;
  want: number;
  term: number;
  state: number;
}

export const WANT_UP = 0x75; // 'u'
export const WANT_DOWN = 0x64; // 'd'

export function rawStatus(b: Buffer): RawStatus {
  return { label: b.readBigUInt64BE(0), pid: b.readUInt32LE(12), paused: b[16]!, want: b[17]!, term: b[18]!, state: b[19]! };
}

/** A wall-clock time (ms since the epoch) as sv compares it: the TAI64 label of its whole second. */
export function taiSecond(ms: number): bigint {
  return TAI64_BASE + BigInt(Math.floor(ms / 1000));
}

/** sv assembles the pid in a C int and prints it as unsigned long: a pid >= 2^31 shows as 2^64 - (2^32 - pid). */
function pidText(pid: number): string {
  return pid >= 0x80000000 ? (2n ** 64n - (2n ** 32n - BigInt(pid))).toString() : String(pid);
}

/**
 * One status part (sv.c: svstatus_print): `STATE NAME: [(pid P) ]Ns[, flags]`, no
 * newline. `now` is sv's clock as a TAI64 label; `normallyUp` says ./down is absent.
 */
export function statusText(name: string, s: RawStatus, now: bigint, normallyUp: boolean): string {
  let o = s.state === 0 ? 'down: ' : s.state === 1 ? 'run: ' : s.state === 2 ? 'finish: ' : '';
  o += `${name}: `;
  if (s.state !== 0) o += `(pid ${pidText(s.pid)}) `;
  o += `${now < s.label ? 0n : now - s.label}s`;
  if (s.pid && !normallyUp) o += ', normally down';
  if (!s.pid && normallyUp) o += ', normally up';
  if (s.pid && s.paused) o += ', paused';
  if (!s.pid && s.want === WANT_UP) o += ', want up';
  if (s.pid && s.want === WANT_DOWN) o += ', want down';
  if (s.pid && s.term) o += ', got TERM';
  return o;
}

/** sv.c: control. The command is not sent when the service already wants it (a `d` is re-sent unless TERM is pending). */
export function skipSend(letters: string, s: RawStatus): boolean {
  return s.want === letters.charCodeAt(0) && (letters[0] !== 'd' || s.term === 1);
}

/**
 * sv.c: check, for a supervisor that is running. True when every letter has taken
 * effect. `start` is sv's start second as a TAI64 label; `checkScript` runs
 * ./check and is only called when a letter needs it, as often as sv calls it.
 */
export function lettersDone(letters: string, s: RawStatus, start: bigint, checkScript: () => boolean): boolean {
  for (const c of letters) {
    switch (c) {
      case 'x':
        return false;
      case 'u':
        if (!s.pid || s.state !== 1) return false;
        if (!checkScript()) return false;
        break;
      case 'd':
        if (s.pid || s.state !== 0) return false;
        break;
      case 'C':
        if (s.pid && !checkScript()) return false;
        break;
      case 't':
      case 'k':
        if (!s.pid && s.want === WANT_DOWN) break;
        if (start > s.label || !s.pid || s.term || !checkScript()) return false;
        break;
      case 'o':
        if ((!s.pid && start > s.label) || (s.pid && s.want !== WANT_DOWN)) return false;
        break;
      case 'p':
        if (s.pid && !s.paused) return false;
        break;
      case 'c':
        if (s.pid && s.paused) return false;
        break;
      default:
        break;
    }
  }
  return true;
}

/** Leading decimal digits as scan_ulong reads them (none gives 0); SVWAIT and -w. */
export function scanUlong(s: string): number {
  const m = /^[0-9]*/.exec(s)![0];
  return m === '' ? 0 : Number(m);
}
