// SPDX-License-Identifier: MIT
// Start another applet of this same executable, never through PATH: runsvdir starts
// runsv, rsyncd starts a child per connection, whatever links exist or not.
// Two packagings: the single executable (process.execPath is svbox itself) and the
// JS bundle run by node (process.argv[1] is the bundle, or a symlink to it).
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { isSea } from 'node:sea';

export const MULTICALL = 'svbox';

/** Real path of the executable (SEA) or of the bundle (node svbox.mjs), links resolved. */
export function ownFile(): string {
  return realpathSync(isSea() ? process.execPath : process.argv[1]!);
}

/** The command line that runs `svbox APPLET ARGS...` with this same code. */
export function appletCommand(applet: string, args: readonly string[]): { file: string; args: string[]; argv0: string } {
  if (isSea()) return { file: process.execPath, args: [applet, ...args], argv0: MULTICALL };
  return { file: process.execPath, args: [ownFile(), applet, ...args], argv0: process.execPath };
}

export function spawnApplet(applet: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const c = appletCommand(applet, args);
  // argv0 'svbox' makes a renamed or copied executable dispatch to the front end.
  return spawn(c.file, c.args, { ...opts, argv0: c.argv0 });
}
