// SPDX-License-Identifier: MIT
// The daemon's log, in rsync's log.c style: `YYYY/MM/DD HH:MM:SS [PID] TEXT`, local
// time, one write(2) per line so that concurrent connection processes appending to
// one file never interleave inside a line. Where rsync without a `log file` uses
// syslog, we write the same lines to stderr, which svlogd collects under runsv.
// Also the `log format` expansion for transfer lines (log.c log_formatted), for the
// escapes the front end knows; the engine supplies the per-file values.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { LineSink } from '../lib/die.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** log.c logit: the timestamp prefix. */
export function logStamp(d: Date): string {
  return `${d.getFullYear()}/${pad(d.getMonth() + 1)}/${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** log.c log_formatted, case 'M': a modification time as `YYYY/MM/DD-HH:MM:SS`, local time. */
export function logMtime(seconds: number): string {
  return logStamp(new Date(seconds * 1000)).replace(' ', '-');
}

export function logLine(text: string, pid: number, d: Date): string {
  return `${logStamp(d)} [${pid}] ${text.replace(/\n+$/, '')}\n`;
}

export class DaemonLog {
  private fd: number | undefined;
  /** Why the log file could not be opened, when it could not. */
  openError: string | undefined;

  constructor(readonly path: string | undefined, private readonly fallback: LineSink, private readonly pid = process.pid, private readonly now: () => Date = () => new Date()) {
    this.open();
  }

  private open(): void {
    this.openError = undefined;
    if (!this.path) return;
    try {
      this.fd = openSync(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT, 0o644);
    } catch (err) {
      this.openError = `failed to open log-file ${this.path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`;
    }
  }

  /** Close and open the file again (after a rotation: SIGHUP). */
  reopen(): void {
    this.close();
    this.open();
  }

  log(text: string): void {
    const line = logLine(text, this.pid, this.now());
    if (this.fd === undefined) {
      this.fallback.write(line);
      return;
    }
    try {
      writeSync(this.fd, line);
    } catch {
      this.fallback.write(line); // a full disk must not lose the line entirely
    }
  }

  close(): void {
    if (this.fd !== undefined) {
      try { closeSync(this.fd); } catch { /* already gone */ }
      this.fd = undefined;
    }
  }
}

/** Values for log.c log_formatted escapes; the engine fills the per-file ones. */
export interface LogFormatValues {
  /** %a remote address, %h remote host, %m module, %u auth user, %P module path, %p pid. */
  addr?: string;
  host?: string;
  module?: string;
  user?: string;
  modulePath?: string;
  pid?: number;
  /** %o operation (send, recv, del.), %f file name, %n name, %l length, %b bytes, %c checksum bytes, %i itemize, %M mtime, %B perms, %U uid, %G gid, %L link, %C checksum. */
  op?: string;
  file?: string;
  name?: string;
  length?: number | bigint;
  bytes?: number | bigint;
  checksumBytes?: number | bigint;
  itemize?: string;
  mtime?: string;
  perms?: string;
  uid?: string;
  gid?: string;
  link?: string;
  checksum?: string;
}

/** log.c log_formatted: expand %X and %WIDTHX (`-` for left alignment, `'` ignored). */
export function formatLog(fmt: string, v: LogFormatValues, now: () => Date = () => new Date()): string {
  return fmt.replace(/%(-?)'?(\d*)([a-zA-Z%])/g, (_all, left: string, width: string, c: string) => {
    let s: string;
    switch (c) {
      case '%': return '%';
      case 'a': s = v.addr ?? ''; break;
      case 'h': s = v.host ?? ''; break;
      case 'm': s = v.module ?? ''; break;
      case 'u': s = v.user ?? ''; break;
      case 'P': s = v.modulePath ?? ''; break;
      case 'p': s = String(v.pid ?? process.pid); break;
      case 't': s = logStamp(now()); break;
      case 'o': s = v.op ?? ''; break;
      case 'f': s = v.file ?? ''; break;
      case 'n': s = v.name ?? ''; break;
      case 'l': s = String(v.length ?? 0); break;
      case 'b': s = String(v.bytes ?? 0); break;
      case 'c': s = String(v.checksumBytes ?? 0); break;
      case 'i': s = v.itemize ?? ''; break;
      case 'M': s = v.mtime ?? ''; break;
      case 'B': s = v.perms ?? ''; break;
      case 'U': s = v.uid ?? ''; break;
      case 'G': s = v.gid ?? ''; break;
      case 'L': s = v.link ? ` -> ${v.link}` : ''; break;
      case 'C': s = v.checksum ?? ''; break;
      default: return `%${left}${width}${c}`;
    }
    const w = width ? Number(width) : 0;
    return left ? s.padEnd(w) : s.padStart(w);
  });
}
