// SPDX-License-Identifier: MIT
// runsv: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = 'dir';
export const help = `Supervise the service in DIR: start ./run, restart it when it exits, and log
through ./log when it exists. Controlled by sv through DIR/supervise/control.

Exit codes: 0 after exit was requested and the service is down; 1 usage;
111 fatal error, including another runsv supervising DIR.`;
export const exitCodes = { usage: 1, fatal: 111 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  throw new Fatal('not implemented yet', 111);
}
