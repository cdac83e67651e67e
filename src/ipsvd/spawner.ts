// SPDX-License-Identifier: MIT
// Where tcpsvd's per-connection programs are started: in helper processes
// ("spawners": this same executable, `tcpsvd` in spawner mode) when there is more
// than one core, else in the server itself. ipsvd forks itself per connection
// (tcpsvd.c: connection_accept, fork, then pathexec); a fork of that small C
// process costs little.
//
// Node workaround: Node has no fork(); child_process.spawn() forks the whole Node
// process (libuv uses fork(), not vfork(), on Linux) and BLOCKS the caller until
// the child has exec'd: about 1 to 2 ms of one core per connection, with the
// server's event loop stopped meanwhile. Threads do not help (forks of one address
// space serialise); separate processes do. So the server keeps the listening
// socket and all policy (limits, instructions, the environment, -v logging) and
// hands each accepted socket over Node's IPC channel (SCM_RIGHTS) to the least
// busy spawner, which spawns the program on it, closes its copy and reports the
// pid, later the exit code. The server keeps its own copy of the socket until the
// pid is reported, so that a spawner dying before that loses no client: the
// connection is then served in the server itself. Children of a dead spawner
// (orphans now, reaped by init) are watched until they are gone, so -c stays true.
// A dead spawner is restarted after a pause; until then, or when none is left,
// programs are spawned in the server as before.
// By default the spawners start only once a connection arrives while another
// program still runs: a quiet service (the usual inetd-style one) never pays for
// them (about 10 MB of private memory each). A number set with the environment
// knob starts them at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { statFields } from '../lib/procstat.js';
import { spawnApplet } from '../lib/self-exec.js';
import { buildEnv } from './env.js';
import type { EnvOp } from './instruct.js';

/** The operand that starts spawner mode (not a valid ipsvd option, so no user types it). */
export const SPAWNER_ARG = '--svbox-tcpsvd-spawner';

/** Environment knob: how many spawners (0: none, spawn in the server). */
export const SPAWNERS_ENV = 'SVBOX_TCPSVD_SPAWNERS';

/** At most this many spawners by default: more than the cores only adds memory. */
const MAX_DEFAULT = 4;
/** Pause before a dead spawner is started again (a spawner that cannot start must not loop). */
const RESTART_MS = 1000;
/** Spawners of one slot that may end in a row without saying they run before it is given up. */
const MAX_FAILURES = 3;
/**
 * The version of the messages between server and spawner: the executable may be
 * replaced while a server runs, and a spawner is started from the file as it is then.
 */
const SPAWNER_PROTOCOL = 1;
/** How often the children of a dead spawner are checked for having ended. */
const ORPHAN_POLL_MS = 100;

/** What runs for one connection, described without the socket. */
export interface Job {
  argv: readonly string[];
  /** Environment changes applied in order to the server's environment (buildEnv). */
  env: readonly (readonly EnvOp[])[];
}

/** How a job turned out: started then exited, or failed, or lost. */
export interface JobEvents {
  started(pid: number): void;
  failed(err: NodeJS.ErrnoException): void;
  exited(code: number): void;
  /** Its spawner died, maybe having started the program, and we cannot tell (no /proc): the connection is given up. */
  lost(): void;
}

export interface SpawnSettings {
  /** The server's environment, the base every job's changes apply to. */
  env: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

/**
 * Number of spawners: the knob if set; else none on one core (nothing runs in
 * parallel) or with -c 1; else one more than the cores (a spawner waits, blocked,
 * while its child gets from fork to exec: a spare one keeps the cores busy;
 * measured on 2 cores: 3 beat 2 by about 5 %, 4 did no better), at most 4 and at
 * most -c.
 */
export function spawnerCount(cmax: number, knob: string | undefined, cores = availableParallelism()): number {
  if (knob !== undefined && /^\d+$/.test(knob)) return Math.min(Number(knob), cmax);
  if (cores < 2 || cmax < 2) return 0;
  return Math.min(cores + 1, MAX_DEFAULT, cmax);
}

// Messages between the server and a spawner (JSON over the IPC channel).
interface InitMsg { t: 'init'; v: number; env: NodeJS.ProcessEnv; uid?: number; gid?: number }
// An unset variable ([name, undefined]) arrives as [name, null]: JSON has no undefined.
interface RunMsg { t: 'run'; id: number; argv: string[]; env: [string, string | null][][] }
interface PidMsg { id: number; pid: number }
interface ErrMsg { id: number; err: { code?: string; errno?: number; syscall?: string; message: string } }
interface ExitMsg { id: number; exit: number }
interface ReadyMsg { ready: true }
/** A job the spawner cannot run (its socket did not arrive, e.g. at its fd limit): the server runs it. */
interface BackMsg { id: number; back: true }
type Report = PidMsg | ErrMsg | ExitMsg | ReadyMsg | BackMsg;

/** Spawn job on fd (as fd 0 and 1, fd 2 inherited); the one place programs are started. */
function spawnOn(fd: number, job: Job, s: SpawnSettings): ChildProcess {
  return spawn(job.argv[0]!, job.argv.slice(1), {
    stdio: [fd, fd, 'inherit'], env: buildEnv(s.env, ...job.env),
    ...(s.uid !== undefined ? { uid: s.uid, gid: s.gid ?? s.uid } : {}),
  });
}

/** Run job in this process; events as JobEvents (a failed exec is reported on a later tick, as Node does). */
function runHere(fd: number, job: Job, s: SpawnSettings, ev: JobEvents): void {
  let child: ChildProcess;
  try {
    child = spawnOn(fd, job, s);
  } catch (err) {
    queueMicrotask(() => ev.failed(err as NodeJS.ErrnoException));
    return;
  }
  if (child.pid === undefined) {
    child.once('error', (err) => ev.failed(err as NodeJS.ErrnoException));
    return;
  }
  const pid = child.pid;
  // A spawner must not outlive the server for its children: they stay, as ipsvd's do.
  child.unref();
  // ipsvd logs wait_exitcode(): a child killed by a signal shows `exit 0`.
  child.once('exit', (code) => ev.exited(code ?? 0));
  ev.started(pid);
}

/** A connection handed to a spawner, until it reports the pid (then until the exit). */
interface InFlight {
  handle: SocketHandle;
  job: Job;
  ev: JobEvents;
  pid?: number;
}

interface Slot {
  proc: ChildProcess | undefined;
  /** The spawner has said it is running: until then jobs are run in the server. */
  ready: boolean;
  /** Handed over, pid not yet reported: how busy this spawner is. */
  pending: number;
  jobs: Map<number, InFlight>;
  /** Spawners of this slot that ended in a row without ever saying they run. */
  failures: number;
}

/** The native handle of an accepted socket (net.Socket's _handle): what the IPC channel can pass. */
export interface SocketHandle { fd: number }

/** The spawners of one server, with the fallback to spawning in the server itself. */
export class SpawnerPool {
  private readonly slots: Slot[] = [];
  private nextId = 0;
  private rr = 0;
  private started = false;

  /** size spawners, started now when eager, else by the first run() that finds the server busy. */
  constructor(private readonly settings: SpawnSettings, size: number, eager: boolean) {
    for (let i = 0; i < size; i++) this.slots.push({ proc: undefined, ready: false, pending: 0, jobs: new Map(), failures: 0 });
    if (eager) this.start();
  }

  private start(): void {
    this.started = true;
    for (const slot of this.slots) this.startSlot(slot);
  }

  /** Spawners alive now (for tests and logs). */
  pids(): number[] {
    return this.slots.flatMap((s) => (s.proc?.pid !== undefined ? [s.proc.pid] : []));
  }

  /**
   * Run job with the socket whose handle is given as its fd 0 and 1. The caller
   * keeps its socket open until started() or failed() (a dead spawner's job is
   * then run here on it) and closes it then. busy: another connection is being
   * served now (what starts lazy spawners).
   */
  run(handle: SocketHandle, job: Job, ev: JobEvents, busy: boolean): void {
    if (!this.started && busy) this.start();
    // Measured: spawning here while only one connection is in flight
    // saves an IPC round trip but loses under load, and a sequential client's next
    // connection often arrives before we have seen its previous program end; so a
    // spawner is always used when one runs.
    const slot = this.pick();
    if (!slot) {
      runHere(handle.fd, job, this.settings, ev);
      return;
    }
    const id = ++this.nextId;
    slot.jobs.set(id, { handle, job, ev });
    slot.pending++;
    const msg: RunMsg = { t: 'run', id, argv: [...job.argv], env: job.env.map((ops) => ops.map(([k, v]) => [k, v ?? null])) };
    // A raw handle ('net.Native'): Node sends a copy and leaves ours open.
    slot.proc!.send(msg, handle as never, () => { /* a failed send shows as the spawner's end */ });
  }

  /**
   * Whether a connection handed to a spawner still waits for its program to start (or
   * fail, or come back): the server waits for none to before it exits, so that no
   * socket still queued on a channel is closed unserved.
   */
  waiting(): boolean {
    return this.slots.some((s) => s.pending > 0);
  }

  /** The connected spawner with the fewest connections waiting for a pid, round robin among equals. */
  private pick(): Slot | undefined {
    let best: Slot | undefined;
    const n = this.slots.length;
    for (let k = 0; k < n; k++) {
      const s = this.slots[(this.rr + k) % n]!;
      if (!s.ready || !s.proc?.connected) continue;
      if (!best || s.pending < best.pending) best = s;
    }
    this.rr = (this.rr + 1) % Math.max(n, 1);
    return best;
  }

  private startSlot(slot: Slot): void {
    let proc: ChildProcess;
    try {
      proc = spawnApplet('tcpsvd', [SPAWNER_ARG], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    } catch {
      this.restartLater(slot);
      return;
    }
    slot.proc = proc;
    // A spawner that could not be started (no pid) reports only this; others end with close.
    proc.on('error', () => { if (proc.pid === undefined) this.lost(slot, proc); });
    // Reports come in batches: all of one turn of the spawner's event loop.
    proc.on('message', (batch: Report[]) => { for (const m of batch) this.report(slot, m); });
    // 'close' comes after the last message of the channel, unlike 'exit'.
    proc.once('close', () => this.lost(slot, proc));
    const init: InitMsg = { t: 'init', v: SPAWNER_PROTOCOL, env: this.settings.env };
    if (this.settings.uid !== undefined) { init.uid = this.settings.uid; init.gid = this.settings.gid ?? this.settings.uid; }
    proc.send(init, () => { /* as above */ });
  }

  private report(slot: Slot, m: Report): void {
    if ('ready' in m) {
      slot.ready = true;
      slot.failures = 0;
      return;
    }
    const j = slot.jobs.get(m.id);
    if (!j) return;
    if ('back' in m) {
      slot.pending--;
      slot.jobs.delete(m.id);
      runHere(j.handle.fd, j.job, this.settings, j.ev);
    } else if ('pid' in m) {
      slot.pending--;
      j.pid = m.pid;
      j.ev.started(m.pid);
    } else if ('err' in m) {
      slot.pending--;
      slot.jobs.delete(m.id);
      const err = Object.assign(new Error(m.err.message), m.err) as NodeJS.ErrnoException;
      j.ev.failed(err);
    } else {
      slot.jobs.delete(m.id);
      j.ev.exited(m.exit);
    }
  }

  /** A spawner ended: serve what it had not started, watch what it had, start another later. */
  private lost(slot: Slot, proc: ChildProcess): void {
    if (slot.proc !== proc) return;
    slot.proc = undefined;
    if (!slot.ready) slot.failures++;
    slot.ready = false;
    // In the order handed over, which is the order the spawner works in.
    const jobs = [...slot.jobs.entries()].sort((a, b) => a[0] - b[0]).map(([, j]) => j);
    slot.jobs.clear();
    slot.pending = 0;
    // A spawner reports a pid as soon as spawn() returns, but a failed exec only on a
    // later tick, by when it may have started the next job: any job without a report may
    // have a program running without our knowing. It does if another process holds its
    // socket. (One whose program has already finished is not seen, and its client is
    // served twice: that needs the spawner killed within the moment between fork and
    // report, and the program done before we look.)
    const doubt = jobs.filter((j) => j.pid === undefined);
    const holders = doubt.length > 0 ? socketHolders(doubt.map((j) => j.handle.fd)) : undefined;
    for (const j of jobs) {
      if (j.pid !== undefined) {
        watchOrphan(j.pid, j.ev);
        continue;
      }
      const holder = holders === undefined ? 0 : holders.get(j.handle.fd);
      if (holder === undefined) {
        // Never started: serve it here, on our copy of the socket.
        runHere(j.handle.fd, j.job, this.settings, j.ev);
      } else if (holder === 0) {
        j.ev.lost();
      } else {
        j.ev.started(holder);
        watchOrphan(holder, j.ev);
      }
    }
    this.restartLater(slot);
  }

  private restartLater(slot: Slot): void {
    // One that never comes up (a binary replaced by another version, which refuses our
    // init; no memory): after a few tries this slot stays empty, the server spawns.
    if (slot.failures >= MAX_FAILURES) return;
    setTimeout(() => this.startSlot(slot), RESTART_MS).unref();
  }
}

/**
 * For each of our fds, which other process holds the same socket open: its pid (the
 * topmost one when a program has passed it on to its own children), or no entry when
 * none does; undefined when we cannot tell at all (no /proc). One scan of
 * /proc/PID/fd of every process we may read: done only when a spawner has died.
 */
function socketHolders(fds: number[]): Map<number, number> | undefined {
  const byInode = new Map<string, number>(); // socket:[inode] -> our fd
  let pids: string[];
  try {
    for (const fd of fds) byInode.set(readlinkSync(`/proc/self/fd/${fd}`), fd);
    pids = readdirSync('/proc').filter((e) => /^\d+$/.test(e) && Number(e) !== process.pid);
  } catch {
    return undefined;
  }
  const holders = new Map<number, Map<number, number>>(); // our fd -> (pid -> ppid)
  for (const pid of pids) {
    try {
      const mine = new Set<number>();
      for (const f of readdirSync(`/proc/${pid}/fd`)) {
        const fd = byInode.get(readlinkSync(`/proc/${pid}/fd/${f}`));
        if (fd !== undefined) mine.add(fd);
      }
      if (mine.size === 0) continue;
      const ppid = Number(statFields(Number(pid))[1]);
      for (const fd of mine) {
        if (!holders.has(fd)) holders.set(fd, new Map());
        holders.get(fd)!.set(Number(pid), ppid);
      }
    } catch {
      continue; // gone meanwhile, or not ours to read
    }
  }
  const out = new Map<number, number>();
  for (const [fd, procs] of holders) {
    for (const [pid, ppid] of procs) if (!procs.has(ppid)) { out.set(fd, pid); break; }
  }
  return out;
}

/** Whether pid has ended: gone, or a zombie nobody has reaped yet (/proc/PID/stat state Z). */
function hasEnded(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // Only "no such process" means gone: EPERM is a program that changed its user.
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  try {
    return statFields(pid)[0] === 'Z';
  } catch {
    // Alive a moment ago; gone now, or no /proc: the next check tells.
    return false;
  }
}

/**
 * A child of a dead spawner: init (or a subreaper) reaps it, so we cannot learn
 * its exit code; poll until it has ended and report that.
 * compat: its end is logged as `exit 111` (unknown), which ipsvd never has to do.
 */
function watchOrphan(pid: number, ev: JobEvents): void {
  const check = (): void => {
    if (hasEnded(pid)) ev.exited(111);
    else setTimeout(check, ORPHAN_POLL_MS);
  };
  check();
}

/** Spawner mode: spawn what the server sends, report pids and exits, end with the server. */
export function runSpawner(): Promise<number> {
  return new Promise((res) => {
    if (!process.send) return res(111);
    // The server may be gone when a child ends: nothing to tell then.
    // Every message wakes the server up: exits wait for the end of this turn of our
    // event loop, to go together; a pid or a failure goes at once (with the exits
    // waiting), before we take the next job: the server relies on that when we die.
    let batch: Report[] = [];
    const flush = (): void => {
      if (batch.length === 0) return;
      const b = batch;
      batch = [];
      // The server may be gone when a child ends: nothing to tell then.
      process.send?.(b, undefined, undefined, () => {});
    };
    const send = (m: Report, now: boolean): void => {
      if (batch.push(m) === 1 && !now) setImmediate(flush);
      if (now) flush();
    };
    let settings: SpawnSettings | undefined;
    process.on('message', (m: InitMsg | RunMsg, handle: { fd: number; close(): void } | undefined) => {
      if (m.t === 'init') {
        // Another version's server: we do not speak its messages; it spawns itself.
        if (m.v !== SPAWNER_PROTOCOL) {
          process.disconnect?.();
          return res(111);
        }
        settings = { env: m.env, ...(m.uid !== undefined ? { uid: m.uid, gid: m.gid ?? m.uid } : {}) };
        send({ ready: true }, true);
        return;
      }
      if (m.t !== 'run') return;
      if (!handle) {
        send({ id: m.id, back: true }, true);
        return;
      }
      const id = m.id;
      if (!settings) {
        handle.close();
        send({ id, err: { message: 'spawner not initialised' } }, true);
        return;
      }
      runHere(handle.fd, { argv: m.argv, env: m.env.map((ops) => ops.map(([k, v]): EnvOp => [k, v ?? undefined])) }, settings, {
        started: (pid) => send({ id, pid }, true),
        failed: (err) => send({ id, err: { ...(err.code ? { code: err.code } : {}), ...(err.errno !== undefined ? { errno: err.errno } : {}), ...(err.syscall ? { syscall: err.syscall } : {}), message: err.message } }, true),
        exited: (code) => send({ id, exit: code }, false),
        lost: () => { /* only the server gives jobs up */ },
      });
      // The child has its copies (or there is no child): ours must go.
      handle.close();
    });
    // The server exited: so do we; our running children stay, as ipsvd's do.
    process.on('disconnect', () => res(0));
  });
}
