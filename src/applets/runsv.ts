// SPDX-License-Identifier: MIT
// runsv DIR: supervise one service directory, interchangeable with runit's runsv
// (runit-compat.md §1): same supervise/ files, FIFOs, lock, status formats, control
// letters, messages (`runsv DIR: fatal: ...`) and exit codes. runit's sv and
// daemontools' svstat/svok work against it, and our sv against runit's.
// Signals other than TERM keep their default action, as in runit (SIGUSR1 and
// SIGPIPE included, which Node would otherwise claim). compat: a ./run killed by a signal with a core
// dump gives ./finish the bare signal number (Node does not report the core bit).
import { Messages } from '../lib/die.js';
import type { Io } from '../lib/applet.js';
import { UsageError } from '../lib/die.js';
import { Runsv, SetupError } from '../runit/runsv-process.js';
import { restoreDefaultSignals } from '../lib/signals.js';

export const usage = 'dir';
export const help = `Supervise the service in DIR: start ./run, restart it when it exits (at most
once a second), run ./finish CODE STATUS after each exit, and run ./log/run as a
second service reading the service's output through one pipe that survives the
restart of either side. Controlled through DIR/supervise/control by sv; status in
DIR/supervise/status (runit and daemontools format). SIGTERM acts as \`sv exit\`.

Exit codes: 0 after exit was requested and the service is down; 1 usage;
111 fatal error, including another runsv supervising DIR.`;
export const exitCodes = { usage: 1, fatal: 111 };

export async function main(argv: string[], io: Io): Promise<number> {
  // runsv.c: exactly one operand, no options (a leading '-' names a directory).
  if (argv.length !== 1) throw new UsageError();
  const dir = argv[0]!;
  const msg = new Messages(io.stderr, `runsv ${dir}`);
  const sv = new Runsv(dir, msg);
  restoreDefaultSignals();
  process.on('SIGTERM', () => sv.terminate());
  let code: number;
  try {
    sv.setup();
    code = await sv.run();
  } catch (e) {
    if (!(e instanceof SetupError)) throw e;
    msg.fatal(e.message);
    code = 111;
  }
  // The one exit: FIFO handles opened during set-up and children still running (a
  // logger draining the pipe, a daemonised grandchild) would keep Node's loop alive;
  // runit's runsv calls _exit at the same points.
  process.exit(code);
}
