// SPDX-License-Identifier: MIT
// Node cannot mkfifo(2); we run the system mkfifo once per FIFO (supervise/control,
// supervise/ok, runsv's log pipe). mode is applied as mkfifo -m applies it.
import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';

const MKFIFO = ['/usr/bin/mkfifo', '/bin/mkfifo'];

/** Create a FIFO at path unless one is already there. Throws an errno-style error. */
export function makeFifo(path: string, mode = 0o600): void {
  try {
    if (lstatSync(path).isFIFO()) return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  let lastErr: Error | undefined;
  for (const bin of MKFIFO) {
    const r = spawnSync(bin, ['-m', mode.toString(8), path], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
    if (r.error) {
      lastErr = r.error;
      continue;
    }
    if (r.status === 0) return;
    const msg = String(r.stderr);
    const code = /File exists/.test(msg) ? 'EEXIST' : /Permission denied/.test(msg) ? 'EACCES' : /No such file/.test(msg) ? 'ENOENT' : 'EIO';
    throw Object.assign(new Error(`mkfifo ${path}: ${msg.trim()}`), { code });
  }
  throw Object.assign(new Error(`mkfifo not found: ${lastErr?.message ?? ''}`), { code: 'ENOENT' });
}
