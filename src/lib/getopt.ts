// SPDX-License-Identifier: MIT
// POSIX getopt as runit and ipsvd programs use it: bundled flags (-vv counts two),
// attached or separate values (-w7, -w 7), "--" ends options, and parsing stops at
// the first operand, so `tcpsvd 0 7007 prog -x` leaves -x to prog. The spec is
// getopt(3)'s: a letter, followed by ':' when it takes a value.
// Errors use the words of glibc's getopt, which runit's own getopt copies:
// `illegal option -- X` and `option requires an argument -- X`.
import { UsageError } from './die.js';

export interface Parsed {
  /** How often each flag letter was given. */
  flags: Map<string, number>;
  /** The last value of each letter that takes one. */
  values: Map<string, string>;
  /** Every value of each letter that takes one, in order. */
  all: Map<string, string[]>;
  operands: string[];
}

export function getopt(argv: readonly string[], spec: string): Parsed {
  const flags = new Map<string, number>();
  const values = new Map<string, string>();
  const all = new Map<string, string[]>();
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') { i++; break; }
    if (a.length < 2 || a[0] !== '-') break;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      const at = c === ':' ? -1 : spec.indexOf(c);
      if (at < 0) throw new UsageError(`illegal option -- ${c}`);
      if (spec[at + 1] === ':') {
        const v = j + 1 < a.length ? a.slice(j + 1) : argv[++i];
        if (v === undefined) throw new UsageError(`option requires an argument -- ${c}`);
        values.set(c, v);
        all.set(c, [...(all.get(c) ?? []), v]);
        break;
      }
      flags.set(c, (flags.get(c) ?? 0) + 1);
    }
  }
  return { flags, values, all, operands: argv.slice(i) };
}
