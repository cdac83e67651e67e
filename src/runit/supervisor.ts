// SPDX-License-Identifier: MIT
// The supervision rules of runit's runsv, separated from processes and files: one
// Service record per supervised program (./run or ./log/run) and the reactions to
// each event (a control byte, the child's exit, the loop asking "start now?").
// Everything with a side effect goes through SupervisorHost, so the same rules run
// against real processes in runsv and against a recording fake in the unit tests.
// Mirrors runsv.c: ctrl, startservice, stopservice, custom, and the reaping part of
// main (runit-compat.md §1.8-1.10).
import { RunState, type SvStatus } from './status.js';
import { tai64nFromMs } from '../lib/tai64n.js';

export type Want = 'up' | 'down' | 'exit';

/** How the last ./run ended: exit code, or the signal number that killed it. */
export interface ExitInfo { code: number; signal: number; core: boolean }

export class Service {
  pid = 0;
  state = RunState.Down;
  paused = false;
  gotTerm = false;
  want: Want = 'up';
  /** Status timestamp in ms: runsv start, start of ./run, or when the service went down. */
  startMs: number;
  last: ExitInfo = { code: 0, signal: 0, core: false };
  constructor(readonly islog: boolean, nowMs: number) {
    this.startMs = nowMs;
  }
}

export type Signal = 'SIGTERM' | 'SIGCONT' | 'SIGKILL' | 'SIGSTOP' | 'SIGHUP' | 'SIGALRM' | 'SIGINT' | 'SIGQUIT' | 'SIGUSR1' | 'SIGUSR2';

export interface SupervisorHost {
  now(): number;
  /** Run control/C synchronously; true when it exited 0 ("handled"). Never called for the log service. */
  custom(c: string): boolean;
  /** Signal the process (not its group); pid is never 0 here. */
  signal(pid: number, sig: Signal): void;
  /** Start argv[0] for this service; returns the child's pid. */
  spawn(svc: Service, argv: string[]): number;
  /** Write supervise/status, stat and pid for this service. */
  update(svc: Service): void;
  /** ./finish can be opened for reading (runsv.c tests exactly that, not the x bit). */
  finishReadable(): boolean;
}

/** The 20-byte record for this service (status.ts packs it). */
export function statusOf(s: Service): SvStatus {
  return {
    time: tai64nFromMs(s.startMs),
    pid: s.pid,
    paused: s.paused,
    want: s.want === 'up' ? 'u' : 'd',
    gotTerm: s.gotTerm,
    state: s.state,
  };
}

/** ./finish's arguments: exit code or -1 when killed; the low byte of the wait status. */
export function finishArgs(e: ExitInfo): [string, string] {
  const low = e.signal ? e.signal | (e.core ? 0x80 : 0) : 0;
  return [e.signal ? '-1' : String(e.code), String(low)];
}

/** The loop's question at the top of every turn (runsv.c main): start this service now? */
export function wantsStart(s: Service): boolean {
  if (s.pid !== 0) return false;
  return s.want === 'up' || (!s.islog && s.state === RunState.Finish);
}

// runsv.c: startservice
export function startService(s: Service, h: SupervisorHost): void {
  let argv: string[];
  if (s.state === RunState.Finish) {
    argv = ['./finish', ...finishArgs(s.last)];
  } else {
    argv = ['./run'];
    if (!s.islog) h.custom('u');
  }
  if (s.pid !== 0) stopService(s, h);
  const pid = h.spawn(s, argv);
  if (s.state !== RunState.Finish) {
    s.startMs = h.now();
    s.state = RunState.Run;
  }
  s.pid = pid;
  s.paused = false;
  s.gotTerm = false;
  h.update(s);
}

// runsv.c: stopservice
export function stopService(s: Service, h: SupervisorHost): void {
  if (s.pid !== 0 && !custom(s, 't', h)) {
    h.signal(s.pid, 'SIGTERM');
    s.gotTerm = true;
    h.update(s);
  }
  if (s.want === 'down') {
    if (s.pid !== 0) h.signal(s.pid, 'SIGCONT');
    custom(s, 'd', h);
  } else if (s.want === 'exit') {
    if (s.pid !== 0) h.signal(s.pid, 'SIGCONT');
    custom(s, 'x', h);
  }
}

function custom(s: Service, c: string, h: SupervisorHost): boolean {
  return s.islog ? false : h.custom(c);
}

const SIGNAL_OF: Readonly<Record<string, Signal>> = {
  a: 'SIGALRM', h: 'SIGHUP', i: 'SIGINT', q: 'SIGQUIT', '1': 'SIGUSR1', '2': 'SIGUSR2',
};

// runsv.c: ctrl. Unknown bytes are ignored.
export function control(s: Service, c: string, h: SupervisorHost): void {
  const running = s.state === RunState.Run;
  switch (c) {
    case 'd':
      s.want = 'down';
      h.update(s);
      if (running) stopService(s, h);
      return;
    case 'u':
      s.want = 'up';
      h.update(s);
      if (s.state === RunState.Down) startService(s, h);
      return;
    case 'x':
      if (s.islog) return;
      s.want = 'exit';
      h.update(s);
      if (running) stopService(s, h);
      return;
    case 't':
      if (running) stopService(s, h);
      return;
    case 'k':
      if (running && !custom(s, c, h)) h.signal(s.pid, 'SIGKILL');
      // compat: runit marks the service down at once; a running ./finish is then
      // taken for ./run when it exits, so finish runs a second time (as in runit).
      s.state = RunState.Down;
      return;
    case 'p':
      if (running && !custom(s, c, h)) h.signal(s.pid, 'SIGSTOP');
      s.paused = true;
      h.update(s);
      return;
    case 'c':
      if (running && !custom(s, c, h)) h.signal(s.pid, 'SIGCONT');
      s.paused = false;
      h.update(s);
      return;
    case 'o':
      s.want = 'down';
      h.update(s);
      if (s.state === RunState.Down) startService(s, h);
      return;
    default: {
      const sig = SIGNAL_OF[c];
      if (sig && running && !custom(s, c, h)) h.signal(s.pid, sig);
    }
  }
}

/**
 * The service's child exited (runsv.c main, the wait_nohang loop). Returns true when
 * runsv must now pause for a second before anything else (the restart throttle:
 * less than 1 s passed since the previous start).
 */
export function childExited(s: Service, e: ExitInfo, h: SupervisorHost): boolean {
  s.pid = 0;
  s.gotTerm = false;
  if (!s.islog) {
    s.last = e;
    if (s.state !== RunState.Finish && h.finishReadable()) {
      s.state = RunState.Finish;
      h.update(s);
      return false;
    }
  }
  s.state = RunState.Down;
  const deadline = s.startMs + 1000;
  s.startMs = h.now();
  h.update(s);
  return s.startMs < deadline;
}

/** What the loop does once the main service wants exit (runsv.c main, the end of each turn). */
export type ExitStep = 'none' | 'exit' | 'close-log';

export function exitStep(main: Service, log: Service | undefined): ExitStep {
  if (main.want !== 'exit' || main.state !== RunState.Down) return 'none';
  if (!log || log.pid === 0) return 'exit';
  return log.want === 'exit' ? 'none' : 'close-log';
}
