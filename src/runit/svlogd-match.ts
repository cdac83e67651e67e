// SPDX-License-Identifier: MIT
// svlogd's pattern language (runit pmatch.c) and the per-line selection of a log
// directory (svlogd.c: logmatch). Patterns are bytes; `*` skips to the first
// occurrence of the next pattern byte and never backtracks, `+c` eats a run of c.
import type { Instruction } from './svlogd-config.js';

/**
 * pmatch.c: pmatch. Does pattern p consume all of s[from, from+len)?
 * `+c` compares c with the byte at s before it looks at the length, so once the line
 * is used up it reads the byte after it: in svlogd that is left in the line buffer
 * by an earlier, longer line, and `+c` then matches when that byte is c (runit does
 * this; svlogd-lines.ts keeps such a buffer so we do the same). Past the end of s we
 * treat it as no match.
 */
export function pmatch(p: Uint8Array, s: Uint8Array, from: number, len: number): boolean {
  let pi = 0;
  let si = from;
  for (;;) {
    if (pi >= p.length) return len === 0;
    const c = p[pi++]!;
    if (c === 0x2a) { // '*'
      if (pi >= p.length) return true;
      const next = p[pi]!;
      for (;;) {
        if (len === 0) return false;
        if (s[si] === next) break;
        si++;
        len--;
      }
      continue;
    }
    if (c === 0x2b) { // '+'
      const run = p[pi++];
      if (run === undefined || si >= s.length || s[si] !== run) return false;
      for (;;) {
        if (len === 0) return true;
        if (s[si] !== run) break;
        si++;
        len--;
      }
      continue;
    }
    if (len === 0 || s[si] !== c) return false;
    si++;
    len--;
  }
}

export interface Selection {
  /** '+' when the line goes to the directory, '-' when not. */
  match: 0x2b | 0x2d;
  /** 'e' when the line goes to standard error, 'E' when not. */
  matcherr: 0x65 | 0x45;
}

/** svlogd.c: logmatch. Start selected for the dir and deselected for stderr; the last matching line of each kind wins. */
export function selectLine(inst: readonly Instruction[], line: Uint8Array, from: number, len: number, into: Selection): void {
  into.match = 0x2b;
  into.matcherr = 0x45;
  for (const i of inst) {
    if (!pmatch(i.pattern, line, from, len)) continue;
    if (i.op === 0x2b || i.op === 0x2d) into.match = i.op;
    else into.matcherr = i.op;
  }
}
