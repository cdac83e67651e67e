// SPDX-License-Identifier: MIT
// `max connections` through the `lock file`, as rsync's connection.c claim_connection:
// connection number i holds a write lock on bytes [4i, 4i+4) of the lock file for as
// long as it lives; a newcomer takes the first free record or is turned away.
//
// Node has no fcntl(2). rsync takes POSIX record locks (F_SETLK), which belong to a
// process and vanish with it. We take the same byte ranges as Linux open-file-
// description locks (F_OFD_SETLK): a short `perl` helper (perl-base is Essential on
// Debian) runs fcntl on the descriptor it inherits from us as fd 3. An OFD lock
// belongs to the open file description, which our fd shares, so the lock stays ours
// after the helper exits and goes away when our process dies or closes the fd, the
// lifetime rsync's locks have. OFD and POSIX record locks conflict with each other,
// so a lock file shared with a real `rsync --daemon` counts both daemons' clients.
// The struct flock layout packed below is the LP64 Linux one (x86_64, aarch64).
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';

export type ClaimResult =
  | { ok: true; fd: number | undefined; slot: number }
  | { ok: false; full: true }
  | { ok: false; full: false; code: string; detail?: string };

const PERL = '/usr/bin/perl';
/** <linux/fcntl.h> F_OFD_SETLK; F_WRLCK and SEEK_SET are 1 and 0. */
const F_OFD_SETLK = 37;
const SCRIPT = `open(my $fh, '+<&=', 3) or exit 3; my $n = shift;
for my $i (0 .. $n - 1) { my $fl = pack('ssx4qqix4', 1, 0, $i * 4, 4, 0); if (fcntl($fh, ${F_OFD_SETLK}, $fl)) { print $i; exit 0 } }
exit 1;`;

/** connection.c claim_connection. max 0 = unlimited; a negative max refuses every connection. */
export function claimConnection(lockFile: string, max: number, mode = 0o600): ClaimResult {
  if (max === 0) return { ok: true, fd: undefined, slot: -1 };
  let fd: number;
  try {
    fd = openSync(lockFile, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, mode);
  } catch (err) {
    return { ok: false, full: false, code: (err as NodeJS.ErrnoException).code ?? 'EIO' };
  }
  if (max < 0) {
    closeSync(fd);
    return { ok: false, full: true };
  }
  const r = spawnSync(PERL, ['-e', SCRIPT, String(max)], { stdio: ['ignore', 'pipe', 'pipe', fd], encoding: 'utf8' });
  if (r.status === 0) return { ok: true, fd, slot: Number(r.stdout) };
  closeSync(fd);
  if (r.status === 1) return { ok: false, full: true };
  return { ok: false, full: false, code: r.error ? ((r.error as NodeJS.ErrnoException).code ?? 'EIO') : 'EIO', detail: r.error ? String(r.error) : `perl exited ${r.status ?? r.signal}: ${String(r.stderr).trim()}` };
}
