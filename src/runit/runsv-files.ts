// SPDX-License-Identifier: MIT
// The file side of runsv: supervise/ (or log/supervise/) with its lock, the control
// and ok FIFOs, and the pid/stat/status files written as NAME.new + rename, each step
// reporting the warning runit prints when it fails (runsv.c: update_status and the
// set-up part of main; runit-compat.md §1.3-1.7).
//
// Node workarounds: no flock(2) (lib/flock.ts runs the system flock on our fd), no
// mkfifo(3) (lib/fifo.ts runs the system mkfifo), and no way to read a FIFO fd
// except as a stream: control is opened O_RDONLY|O_NONBLOCK and read through
// net.Socket, with an O_WRONLY|O_NONBLOCK fd of our own kept open so the reader
// never sees EOF when a writer (sv) closes.
import { closeSync, constants, mkdirSync, openSync, readlinkSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { unableText } from '../lib/die.js';
import { makeFifo } from '../lib/fifo.js';
import { lockFile } from '../lib/flock.js';
import { formatStat, packStatus } from './status.js';
import { statusOf, type Service } from './supervisor.js';

/** A set-up step failed: runsv prints `fatal: MESSAGE` and exits 111. */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

const errCode = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'EIO';

/**
 * mkdir SUPERVISE 0700; when it already exists as a symlink, create the link's target
 * (one level), relative to the directory holding the link (runsv.c main).
 */
export function makeSuperviseDir(base: string): void {
  const sup = join(base, 'supervise');
  const shown = base === '.' ? './supervise' : `./${base}/supervise`;
  try {
    mkdirSync(sup, 0o700);
    return;
  } catch { /* exists, or a dangling link: look at the link */ }
  let target: string;
  try {
    target = readlinkSync(sup);
  } catch (e) {
    const c = errCode(e);
    if (c === 'ENOENT' || c === 'EINVAL') return;
    throw new SetupError(unableText(`readlink ${shown}`, e));
  }
  if (Buffer.byteLength(target) >= 256) throw new SetupError(`unable to readlink ${shown}: name too long`);
  try {
    mkdirSync(resolve(base, target), 0o700);
  } catch { /* as runit: the lock open below reports a real problem */ }
}

/** Open and flock SUPERVISE/lock: non-blocking for the service, blocking for its logger. */
export function takeLock(base: string, wait: boolean): number {
  const path = join(base, 'supervise', 'lock');
  const name = base === '.' ? 'supervise/lock' : `${base}/supervise/lock`;
  const r = lockFile(path, 0o600, wait);
  if (r.ok) return r.fd;
  if (r.code === 'EAGAIN') throw new SetupError(unableText(`lock ${name}`, r.code));
  // lockFile reports open errors and flock(1) trouble alike; name the step as runit does.
  const step = r.detail ? `lock ${name}` : `open ${name}`;
  throw new SetupError(unableText(step, r.code));
}

export interface ControlFifo {
  socket: Socket;
  /** Our own write end: keeps the FIFO from reaching EOF between writers. */
  keeper: number;
}

/**
 * supervise/control: make it, insist it is a FIFO, open it for reading and for writing.
 * compat: Debian's runsv 2.1.2 checks supervise/control also when setting up
 * log/supervise/control, so a regular file there is opened as the log's control and
 * runsv then spins on a descriptor that is always readable; we check the log's own
 * file and refuse it (`log/supervise/control exists but is not a fifo`), as later
 * runit releases do.
 */
export function openControl(base: string, onByte: (bytes: Buffer) => void): ControlFifo {
  const name = base === '.' ? 'supervise/control' : `${base}/supervise/control`;
  const path = join(base, 'supervise', 'control');
  try {
    makeFifo(path, 0o600);
  } catch { /* as runit's fifo_make: the stat below decides */ }
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new SetupError(unableText(`stat ${name}`, e));
  }
  if (!st.isFIFO()) throw new SetupError(`${name} exists but is not a fifo`);
  let rfd: number;
  let wfd: number;
  try {
    rfd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
    wfd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new SetupError(unableText(`open ${name}`, e));
  }
  const socket = new Socket({ fd: rfd, readable: true, writable: false });
  socket.on('data', onByte);
  // A read error on our own FIFO cannot be acted upon; keep supervising.
  socket.on('error', () => {});
  return { socket, keeper: wfd };
}

/** supervise/ok: held open for reading for runsv's whole life; that is what sv and svok test. */
export function openOk(base: string): number {
  const name = base === '.' ? 'supervise/ok' : `${base}/supervise/ok`;
  const path = join(base, 'supervise', 'ok');
  try {
    makeFifo(path, 0o600);
  } catch { /* the open below reports it */ }
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw new SetupError(unableText(`read ${name}`, e));
  }
}

/**
 * The log pipe without pipe(2): a FIFO opened O_RDWR (never blocks on Linux), then
 * O_RDONLY and O_WRONLY (both return at once because the FIFO already has both
 * ends), then the O_RDWR fd is closed and the name unlinked. runsv holds both fds for
 * its life, so neither side's restart gives the other EOF (runit-compat.md §9).
 * The fds are blocking, as pipe(2)'s are.
 */
export function makeLogPipe(at: string): { read: number; write: number } {
  try {
    makeFifo(at, 0o600);
  } catch (e) {
    throw new SetupError(unableText('create log pipe', e));
  }
  try {
    const rw = openSync(at, constants.O_RDWR);
    const read = openSync(at, constants.O_RDONLY);
    const write = openSync(at, constants.O_WRONLY);
    closeSync(rw);
    return { read, write };
  } catch (e) {
    throw new SetupError(unableText('create log pipe', e));
  } finally {
    try { unlinkSync(at); } catch { /* already gone */ }
  }
}

/**
 * Writes SUPERVISE/{pid,stat,status} for one service (runsv.c: update_status). Each
 * file is NAME.new then rename; a failure prints runit's warning and, as runit does,
 * skips the rest of that update. compat: runit keeps one "pid changed" flag for both
 * services, so one update can consume the other's change and leave a stale pid file;
 * we track the written pid per service instead.
 */
export class StatusWriter {
  private writtenPid = -1;
  constructor(private readonly base: string, private readonly warn: (text: string) => void) {}

  write(s: Service): void {
    const sup = this.base === '.' ? 'supervise' : `${this.base}/supervise`;
    if (s.pid !== this.writtenPid) {
      if (!this.put(sup, 'pid', s.pid ? `${s.pid}\n` : '')) return;
      this.writtenPid = s.pid;
    }
    if (!this.put(sup, 'stat', formatStat(s.state, s.paused, s.gotTerm, s.want))) return;
    this.put(sup, 'status', packStatus(statusOf(s)));
  }

  private put(sup: string, file: string, data: string | Buffer): boolean {
    const tmp = `${sup}/${file}.new`;
    let fd: number;
    try {
      fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NONBLOCK, 0o644);
    } catch (e) {
      this.warn(unableText(`open ${tmp}`, e));
      return false;
    }
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    try {
      const n = buf.length ? writeSync(fd, buf) : 0;
      if (n < buf.length) {
        closeSync(fd);
        this.warn(`unable to write ${tmp}: partial write.`);
        return false;
      }
    } catch (e) {
      closeSync(fd);
      this.warn(unableText(`write ${tmp}`, e));
      try { unlinkSync(tmp); } catch { /* nothing left to clean */ }
      return false;
    }
    closeSync(fd);
    try {
      renameSync(tmp, `${sup}/${file}`);
    } catch (e) {
      this.warn(unableText(`rename ${file}.new to ${sup}/${file}`, e));
      return false;
    }
    return true;
  }
}
