// SPDX-License-Identifier: MIT
// Standalone mode: listen, and serve every connection in its own process of this
// same executable (socket.c start_accept_loop forks one per connection). Node cannot
// fork, and starting a fresh process per connection costs about 100 ms, so we keep
// PREFORK processes started ahead of need, each waiting on an IPC channel; an
// accepted socket is handed to a waiting one (child_process send() with the socket
// as handle: the descriptor moves over the channel, SCM_RIGHTS), together with the
// current configuration, and a fresh spare is started. Each process serves exactly
// one connection and exits, so a crash, a slow client or a per-module uid/gid
// touches only that connection, as with rsync's fork.
// SIGTERM: stop accepting, end the spares, give running connections DRAIN_MS to
// finish, then TERM them, then resolve. SIGHUP: re-read the configuration; a broken
// file is logged and the previous configuration stays in force. New connections get
// the configuration current when they are accepted.
// A spare starts at a lower priority (SPARE_NICE above the daemon's own nice value)
// and gets the daemon's priority back when it is handed a connection: starting one
// (about 0.1 s of CPU) then does not slow the transfer whose connection made us start
// it. Only as root, which may raise a priority again; otherwise spares start at the
// daemon's priority. Relative, so that a daemon run under `nice` or `chpst -n` never
// serves a connection above the priority it was given.
import type { ChildProcess } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { readdirSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';
import type { DaemonConfig } from './config.js';

/** How long SIGTERM waits for running connections before terminating them. */
export const DRAIN_MS = 10_000;
/** After that, how long we wait for them to die. */
const KILL_WAIT_MS = 3_000;
/** Processes kept started and waiting for a connection. */
export const PREFORK = 2;
/** How much nicer than the daemon a spare is until it gets a connection. */
const SPARE_NICE = 10;

/** Parent -> child: serve this connection (the socket travels as the message's handle). */
export interface ConnMessage {
  type: 'conn';
  config: DaemonConfig;
}

/** Child -> parent: ready to take a connection. */
export interface ReadyMessage {
  type: 'ready';
}

export interface ListenerOptions {
  port: number;
  /** Bind address; '' = all (IPv6 any, which takes IPv4 too where the system allows). */
  address: string;
  backlog: number;
  config: DaemonConfig;
  /** Re-read the configuration (SIGHUP); throws on a broken file. */
  reload: () => DaemonConfig;
  /** Start a connection process with an IPC channel (stdio [ignore, ignore, inherit, ipc]). */
  spawnChild: () => ChildProcess;
  log: (line: string) => void;
  /** Called with the bound port once listening. */
  onListening?: (port: number) => void;
}

export interface RunningListener {
  server: Server;
  /** Resolves when the listener has shut down. */
  done: Promise<void>;
  shutdown: () => void;
  reload: () => void;
  /** Processes serving a connection. */
  busy: Set<ChildProcess>;
}

/**
 * Give every thread of process `pid` the nice value `nice`: Linux keeps one per thread
 * (setpriority on a pid changes only that thread), and Node's helper threads (garbage
 * collection, compilation) inherited the spare's. Best effort: a process that is gone
 * fails on its own later.
 */
function renice(pid: number, nice: number): void {
  let tids: number[] = [pid];
  try {
    tids = readdirSync(`/proc/${pid}/task`).map(Number).filter((n) => n > 0);
  } catch {
    // No /proc: the main thread only.
  }
  for (const tid of tids) {
    try {
      setPriority(tid, nice);
    } catch {
      // The thread ended meanwhile.
    }
  }
}

export function startListener(o: ListenerOptions): Promise<RunningListener> {
  let config = o.config;
  const busy = new Set<ChildProcess>();
  const starting = new Set<ChildProcess>();
  const ready: ChildProcess[] = [];
  const waiting: Socket[] = [];
  const server = createServer({ pauseOnConnect: true });
  let stopping = false;
  let finished = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((res) => { resolveDone = res; });

  const finish = (): void => {
    if (finished) return;
    finished = true;
    resolveDone();
  };

  const niced = new Set<ChildProcess>();
  // Our own nice value, read once: what a spare gets back with its connection.
  let base = 0;
  try {
    base = getPriority();
  } catch {
    // Taken as 0.
  }

  const hand = (child: ChildProcess, sock: Socket): void => {
    busy.add(child);
    if (niced.delete(child) && child.pid) renice(child.pid, base);
    const msg: ConnMessage = { type: 'conn', config };
    child.send(msg, sock, (err) => {
      if (err) {
        o.log(`unable to pass a connection to its process: ${err.message}`);
        sock.destroy();
        child.kill('SIGTERM');
      }
    });
  };

  const spare = (): void => {
    if (stopping || starting.size + ready.length >= PREFORK + waiting.length) return;
    let child: ChildProcess;
    try {
      child = o.spawnChild();
    } catch (err) {
      o.log(`unable to start a connection process: ${(err as Error).message}`);
      return;
    }
    starting.add(child);
    if (process.getuid?.() === 0 && child.pid) {
      try {
        setPriority(child.pid, Math.min(19, base + SPARE_NICE));
        niced.add(child);
      } catch {
        // It runs at the normal priority.
      }
    }
    child.on('message', (m: ReadyMessage) => {
      if (m?.type !== 'ready' || !starting.delete(child)) return;
      const sock = waiting.shift();
      if (sock) hand(child, sock);
      else ready.push(child);
    });
    child.on('error', (err) => o.log(`connection process failed: ${err.message}`));
    child.on('exit', () => {
      niced.delete(child);
      starting.delete(child);
      busy.delete(child);
      const i = ready.indexOf(child);
      if (i >= 0) ready.splice(i, 1);
      if (stopping) {
        if (busy.size === 0) finish();
        return;
      }
      spare();
    });
  };

  server.on('connection', (sock: Socket) => {
    sock.on('error', () => {});
    if (stopping) {
      sock.destroy();
      return;
    }
    const child = ready.shift();
    if (child) hand(child, sock);
    else waiting.push(sock);
    spare();
  });

  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    for (const s of waiting.splice(0)) s.destroy();
    for (const c of [...ready.splice(0), ...starting]) c.kill('SIGTERM');
    starting.clear();
    if (busy.size === 0) return finish();
    o.log(`SIGTERM: waiting up to ${DRAIN_MS / 1000} s for ${busy.size} connection(s)`);
    const t1 = setTimeout(() => {
      for (const c of busy) c.kill('SIGTERM');
      const t2 = setTimeout(() => {
        for (const c of busy) c.kill('SIGKILL');
        finish();
      }, KILL_WAIT_MS);
      t2.unref();
    }, DRAIN_MS);
    t1.unref();
  };

  const reload = (): void => {
    try {
      config = o.reload();
      o.log('configuration re-read');
    } catch (err) {
      o.log(`configuration not re-read, keeping the previous one: ${(err as Error).message}`);
    }
  };

  return new Promise((res, rej) => {
    server.once('error', rej);
    const opts = o.address ? { port: o.port, host: o.address, backlog: o.backlog } : { port: o.port, backlog: o.backlog };
    server.listen(opts, () => {
      server.off('error', rej);
      server.on('error', (err) => o.log(`listener error: ${err.message}`));
      const a = server.address();
      o.onListening?.(typeof a === 'object' && a ? a.port : o.port);
      spare();
      res({ server, done, shutdown, reload, busy });
    });
  });
}
