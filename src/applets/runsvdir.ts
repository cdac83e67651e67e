// SPDX-License-Identifier: MIT
// runsvdir [-P] DIR [LOG]: one runsv per subdirectory of DIR, interchangeable with
// runit's runsvdir (runit-compat.md §2): same argument quirks, messages
// (`runsvdir DIR: warning: ...`), scan rules, signals and exit codes.
// compat: runsv is this same executable (never looked up in PATH); the LOG ring is
// shown through process.title; DIR changes are also noticed through inotify.
import { Messages, UsageError } from '../lib/die.js';
import type { Io } from '../lib/applet.js';
import { Runsvdir } from '../runit/runsvdir-process.js';
import { restoreDefaultSignals } from '../lib/signals.js';

export const usage = '[-P] dir';
export const help = `Start one runsv for each subdirectory of DIR (names starting with '.' are
skipped, symlinks followed) and keep them running: a runsv that dies is started
again, a directory that goes away has its runsv sent TERM. DIR is rescanned every
5 seconds and as soon as it changes. -P starts each runsv in a new session. LOG
(at least seven characters) is shown in the process title, its tail replaced by
the latest error output of runsvdir and its children.
TERM: exit 0, leaving every runsv running. HUP: send TERM to every runsv, exit 111.

Exit codes: 0 on TERM; 111 on HUP; 1 usage; 100 fatal error.`;
export const exitCodes = { usage: 1, fatal: 100 };

/** runsvdir.c: main's argument handling: only the first argument may be -P or --. */
export function parseArgs(argv: readonly string[]): { session: boolean; dir: string; log: string | undefined; title: string } {
  const args = [...argv];
  let session = false;
  const used: string[] = [];
  if (args.length === 0) throw new UsageError();
  const first = args[0]!;
  if (first.startsWith('-') && (first[1] === 'P' || first[1] === '-')) {
    session = first[1] === 'P';
    used.push(args.shift()!);
    if (args.length === 0) throw new UsageError();
  }
  const dir = args.shift()!;
  used.push(dir);
  return { session, dir, log: args[0], title: ['runsvdir', ...used].join(' ') };
}

export async function main(argv: string[], io: Io): Promise<number> {
  const a = parseArgs(argv);
  let msg = new Messages(io.stderr, `runsvdir ${a.dir}`);
  const rd = new Runsvdir({ dir: a.dir, session: a.session, title: a.title }, msg);
  if (a.log !== undefined) {
    const sink = rd.setupLog(a.log);
    if (sink) msg = new Messages(sink, msg.prefix);
    else msg.warn('log service disabled.');
  }
  rd.setMessages(msg);
  restoreDefaultSignals();
  process.on('SIGTERM', () => rd.term());
  process.on('SIGHUP', () => rd.hangup());
  const code = await rd.run();
  // The one exit: runsv children and the watcher keep Node's loop alive, and runit's
  // runsvdir leaves its children behind with _exit.
  process.exit(code);
}
