// SPDX-License-Identifier: MIT
// sv: control and report on services supervised by runsv, as runit's sv (sv.c,
// runit 2.1.2). Same commands, same lines on stdout (`run: NAME: (pid P) Ns...`,
// `ok:`, `fail:`, `warning:`, `timeout:`, `kill:`), same exit codes (the number of
// problems up to 99, 100 for usage or fatal), and the LSB init-script mode when
// invoked under another name (/etc/init.d/NAME -> sv): usage 2, fatal 151, status
// 0/3/4. This file does the printing; src/runit/control.ts does the file work and
// src/runit/sv-command.ts holds the pure rules (runit-compat.md §4).
//
// Output is collected and flushed at the points where sv.c flushes its stdout
// buffer, so the bytes on stdout and their order against stderr are runit's.
// compat: the default SVDIR is /var/service (BusyBox's); Debian's sv uses
// /etc/service/, upstream /service/. -V prints svbox's own version line.
import { openSync, closeSync } from 'node:fs';
import type { Io } from '../lib/applet.js';
import { UsageError } from '../lib/die.js';
import { errstr } from '../lib/errstr.js';
import { getopt } from '../lib/getopt.js';
import { downFile, enterable, probeOk, readStatusBytes, runCheck, serviceDir, within, writeControl, type Errno } from '../runit/control.js';
import { lettersDone, planFor, rawStatus, scanUlong, skipSend, statusText, taiSecond, type SvPlan } from '../runit/sv-command.js';

export const usage = '[-v] [-w sec] command service ...';
/** The synopsis in LSB mode, after `usage: NAME`. */
export const usageLsb = '[-w sec] command';
export const help = `Control and report on services supervised by runsv.
Commands: status up down once pause cont hup alarm interrupt quit 1 2 term
kill exit, and start stop reload restart shutdown force-stop force-reload
force-restart force-shutdown try-restart check.
-v waits up to 7 seconds (SVWAIT, -w sec) for the command to take effect.
SVDIR names the service directory for bare names (default /var/service).
Invoked under another name (/etc/init.d/NAME -> sv) it controls the service NAME.

Exit codes: 0 ok; 1-99 the number of services that failed; 100 usage or fatal.
LSB mode: usage 2, fatal 151; status 0 running, 3 down, 4 unknown.`;
export const exitCodes = { usage: 100, fatal: 100 };

export const VERSION = '$Id: svbox sv $';
const DEFAULT_SVDIR = '/var/service';
/** sv.c polls every 420 ms while waiting. */
const POLL_MS = 420;

/** One sv invocation: its plan, its output buffer and its problem count (sv.c's globals). */
class Sv {
  private buf = '';
  rc = 0;
  /** Messages name NAME/log while the log service is looked at (sv.c: islog). */
  private islog = false;
  /** The last status read; a failed read keeps the old bytes, as sv's buffer does. */
  private svstatus = Buffer.alloc(20);
  /** sv's clock for ages (tnow) and the start second (tstart), both as TAI64 labels. */
  now: bigint;
  readonly start: bigint;

  constructor(
    private readonly io: Io,
    readonly lsb: boolean,
    readonly plan: SvPlan,
    startMs: number,
  ) {
    this.start = taiSecond(startMs);
    this.now = this.start;
  }

  private puts(s: string): void {
    this.buf += s;
  }

  private flush(s = ''): void {
    this.buf += s;
    this.io.stdout.write(this.buf);
    this.buf = '';
  }

  /** sv.c: out — `PREFIX NAME[/log]: MESSAGE[: ERR]`, flushed with whatever was pending. */
  private line(prefix: string, name: string, msg: string, errno?: Errno): void {
    this.flush(`${prefix}${name}${this.islog ? '/log' : ''}: ${msg}${errno ? `: ${errstr(errno)}` : ''}\n`);
  }

  fail(name: string, msg: string, errno?: Errno): void {
    this.rc++;
    this.line('fail: ', name, msg, errno);
  }

  private warn(name: string, msg: string, errno?: Errno): void {
    this.rc++;
    this.line('warning: ', name, msg, errno);
  }

  private ok(name: string, msg: string): void {
    this.line('ok: ', name, msg);
  }

  /** No runsv: a failure, except for an exit, whose aim that is. */
  private notRunning(name: string, letters: string): void {
    if (letters[0] === 'x') this.ok(name, 'runsv not running');
    else this.fail(name, 'runsv not running');
  }

  /** sv.c: svstatus_get — 1 status read, 0 no runsv (reported), -1 a problem (reported). */
  private statusGet(name: string, dir: string): -1 | 0 | 1 {
    const probe = probeOk(dir);
    if (probe.kind === 'not-running') {
      this.notRunning(name, this.plan.letters);
      return 0;
    }
    if (probe.kind === 'error') {
      this.warn(name, 'unable to open supervise/ok', probe.errno);
      return -1;
    }
    const r = readStatusBytes(dir);
    switch (r.kind) {
      case 'open-error':
        this.warn(name, 'unable to open supervise/status', r.errno);
        return -1;
      case 'read-error':
        this.warn(name, 'unable to read supervise/status', r.errno);
        return -1;
      case 'bad-format':
        r.bytes.copy(this.svstatus);
        this.warn(name, 'unable to read supervise/status: bad format');
        return -1;
      case 'ok':
        r.bytes.copy(this.svstatus);
        return 1;
    }
  }

  /** sv.c: svstatus_print — the status part for `label`; 1 a process runs, 2 none, 0 ./down unreadable. */
  private statusPrint(name: string, label: string, dir: string): 0 | 1 | 2 {
    const down = downFile(dir);
    if ('errno' in down) {
      this.io.stderr.write(`warning: unable to stat ${name}/down: ${errstr(down.errno)}\n`);
      return 0;
    }
    const s = rawStatus(this.svstatus);
    this.puts(statusText(label, s, this.now, down.normallyUp));
    return s.pid ? 1 : 2;
  }

  /** sv.c: status. Returns an exit code when LSB mode ends the program here. */
  status(name: string, dir: string): number | undefined {
    const got = this.statusGet(name, dir);
    if (got === -1) return this.lsb ? 4 : undefined;
    if (got === 0) return undefined;
    let rc = this.statusPrint(name, name, dir);
    this.islog = true;
    const logDir = within(dir, 'log');
    const cd = enterable(logDir);
    if (cd !== undefined) {
      if (cd !== 'ENOENT') {
        this.puts('; ');
        this.warn(name, 'unable to change directory', cd);
      } else this.puts('\n');
    } else {
      this.puts('; ');
      // A warning (-1) is truthy in sv.c too: it then prints "log" from the main record.
      if (this.statusGet(name, logDir) !== 0) {
        rc = this.statusPrint(name, 'log', logDir);
        this.puts('\n');
      }
    }
    this.islog = false;
    this.flush();
    if (this.lsb) return rc === 1 ? 0 : rc === 2 ? 3 : 4;
    return undefined;
  }

  /** sv.c: control — 1 sent, 0 nothing to send, -1 a problem (reported). */
  control(name: string, dir: string, letters: string): -1 | 0 | 1 {
    if (this.statusGet(name, dir) <= 0) return -1;
    if (skipSend(letters, rawStatus(this.svstatus))) return 0;
    const w = writeControl(dir, letters);
    switch (w.kind) {
      case 'sent':
        return 1;
      case 'not-running':
        this.notRunning(name, letters);
        return -1;
      case 'open-error':
        this.warn(name, 'unable to open supervise/control', w.errno);
        return -1;
      case 'write-error':
        this.warn(name, 'unable to write to supervise/control', w.errno);
        return -1;
    }
  }

  private checkScript(name: string, dir: string): boolean {
    const r = runCheck(dir, this.io.env);
    if (r.problem) this.io.stderr.write(`warning: unable to ${r.problem.verb} ${name}/check: ${errstr(r.problem.errno)}\n`);
    return r.pass;
  }

  /** sv.c: check — 1 done (ok: printed), 0 still waiting, -1 given up (reported). */
  check(name: string, dir: string): -1 | 0 | 1 {
    const got = this.statusGet(name, dir);
    if (got === -1) return -1;
    const letters = this.plan.letters;
    if (got === 0) return letters[0] === 'x' ? 1 : -1;
    if (!lettersDone(letters, rawStatus(this.svstatus), this.start, () => this.checkScript(name, dir))) return 0;
    this.puts('ok: ');
    this.statusPrint(name, name, dir);
    this.flush('\n');
    return 1;
  }

  /** The timeout: `timeout: STATUS` (or `kill: STATUS` and a `k` for the force-* forms). */
  timeout(name: string, dir: string): void {
    this.puts(this.plan.kill ? 'kill: ' : 'timeout: ');
    if (this.statusGet(name, dir) > 0) {
      this.statusPrint(name, name, dir);
      this.rc++;
    }
    this.flush('\n');
    if (this.plan.kill) this.control(name, dir, 'k');
  }
}

function usageExit(io: Io, progname: string, lsb: boolean, line?: string): number {
  if (line !== undefined) io.stderr.write(`${progname}: ${line}\n`);
  io.stderr.write(`usage: ${progname} ${lsb ? usageLsb : usage}\n\n`);
  return lsb ? 2 : 100;
}

export async function main(argv: string[], io: Io): Promise<number> {
  // sv.c reads the clock once after parsing: the start second for "restarted since"
  // and the origin of the -w count (not Node's start-up, or polls would shift).
  const startMs = Date.now();
  const lsb = io.invokedAs !== 'sv';
  const progname = lsb ? io.invokedAs : 'sv';
  const svdir = io.env.SVDIR ?? DEFAULT_SVDIR;
  let waitSec = io.env.SVWAIT !== undefined ? scanUlong(io.env.SVWAIT) : 7;

  let opts;
  try {
    opts = getopt(argv, 'w:vV');
  } catch (err) {
    if (err instanceof UsageError) return usageExit(io, progname, lsb, err.line);
    throw err;
  }
  if (opts.flags.has('V')) {
    io.stderr.write(`${VERSION}\n`);
    return usageExit(io, progname, lsb);
  }
  const w = opts.values.get('w');
  if (w !== undefined) waitSec = scanUlong(w);
  const verbose = w !== undefined || opts.flags.has('v');

  const [action, ...rest] = opts.operands;
  if (action === undefined) return usageExit(io, progname, lsb);
  const names = lsb ? [progname] : rest;
  if (names.length === 0) return usageExit(io, progname, lsb);

  try {
    closeSync(openSync('.', 'r'));
  } catch (err) {
    io.stderr.write(`fatal: unable to open current directory: ${errstr(err)}\n`);
    return lsb ? 151 : 100;
  }
  const plan = planFor(action, verbose, lsb);
  if (!plan) return usageExit(io, progname, lsb);

  const sv = new Sv(io, lsb, plan, startMs);
  const pending: (string | undefined)[] = [...names];
  for (let i = 0; i < pending.length; i++) {
    const name = pending[i]!;
    const dir = serviceDir(name, svdir);
    const cd = enterable(dir);
    if (cd !== undefined) {
      sv.fail(name, 'unable to change to service directory', cd);
      pending[i] = undefined;
      continue;
    }
    if (plan.act === 'status') {
      const exit = sv.status(name, dir);
      if (exit !== undefined) return exit;
    } else if (plan.act === 'control' && sv.control(name, dir, plan.letters) === -1) pending[i] = undefined;
  }

  if (plan.wait) {
    let nowMs = startMs;
    for (;;) {
      const elapsed = (nowMs - startMs) / 1000;
      let done = true;
      for (let i = 0; i < pending.length; i++) {
        const name = pending[i];
        if (name === undefined) continue;
        const dir = serviceDir(name, svdir, true);
        const cd = enterable(dir);
        if (cd !== undefined) {
          sv.fail(name, 'unable to change to service directory', cd);
          pending[i] = undefined;
          continue;
        }
        if (sv.check(name, dir) !== 0) pending[i] = undefined;
        else done = false;
        if (pending[i] !== undefined && elapsed > waitSec) {
          sv.timeout(name, dir);
          pending[i] = undefined;
        }
      }
      if (done) break;
      await new Promise((r) => setTimeout(r, POLL_MS));
      nowMs = Date.now();
      sv.now = taiSecond(nowMs);
    }
  }
  return Math.min(sv.rc, 99);
}
