// SPDX-License-Identifier: MIT
// flock(2) without a native addon: Node has none, and runsv and svlogd must exclude
// runit's own runsv and svlogd, which use flock(2) on supervise/lock and a log dir's
// lock file. We open the file ourselves and run the system `flock -n -x 3` with our
// descriptor as its fd 3. A flock belongs to the open file description, which our fd
// shares, so the lock stays held by us after the helper exits, and goes away when we
// close the fd or die (runit-compat.md §9 shows it excluding runit's runsv).
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';

export type LockResult = { ok: true; fd: number } | { ok: false; code: string; detail?: string };

const FLOCK = ['/usr/bin/flock', '/bin/flock'];

/**
 * Open path (creating it with mode) and take an exclusive flock on it.
 * wait=false fails at once with code EAGAIN when another holds it (runit's message
 * then reads "temporary failure"); wait=true blocks until the lock is ours.
 */
export function lockFile(path: string, mode = 0o600, wait = false): LockResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, mode);
  } catch (err) {
    return { ok: false, code: (err as NodeJS.ErrnoException).code ?? 'EIO' };
  }
  const r = lockFd(fd, wait);
  if (!r.ok) closeSync(fd);
  return r;
}

/** Take an exclusive flock on an fd we hold open. */
export function lockFd(fd: number, wait = false): LockResult {
  const args = wait ? ['-x', '3'] : ['-n', '-x', '3'];
  let last: { ok: false; code: string; detail?: string } = { ok: false, code: 'ENOENT', detail: 'flock(1) not found' };
  for (const bin of FLOCK) {
    const r = spawnSync(bin, args, { stdio: ['ignore', 'ignore', 'pipe', fd] });
    if (r.error) {
      last = { ok: false, code: (r.error as NodeJS.ErrnoException).code ?? 'ENOENT', detail: `${bin}: ${r.error.message}` };
      continue;
    }
    if (r.status === 0) return { ok: true, fd };
    // flock -n exits 1 when the lock is held elsewhere: that is flock(2)'s EWOULDBLOCK.
    if (r.status === 1) return { ok: false, code: 'EAGAIN' };
    return { ok: false, code: 'EIO', detail: `${bin} exited ${r.status ?? r.signal}: ${String(r.stderr).trim()}` };
  }
  return last;
}
