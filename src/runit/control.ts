// SPDX-License-Identifier: MIT
// The client side of a runsv service directory, as runit's sv (sv.c) and
// daemontools' svok/svc use it: find the directory, ask whether a supervisor holds
// supervise/ok, read supervise/status, write control letters, run ./check. Every
// function returns what happened (with the errno code) and prints nothing; the
// sv applet turns results into runit's lines (runit-compat.md §4.2, §4.4, §4.8).
//
// compat: sv chdir()s into each service; we never change the process's cwd and use
// path strings instead. A path is built exactly as the chdir sequence would walk it
// (SVDIR + "/" + NAME, never normalised, so ".." and symbolic links resolve in the
// kernel the same way), and enterable() reports the errno chdir(2) would give.
import { spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, openSync, readSync, statSync, writeSync } from 'node:fs';

const { O_WRONLY, O_NONBLOCK, O_RDONLY, X_OK } = constants;

export type Errno = string;

/** The errno code of a failed system call ('ENOENT'...), 'EUNKNOWN' for anything else. */
export function errnoOf(err: unknown): Errno {
  return (err as NodeJS.ErrnoException | null)?.code ?? 'EUNKNOWN';
}

/** Joined as chdir(a) then chdir(b) would walk it; "" (chdir("") fails) stays unusable. */
export function within(dir: string, name: string): string {
  if (dir === '' || name === '') return '';
  return dir.endsWith('/') ? `${dir}${name}` : `${dir}/${name}`;
}

/**
 * The directory sv works in for NAME (sv.c: main). A bare name (not starting with
 * '/' or '.', not empty) is looked up in SVDIR; when sending, a name ending in '/'
 * is taken from the current directory too. The wait loop does not make that
 * exception (`forWait`): `sv -v up foo/` sends to ./foo/ but waits on $SVDIR/foo/.
 */
export function serviceDir(name: string, svdir: string, forWait = false): string {
  const bare = name !== '' && name[0] !== '/' && name[0] !== '.' && (forWait || !name.endsWith('/'));
  if (!bare) return name;
  return svdir === '' ? '' : within(svdir, name);
}

/** undefined when chdir(dir) would succeed, else the errno it would fail with. */
export function enterable(dir: string): Errno | undefined {
  if (dir === '') return 'ENOENT';
  try {
    if (!statSync(dir).isDirectory()) return 'ENOTDIR';
    accessSync(dir, X_OK);
    return undefined;
  } catch (err) {
    return errnoOf(err);
  }
}

export type OkProbe = { kind: 'running' } | { kind: 'not-running' } | { kind: 'error'; errno: Errno };

/**
 * Whether a supervisor holds DIR/supervise/ok open for reading: opening the FIFO
 * write-only and non-blocking fails with ENXIO when nobody reads it.
 */
export function probeOk(dir: string): OkProbe {
  try {
    closeSync(openSync(within(dir, 'supervise/ok'), O_WRONLY | O_NONBLOCK));
    return { kind: 'running' };
  } catch (err) {
    const errno = errnoOf(err);
    return errno === 'ENXIO' ? { kind: 'not-running' } : { kind: 'error', errno };
  }
}

export type StatusRead =
  | { kind: 'ok'; bytes: Buffer }
  | { kind: 'open-error'; errno: Errno }
  | { kind: 'read-error'; errno: Errno }
  | { kind: 'bad-format'; bytes: Buffer };

/**
 * One read of up to 20 bytes from DIR/supervise/status, as sv does it: fewer is a
 * bad format (the short read is returned: sv's buffer keeps it), more is never looked at.
 */
export function readStatusBytes(dir: string): StatusRead {
  let fd: number;
  try {
    fd = openSync(within(dir, 'supervise/status'), O_RDONLY | O_NONBLOCK);
  } catch (err) {
    return { kind: 'open-error', errno: errnoOf(err) };
  }
  try {
    const b = Buffer.alloc(20);
    const n = readSync(fd, b, 0, 20, null);
    return n === 20 ? { kind: 'ok', bytes: b } : { kind: 'bad-format', bytes: b.subarray(0, n) };
  } catch (err) {
    return { kind: 'read-error', errno: errnoOf(err) };
  } finally {
    closeSync(fd);
  }
}

export type ControlWrite =
  | { kind: 'sent' }
  | { kind: 'not-running' }
  | { kind: 'open-error'; errno: Errno }
  | { kind: 'write-error'; errno?: Errno };

/** Writes all letters with one write(2) to DIR/supervise/control (opened write-only, non-blocking). */
export function writeControl(dir: string, letters: string): ControlWrite {
  let fd: number;
  try {
    fd = openSync(within(dir, 'supervise/control'), O_WRONLY | O_NONBLOCK);
  } catch (err) {
    const errno = errnoOf(err);
    return errno === 'ENXIO' ? { kind: 'not-running' } : { kind: 'open-error', errno };
  }
  try {
    const b = Buffer.from(letters, 'latin1');
    return writeSync(fd, b) === b.length ? { kind: 'sent' } : { kind: 'write-error' };
  } catch (err) {
    return { kind: 'write-error', errno: errnoOf(err) };
  } finally {
    closeSync(fd);
  }
}

/** Whether DIR/down exists (sv.c: svstatus_print): false = normally up; an errno other than ENOENT is returned. */
export function downFile(dir: string): { normallyUp: boolean } | { errno: Errno } {
  try {
    statSync(within(dir, 'down'));
    return { normallyUp: false };
  } catch (err) {
    const errno = errnoOf(err);
    return errno === 'ENOENT' ? { normallyUp: true } : { errno };
  }
}

/**
 * ./check's verdict (sv.c: checkscript). `problem` names what went wrong, for
 * sv's `warning: unable to VERB NAME/check: ERR` line; a check that cannot be
 * run passes, as in runit (its forked child reports the exec error and exits 0).
 */
export interface CheckResult {
  pass: boolean;
  problem?: { verb: 'stat' | 'run' | 'fork for'; errno: Errno };
}

/** ELF or "#!": what execve(2) runs. Anything else fails with ENOEXEC there. */
function executableFormat(path: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(path, O_RDONLY);
    const b = Buffer.alloc(4);
    const n = readSync(fd, b, 0, 4, null);
    return (n >= 2 && b[0] === 0x23 && b[1] === 0x21) || (n === 4 && b.readUInt32BE(0) === 0x7f454c46);
  } catch {
    return true; // unreadable but executable: let the exec itself decide
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function runCheck(dir: string, env: NodeJS.ProcessEnv): CheckResult {
  const path = within(dir, 'check');
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const errno = errnoOf(err);
    return errno === 'ENOENT' ? { pass: true } : { pass: false, problem: { verb: 'stat', errno } };
  }
  // compat: sv execve()s "check" directly; Node's spawn goes through execvp, which
  // runs a file without "#!" through /bin/sh instead of failing. Test what execve
  // would refuse first and report it as runit does. We exec "./check" (a name
  // without '/' would be searched in PATH), so a script's $0 is ./check, not check.
  let refused: Errno | undefined;
  if (!st.isFile()) refused = 'EACCES';
  else {
    try {
      accessSync(path, X_OK);
      if (!executableFormat(path)) refused = 'ENOEXEC';
    } catch (err) {
      refused = errnoOf(err);
    }
  }
  if (refused) return { pass: true, problem: { verb: 'run', errno: refused } };
  // compat: runit closes fd 1 before the exec. Node cannot leave a child's fd 1
  // closed, so it gets /dev/null opened read-only: a write fails with EBADF exactly
  // as on a closed descriptor (a check's `echo` fails, as it does under runit).
  const nul = openSync('/dev/null', O_RDONLY);
  try {
    const r = spawnSync('./check', [], { cwd: dir, env, argv0: './check', stdio: ['inherit', nul, 'inherit'] });
    if (r.error) {
      const errno = errnoOf(r.error);
      // spawn reports exec failures (ENOENT, EACCES...) as errors; fork failures are EAGAIN/ENOMEM.
      if (errno === 'EAGAIN' || errno === 'ENOMEM') return { pass: false, problem: { verb: 'fork for', errno } };
      return { pass: true, problem: { verb: 'run', errno } };
    }
    // wait_exitcode: a check killed by a signal has exit code 0, and passes.
    return { pass: r.status === null || r.status === 0 };
  } finally {
    closeSync(nul);
  }
}
