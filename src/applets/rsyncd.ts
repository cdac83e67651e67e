// SPDX-License-Identifier: MIT
// rsyncd: not implemented yet; registered so that dispatch, --help and --install cover it.
import { Fatal } from '../lib/die.js';
import type { Io } from '../lib/applet.js';

export const usage = '[--daemon] [--no-detach] [--config=FILE] [--port=PORT] [--address=ADDR] [--log-file=FILE] [--dparam=NAME=VALUE] [-v]';
export const help = `An rsync daemon that stock rsync 3.x clients pull from and push to. Serves one
connection on standard input when it is a socket (tcpsvd, inetd), otherwise
listens on PORT (default 873). Configuration: FILE (default /etc/rsyncd.conf).

Exit codes: 0 ok; 1 usage or configuration error; otherwise rsync's exit values.`;
export const exitCodes = { usage: 1, fatal: 1 };

export async function main(_argv: string[], _io: Io): Promise<number> {
  // rsync-pull hook: remote-shell server mode (`rsync -e SHELL`), see src/rsync/remote-shell.ts.
  if (_argv.includes('--server')) return (await import('../rsync/remote-shell.js')).remoteShell(_argv.slice(_argv.indexOf('--server')), process.stdin, process.stdout, _io.env, { info: () => {}, error: (l) => _io.stderr.write(`rsyncd: ${l}\n`) });
  throw new Fatal('not implemented yet', 111);
}
