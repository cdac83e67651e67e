// SPDX-License-Identifier: MIT
// One svlogd log directory: lock, config, `current`, rotation to @TAI64N.s/.u,
// retention, the `!processor` and the full-disk handling, after runit's svlogd.c
// (logdir_open, logdir_close, rotate, rmoldest, buffer_pwrite, processorstart,
// processorstop). The directory reports through `env.log`; it never prints.
//
// Bytes reach `current` through put(): a pending buffer that is written with one
// write(2) per flush. Size accounting, clipping at `s` and the rotation points are
// decided per byte range exactly as runit's buffer_pwrite decides them per write,
// so file boundaries are the same however the bytes were batched.
//
// compat: runit blocks in waitpid() when a rotation needs the previous processor to
// finish. Node cannot wait for one child synchronously, so waitProcessor() polls
// /proc/PID/stat until the child is a zombie and takes its wait status from there
// (field 52, Linux >= 3.5); Node's own 'exit' event for that pid is then ignored.
// compat: runit's processor child prints `fatal: unable to open input for processor`
// and is restarted forever; we open the processor's files ourselves and, when that
// fails, print the same line and leave the .u for a later run instead of looping.
// compat: UDP copies go out from one socket per directory, asynchronously; a send
// failure is logged into the directory when it is reported, not in line order.
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import {
  chmodSync, closeSync, constants, fchmodSync, fstatSync, fsyncSync, openSync, readdirSync,
  readFileSync, renameSync, statSync, unlinkSync, writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { errstr } from '../lib/errstr.js';
import { lockFile } from '../lib/flock.js';
import { statFields } from '../lib/procstat.js';
import { formatTai64n, tai64nNow } from '../lib/tai64n.js';
import { defaultConfig, parseConfig, type LogdirConfig } from './svlogd-config.js';
import type { Selection } from './svlogd-match.js';

export type Level = 'info' | 'warning' | 'pausing' | 'fatal';

export interface DirEnv {
  /** -l: bytes of a line used for matching; also the early-rotation margin. */
  linemax: number;
  verbose: boolean;
  /** One diagnostic line: `svlogd: LEVEL: TEXT`. */
  log(level: Level, text: string): void;
  /** Block for ms milliseconds (runit's sleep(3) when pausing). */
  sleep(ms: number): void;
  /**
   * A processor we started ended (runit: sig_child_handler). waited: a rotation
   * already waited for it and did the bookkeeping (runit still sees the SIGCHLD).
   */
  onProcessorExit(dir: Logdir, pid: number, exitcode: number, waited: boolean): void;
  /** The directory's `t` deadline moved (ms since the epoch). */
  onDeadline(): void;
  /** write(2); replaceable so tests can inject ENOSPC/EIO. */
  write?(fd: number, buf: Buffer, off: number, len: number): number;
}

const O_APPEND = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_APPEND | constants.O_CREAT;
const O_TRUNC = constants.O_WRONLY | constants.O_NONBLOCK | constants.O_TRUNC | constants.O_CREAT;
const PAUSE_MS = 3000;
/** Pending bytes per directory before a write is forced. */
const BUFSIZE = 256 * 1024;
const NL = Buffer.from('\n');

/** Rotated file names: `@` + 24 hex + `.` + s|u|t, 27 characters. */
export const isRotatedName = (n: string): boolean => n.length === 27 && n.charCodeAt(0) === 0x40;

const code = (e: unknown): string => (e as NodeJS.ErrnoException).code ?? 'EIO';

export class Logdir {
  cfg: LogdirConfig = defaultConfig();
  /** fddir != -1 in runit: the directory is in use. */
  active = false;
  size = 0;
  /** `t` deadline in ms since the epoch (valid when cfg.tmax). */
  trotate = 0;
  /** runit's fnsave: the last rotated name, whose .u the processor works on. */
  fnsave = '';
  ppid = 0;
  readonly sel: Selection = { match: 0x2b, matcherr: 0x45 };
  private fdcur = -1;
  private fdlock = -1;
  private buf = Buffer.allocUnsafe(BUFSIZE);
  private len = 0;
  private udp: Socket | undefined;
  /** Pids whose exit we already took from /proc: their late 'exit' event is not news. */
  private readonly waited = new Set<number>();

  constructor(readonly name: string, private readonly env: DirEnv) {}

  private path(f: string): string {
    return join(this.name, f);
  }

  private info(text: string): void {
    if (this.env.verbose) this.env.log('info', text);
  }

  /** runit's pause2: `pausing: WHAT: NAME: ERR`, then three seconds. */
  private pause(what: string, err: unknown): void {
    this.env.log('pausing', `${what}: ${this.name}: ${errstr(err)}`);
    this.env.sleep(PAUSE_MS);
  }

  /** Retry fn until it succeeds, pausing with `what` after each failure. */
  private retry<T>(what: string, fn: () => T): T {
    for (;;) {
      try {
        return fn();
      } catch (e) {
        this.pause(what, e);
      }
    }
  }

  /** svlogd.c: logdir_open. False (after a warning) when the directory cannot be used. */
  open(nowMs: number): boolean {
    let fd: number;
    try {
      fd = openSync(this.name, constants.O_RDONLY);
    } catch (e) {
      this.env.log('warning', `unable to open log directory: ${this.name}: ${errstr(e)}`);
      return false;
    }
    const isDir = fstatSync(fd).isDirectory();
    closeSync(fd);
    if (!isDir) {
      this.env.log('warning', `unable to change directory: ${this.name}: ${errstr('ENOTDIR')}`);
      return false;
    }
    const lock = lockFile(this.path('lock'), 0o600);
    if (!lock.ok) {
      this.env.log('warning', `unable to lock directory: ${this.name}: ${errstr(lock.code)}`);
      return false;
    }
    this.fdlock = lock.fd;
    this.size = 0;
    this.ppid = 0;
    this.sel.match = 0x2b;
    this.sel.matcherr = 0x45;
    this.cfg = defaultConfig();
    let data: Buffer | undefined;
    try {
      data = readFileSync(this.path('config'));
    } catch (e) {
      if (code(e) !== 'ENOENT') this.env.log('warning', `unable to read config: ${this.name}: ${errstr(e)}`);
    }
    if (data) {
      this.info(`read: ${this.name}/config`);
      const p = parseConfig(data);
      this.cfg = p.config;
      for (const [what, detail] of p.warnings) this.env.log('warning', `${what}: ${detail}`);
      if (this.cfg.tmax) this.trotate = nowMs + this.cfg.tmax * 1000;
    }

    let append = false;
    let st;
    try {
      st = statSync(this.path('current'));
    } catch (e) {
      if (code(e) !== 'ENOENT') {
        closeSync(this.fdlock);
        this.fdlock = -1;
        this.env.log('warning', `unable to stat current: ${this.name}: ${errstr(e)}`);
        return false;
      }
    }
    if (st) {
      if (st.size > 0 && (st.mode & 0o100) === 0) {
        // The previous svlogd did not close current cleanly: keep it, unprocessed.
        this.fnsave = this.uniqueName('u');
        this.retry('unable to rename current', () => renameSync(this.path('current'), this.path(this.fnsave)));
        this.rmoldest();
      } else {
        this.size = st.size;
        append = true;
      }
    }
    this.fdcur = this.retry('unable to open current', () => openSync(this.path('current'), O_APPEND, 0o600));
    this.retry('unable to set mode of current', () => fchmodSync(this.fdcur, 0o644));
    this.len = 0;
    if (this.cfg.udp) {
      this.udp = createSocket('udp4');
      this.udp.unref();
      this.udp.on('error', () => { /* reported per send */ });
    }
    this.active = true;
    this.info(`${append ? 'append' : 'new'}: ${this.name}/current`);
    return true;
  }

  /** svlogd.c: logdir_close. */
  close(): void {
    if (!this.active) return;
    this.info(`close: ${this.name}`);
    this.active = false;
    this.flush();
    this.retry('unable to fsync current logfile', () => fsyncSync(this.fdcur));
    this.retry('unable to set mode of current', () => fchmodSync(this.fdcur, 0o744));
    closeSync(this.fdcur);
    this.fdcur = -1;
    closeSync(this.fdlock);
    this.fdlock = -1;
    this.cfg.processor = '';
    this.udp?.close();
    this.udp = undefined;
  }

  /** Append src[a, b) to current, clipping at `s` and rotating first when current is full (buffer_pwrite). */
  put(src: Uint8Array, a: number, b: number): void {
    const sizemax = this.cfg.sizemax;
    while (a < b) {
      if (sizemax && this.size >= sizemax) this.rotate();
      let n = b - a;
      if (sizemax && n > sizemax - this.size) n = sizemax - this.size;
      if (this.len + n > this.buf.length) {
        this.flush();
        if (n > this.buf.length) n = this.buf.length;
      }
      if (n < 16) {
        const buf = this.buf;
        let o = this.len;
        for (let i = a; i < a + n; i++) buf[o++] = src[i]!;
      } else {
        this.buf.set(src.subarray(a, a + n), this.len);
      }
      this.len += n;
      this.size += n;
      a += n;
    }
  }

  /** A line's newline has been put: rotate early when less than one line's room is left (buffer_pwrite). */
  lineDone(): void {
    const { sizemax } = this.cfg;
    const linemax = this.env.linemax;
    // runit computes sizemax - linemax unsigned: with s < -l it never triggers.
    if (sizemax && sizemax >= linemax && this.size >= sizemax - linemax) this.rotate();
  }

  /** Write the pending bytes; on failure delete old files (N) or pause and retry, never dropping or repeating a byte. */
  flush(): void {
    let off = 0;
    const write = this.env.write ?? writeSync;
    while (off < this.len) {
      try {
        off += write(this.fdcur, this.buf, off, this.len - off);
      } catch (e) {
        this.writeFailed(e);
      }
    }
    this.len = 0;
  }

  /** buffer_pwrite's error branch. */
  private writeFailed(e: unknown): void {
    let err: unknown = e;
    if (code(e) === 'ENOSPC' && this.cfg.nmin < this.cfg.nmax) {
      const names = this.retryList('unable to open directory, want remove old logfile').filter(isRotatedName).sort();
      if (names.length > this.cfg.nmin && names[0]) {
        this.env.log('warning', `out of disk space, delete: ${this.name}/${names[0]}`);
        try {
          unlinkSync(this.path(names[0]));
          err = undefined;
        } catch (u) {
          this.env.log('warning', `unable to unlink oldest logfile: ${this.name}: ${errstr(u)}`);
        }
      }
    }
    if (err !== undefined) this.pause('unable to write to current', err);
  }

  private retryList(what: string): string[] {
    return this.retry(what, () => readdirSync(this.name));
  }

  /** A fresh rotated name of the given kind that does not exist yet. */
  private uniqueName(kind: 's' | 'u'): string {
    for (;;) {
      const n = `${formatTai64n(tai64nNow())}.${kind}`;
      try {
        statSync(this.path(n));
      } catch (e) {
        if (code(e) === 'ENOENT') return n;
      }
    }
  }

  /** svlogd.c: rotate. */
  rotate(): void {
    if (!this.active) {
      this.cfg.tmax = 0;
      return;
    }
    while (this.ppid) this.processorStop(this.waitProcessor());
    this.fnsave = this.uniqueName(this.cfg.processor ? 'u' : 's');
    const now = Date.now();
    if (this.cfg.tmax && this.trotate < now) {
      this.trotate = now + this.cfg.tmax * 1000;
      this.env.onDeadline();
    }
    if (this.size === 0) return;
    this.flush();
    this.retry('unable to fsync current logfile', () => fsyncSync(this.fdcur));
    this.retry('unable to set mode of current', () => fchmodSync(this.fdcur, 0o744));
    closeSync(this.fdcur);
    this.fdcur = -1;
    this.info(`rename: ${this.name}/current ${this.fnsave} ${this.size}`);
    this.retry('unable to rename current', () => renameSync(this.path('current'), this.path(this.fnsave)));
    this.fdcur = this.retry('unable to create new current', () => openSync(this.path('current'), O_APPEND, 0o600));
    this.size = 0;
    this.retry('unable to set mode of current', () => fchmodSync(this.fdcur, 0o644));
    this.rmoldest();
    this.processorStart();
  }

  /**
   * svlogd.c: rmoldest. Deletes processor leftovers (.t) and, when more than n old
   * files exist, the oldest one.
   * compat: as Debian's runit 2.1.2 does (observed: n3 with a processor keeps four
   * .s), the .u this rotation just made is neither counted nor deleted.
   */
  private rmoldest(): void {
    let oldest: string | undefined;
    let n = 0;
    const pending = this.fnsave.endsWith('.u') ? this.fnsave : '';
    for (const f of this.retryList('unable to open directory, want rotate')) {
      if (!isRotatedName(f)) continue;
      if (f[26] === 't') {
        try {
          unlinkSync(this.path(f));
        } catch (e) {
          this.env.log('warning', `unable to unlink processor leftover: ${f}: ${errstr(e)}`);
        }
        continue;
      }
      if (f === pending) continue;
      n++;
      if (oldest === undefined || f < oldest) oldest = f;
    }
    if (this.cfg.nmax && n > this.cfg.nmax && oldest) {
      this.info(`delete: ${this.name}/${oldest}`);
      try {
        unlinkSync(this.path(oldest));
      } catch (e) {
        this.env.log('warning', `unable to unlink oldest logfile: ${this.name}: ${errstr(e)}`);
      }
    }
  }

  /** svlogd.c: processorstart. Runs `sh -c PROCESSOR` on fnsave (.u) in the directory: fd 0 the .u, 1 the .t, 4 state, 5 newstate. */
  processorStart(): void {
    if (!this.cfg.processor) return;
    if (this.ppid) {
      this.env.log('warning', `processor already running: ${this.name}`);
      return;
    }
    this.info(`processing: ${this.name}/${this.fnsave}`);
    const base = this.fnsave.slice(0, 26);
    const fds: number[] = [];
    let child: ChildProcess;
    try {
      const step = (what: string, fn: () => number): number => {
        try {
          const fd = fn();
          fds.push(fd);
          return fd;
        } catch (e) {
          throw new Error(`${what}: ${this.name}: ${errstr(e)}`);
        }
      };
      const input = step('unable to open input for processor', () => openSync(this.path(`${base}u`), constants.O_RDONLY | constants.O_NONBLOCK));
      const output = step('unable to open output for processor', () => openSync(this.path(`${base}t`), O_TRUNC, 0o644));
      const state = step('unable to open state for processor', () => {
        try {
          return openSync(this.path('state'), constants.O_RDONLY | constants.O_NONBLOCK);
        } catch (e) {
          if (code(e) !== 'ENOENT') throw e;
          closeSync(openSync(this.path('state'), O_TRUNC, 0o644));
          return openSync(this.path('state'), constants.O_RDONLY | constants.O_NONBLOCK);
        }
      });
      const newstate = step('unable to open newstate for processor', () => openSync(this.path('newstate'), O_TRUNC, 0o644));
      child = spawn('/bin/sh', ['-c', this.cfg.processor], {
        cwd: this.name,
        argv0: 'sh',
        stdio: [input, output, 'inherit', 'ignore', state, newstate],
      });
    } catch (e) {
      this.env.log('fatal', e instanceof Error ? e.message : String(e));
      return;
    } finally {
      for (const fd of fds) closeSync(fd);
    }
    const pid = child.pid;
    if (pid === undefined) {
      this.env.log('fatal', `unable to run processor: ${this.name}: ${errstr('ENOENT')}`);
      child.on('error', () => { /* reported above */ });
      return;
    }
    this.ppid = pid;
    child.on('error', () => { /* spawn failures show as pid undefined above */ });
    child.on('exit', (exitCode) => {
      // wait_exitcode(): the high byte of the wait status, 0 for a signal death.
      this.env.onProcessorExit(this, pid, exitCode ?? 0, this.waited.delete(pid));
    });
  }

  /** Block until the running processor exits; its exit code as runit's wait_exitcode() reads it. */
  waitProcessor(): number {
    const pid = this.ppid;
    this.ppid = 0;
    this.waited.add(pid);
    for (;;) {
      let f: string[];
      try {
        f = statFields(pid);
      } catch {
        return 0;
      }
      if (f[0] === 'Z' || f[0] === 'X') return (Number(f[49] ?? 0) >> 8) & 255;
      this.env.sleep(5);
    }
  }

  /** svlogd.c: processorstop, after the processor exited with exitcode. False when it was restarted. */
  processorStop(exitcode: number): boolean {
    this.ppid = 0;
    if (!this.active) return true;
    const base = this.fnsave.slice(0, 26);
    if (exitcode !== 0) {
      this.env.log('warning', `processor failed, restart: ${this.name}`);
      try {
        unlinkSync(this.path(`${base}t`));
      } catch { /* nothing to clean */ }
      this.processorStart();
      return !this.cfg.processor || this.ppid === 0;
    }
    const done = `${base}s`;
    this.retry('unable to rename processed', () => renameSync(this.path(`${base}t`), this.path(done)));
    this.retry('unable to set mode of processed', () => chmodSync(this.path(done), 0o744));
    try {
      unlinkSync(this.path(`${base}u`));
    } catch {
      this.env.log('warning', `unable to unlink: ${this.name}/${base}u`);
    }
    this.retry('unable to rename state', () => renameSync(this.path('newstate'), this.path('state')));
    this.info(`processed: ${this.name}/${done}`);
    return true;
  }

  /** One UDP datagram with a selected line; a failure is logged into the directory, as runit does. */
  sendUdp(msg: Buffer): void {
    const to = this.cfg.udp;
    const sock = this.udp;
    if (!to || !sock) return;
    sock.send(msg, to.port, to.host, (err) => {
      if (!err || !this.active) return;
      const w = Buffer.concat([Buffer.from('warning: failure sending through udp: '), msg]);
      this.put(w, 0, w.length);
      if (w[w.length - 1] !== 0x0a) this.put(NL, 0, 1);
      this.lineDone();
      this.flush();
    });
  }
}
