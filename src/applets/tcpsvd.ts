// SPDX-License-Identifier: MIT
// tcpsvd: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = '[-Ehpv] [-u user] [-c n] [-C n:msg] [-b n] [-l name] [-i dir|-x cdb] [-t sec] host port prog';
export const help = `Listen on HOST PORT and run PROG for each TCP connection, with the socket as
standard input and output and the connection described in the environment.

Exit codes: 0 on TERM; 100 unknown user, group or port; 111 usage or fatal.`;
export const exitCodes = { usage: 111, fatal: 111 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  throw new Fatal('not implemented yet', 111);
}
