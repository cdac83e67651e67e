// SPDX-License-Identifier: MIT
// sv: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = '[-v] [-w sec] command service ...';
export const help = `Control and report on services supervised by runsv.
Commands: status up down once pause cont hup alarm interrupt quit 1 2 term
kill exit, and start stop reload restart shutdown force-stop force-reload
force-restart force-shutdown try-restart check.
SVDIR names the service directory for bare names (default /var/service).

Exit codes: 0 ok; 1-99 the number of services that failed; 100 usage or fatal.`;
export const exitCodes = { usage: 100, fatal: 100 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  throw new Fatal('not implemented yet', 111);
}
