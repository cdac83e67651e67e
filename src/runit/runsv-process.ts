// SPDX-License-Identifier: MIT
// The process side of runsv: starts ./run, ./finish and ./log/run, runs control/C
// scripts, and drives the rules of supervisor.ts with runit's loop (runsv.c: main).
// One turn: start what should run; wait for an event; reap the children that
// exited (pausing one second when a service restarts too fast); take ONE byte from
// each control FIFO, main first; act on SIGTERM; exit once the service is down and
// exit was asked for.
//
// Node workarounds, each where it lives:
// - no fork/execve: child_process.spawn. Its exec path (execvp) would run a file
//   without `#!` through /bin/sh, where runsv's execve fails with ENOEXEC; we check
//   the file first (checkExec) so a broken ./run fails exactly as in runit.
// - a start that fails is, in runit, a forked child that prints a fatal line and exits
//   111; we start `/bin/sh -c 'printf ...; exit 111'` instead, so the pid, the status
//   files, ./finish's `111 0` and the throttle all come out the same.
// - no sleep(1) inside the loop: the throttle is an awaited timer during which the
//   loop takes no control byte and no signal, as runsv is blocked in sleep().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, constants, openSync, readSync, statSync, accessSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Messages } from '../lib/die.js';
import { unableText } from '../lib/die.js';
import { errstr } from '../lib/errstr.js';
import { makeLogPipe, makeSuperviseDir, openControl, openOk, SetupError, StatusWriter, takeLock, type ControlFifo } from './runsv-files.js';
import { childExited, control, exitStep, Service, startService, wantsStart, type ExitInfo, type Signal, type SupervisorHost } from './supervisor.js';

export { SetupError };

interface Exited { pid: number; info: ExitInfo }

/** Why `path` cannot be executed by execve(2), as an errno code, or undefined when it can. */
export function checkExec(path: string): string | undefined {
  try {
    const st = statSync(path);
    if (st.isDirectory()) return 'EACCES';
    accessSync(path, constants.X_OK);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? 'EACCES';
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return undefined; // execute-only binary: execve may still work; let spawn decide
  }
  const head = Buffer.alloc(4);
  let n = 0;
  try {
    n = readSync(fd, head, 0, 4, 0);
  } catch { /* unreadable: as above */ }
  closeSync(fd);
  if (n >= 2 && head[0] === 0x23 && head[1] === 0x21) return undefined;
  if (n === 4 && head.readUInt32BE(0) === 0x7f454c46) return undefined;
  return 'ENOEXEC';
}

const SIGNUM: Readonly<Record<string, number>> = osConstants.signals as unknown as Record<string, number>;

export class Runsv {
  readonly main: Service;
  log: Service | undefined;
  private logPipe: { read: number; write: number } | undefined;
  private readonly exits: Exited[] = [];
  private readonly bytes: number[][] = [[], []];
  private sigterm = false;
  private poke: (() => void) | undefined;
  private readonly writers: StatusWriter[] = [];
  private controls: ControlFifo[] = [];
  private readonly held: number[] = [];

  constructor(private readonly dir: string, private readonly msg: Messages) {
    this.main = new Service(false, Date.now());
  }

  /** runsv.c main up to the loop. Throws SetupError for runit's fatal lines. */
  setup(): void {
    try {
      process.chdir(this.dir);
    } catch (e) {
      throw new SetupError(unableText('change to directory', e));
    }
    if (exists('down')) this.main.want = 'down';
    let logIsDir = false;
    try {
      logIsDir = statSync('log').isDirectory();
      if (!logIsDir) this.msg.warn('./log: not a directory.');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.msg.warn(unableText('stat() ./log: ', e));
    }
    makeSuperviseDir('.');
    this.held.push(takeLock('.', false));
    if (logIsDir) {
      this.log = new Service(true, Date.now());
      if (exists('log/down')) this.log.want = 'down';
      makeSuperviseDir('log');
      this.held.push(takeLock('log', true));
      this.logPipe = makeLogPipe(`log/supervise/.logpipe.${process.pid}`);
    }
    this.writers.push(new StatusWriter('.', (t) => this.msg.warn(t)));
    this.controls.push(openControl('.', (b) => this.queue(0, b)));
    this.writers[0]!.write(this.main);
    if (this.log) {
      this.writers.push(new StatusWriter('log', (t) => this.msg.warn(t)));
      this.controls.push(openControl('log', (b) => this.queue(1, b)));
      this.writers[1]!.write(this.log);
    }
    this.held.push(openOk('.'));
    if (this.log) this.held.push(openOk('log'));
  }

  /** SIGTERM to runsv: the same as `x` on the main control FIFO, at the end of the next turn. */
  terminate(): void {
    this.sigterm = true;
    this.wake();
  }

  /** The loop; resolves with the exit code once exit was asked for and everything is down. */
  async run(): Promise<number> {
    const host = this.host();
    const logHost = this.host(true);
    for (;;) {
      if (this.log && wantsStart(this.log)) startService(this.log, logHost);
      if (wantsStart(this.main)) startService(this.main, host);
      await this.next();
      for (let e = this.exits.shift(); e; e = this.exits.shift()) {
        let throttle = false;
        if (e.pid === this.main.pid) throttle = childExited(this.main, e.info, host);
        else if (this.log && e.pid === this.log.pid) throttle = childExited(this.log, e.info, logHost);
        if (throttle) await sleep(1000);
      }
      const c0 = this.bytes[0]!.shift();
      if (c0 !== undefined) control(this.main, String.fromCharCode(c0), host);
      const c1 = this.bytes[1]!.shift();
      if (c1 !== undefined && this.log) control(this.log, String.fromCharCode(c1), logHost);
      if (this.sigterm) {
        control(this.main, 'x', host);
        this.sigterm = false;
      }
      const step = exitStep(this.main, this.log);
      if (step === 'exit') {
        this.close();
        return 0;
      }
      if (step === 'close-log' && this.log) {
        this.log.want = 'exit';
        this.writers[1]!.write(this.log);
        this.closeLogPipe();
      }
    }
  }

  private queue(which: 0 | 1, b: Buffer): void {
    this.bytes[which]!.push(...b);
    this.wake();
  }

  private pending(): boolean {
    return this.exits.length > 0 || this.bytes[0]!.length > 0 || this.bytes[1]!.length > 0 || this.sigterm;
  }

  private wake(): void {
    const p = this.poke;
    if (p && this.pending()) {
      this.poke = undefined;
      p();
    }
  }

  private next(): Promise<void> {
    if (this.pending()) return Promise.resolve();
    return new Promise((res) => { this.poke = res; });
  }

  private host(islog = false): SupervisorHost {
    const svcOf = (): Service => (islog ? this.log! : this.main);
    return {
      now: () => Date.now(),
      custom: (c) => this.custom(c),
      signal: (pid, sig) => signal(pid, sig),
      spawn: (svc, argv) => this.spawn(svc, argv),
      update: () => this.writers[islog ? 1 : 0]!.write(svcOf()),
      finishReadable: () => readable('finish'),
    };
  }

  private stdioFor(svc: Service): [number, number, number] {
    if (!this.logPipe) return [0, 1, 2];
    return svc.islog ? [this.logPipe.read, 1, 2] : [0, this.logPipe.write, 2];
  }

  // runsv.c: startservice, the fork/exec part
  private spawn(svc: Service, argv: string[]): number {
    const cwd = svc.islog ? 'log' : '.';
    const shown = svc.islog ? `log/${argv[0]}` : argv[0]!;
    const stdio = this.stdioFor(svc);
    const why = checkExec(`${cwd}/${argv[0]}`);
    let child: ChildProcess | undefined;
    if (why === undefined) {
      child = spawn(argv[0]!, argv.slice(1), { cwd, stdio });
      if (child.pid === undefined) {
        const c = child;
        child = undefined;
        c.on('error', () => {});
      }
    }
    if (!child) {
      const text = `${this.msg.prefix}: fatal: unable to start ${shown}: ${errstr(why ?? 'EACCES')}`;
      child = spawn('/bin/sh', ['-c', 'printf "%s\\n" "$0" >&2; exit 111', text], { stdio });
    }
    const pid = child.pid ?? 0;
    child.on('exit', (code, sig) => {
      this.exits.push({ pid, info: { code: code ?? 0, signal: sig ? (SIGNUM[sig] ?? 0) : 0, core: false } });
      this.wake();
    });
    child.on('error', () => {});
    return pid;
  }

  // runsv.c: custom. Synchronous, as runit waits for the script with everything else on hold.
  private custom(c: string): boolean {
    const path = `control/${c}`;
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.msg.warn(unableText(`stat ${path}`, e));
      return false;
    }
    if (!(st.mode & 0o100)) return false;
    const r = spawnSync(path, [], { stdio: [0, this.logPipe ? this.logPipe.write : 1, 2] });
    if (r.error) {
      this.msg.fatal(unableText('run control/?', r.error));
      return false;
    }
    // runit takes the exit code as wait_status >> 8: a script killed by a signal reads 0.
    return (r.status ?? 0) === 0;
  }

  private closeLogPipe(): void {
    if (!this.logPipe) return;
    for (const fd of [this.logPipe.write, this.logPipe.read]) {
      try { closeSync(fd); } catch (e) { this.msg.warn(unableText('close logpipe', e)); }
    }
    this.logPipe = undefined;
  }

  private close(): void {
    for (const c of this.controls) {
      c.socket.destroy();
      try { closeSync(c.keeper); } catch { /* closing anyway */ }
    }
    this.controls = [];
    this.closeLogPipe();
  }
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}

function readable(path: string): boolean {
  try {
    closeSync(openSync(path, constants.O_RDONLY | constants.O_NONBLOCK));
    return true;
  } catch {
    return false;
  }
}

function signal(pid: number, sig: Signal): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, sig);
  } catch { /* already gone: its exit is on the way */ }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}
