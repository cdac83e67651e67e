// SPDX-License-Identifier: MIT
// The three svlogd timestamp prefixes (runit fmt_ptime.c: fmt_taia, fmt_ptime,
// fmt_ptime_iso8601), each 25 characters plus the space svlogd.c appends:
//   -t    @400000006b0257e90a31a45c
//   -tt   2026-11-22_02:47:59.17621
//   -ttt  2026-11-22T02:47:59.17621
// The fraction is the first five of the nine nanosecond digits, truncated.
import { formatTai64n, type Tai64n } from '../lib/tai64n.js';

export type StampKind = 0 | 1 | 2 | 3;

const two = (n: number): string => (n < 10 ? `0${n}` : String(n));

/** fmt_ptime2: UTC date and time from the TAI64N seconds, sep between date and time. */
export function formatPtime(t: Tai64n, sep: string): string {
  const d = new Date(Number(t.sec) * 1000);
  const frac = String(t.nsec).padStart(9, '0').slice(0, 5);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())}${sep}${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}.${frac}`;
}

/** The prefix for one line with its trailing space, or '' for no timestamp. */
export function formatStamp(kind: StampKind, t: Tai64n): string {
  switch (kind) {
    case 0: return '';
    case 1: return `${formatTai64n(t)} `;
    case 2: return `${formatPtime(t, '_')} `;
    case 3: return `${formatPtime(t, 'T')} `;
  }
}
