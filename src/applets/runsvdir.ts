// SPDX-License-Identifier: MIT
// runsvdir: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = '[-P] dir';
export const help = `Start one runsv for each subdirectory of DIR and keep them running.
-P starts each runsv in a new session.

Exit codes: 0 on TERM; 111 on HUP (after sending TERM to every runsv);
1 usage; 100 fatal error.`;
export const exitCodes = { usage: 1, fatal: 100 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  throw new Fatal('not implemented yet', 111);
}
