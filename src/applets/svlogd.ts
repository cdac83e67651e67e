// SPDX-License-Identifier: MIT
// svlogd: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = '[-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...';
export const help = `Read log lines on standard input and write them to the log directories DIR,
rotating and processing them as each directory's config says.

Exit codes: 0 on end of input or TERM; 111 usage or fatal.`;
export const exitCodes = { usage: 111, fatal: 111 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  throw new Fatal('not implemented yet', 111);
}
