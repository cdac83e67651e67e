// SPDX-License-Identifier: MIT
// Standalone mode: listen, and serve every connection in its own process started
// from this same executable (socket.c start_accept_loop forks; Node cannot fork, so
// the child is a fresh `rsyncd` whose stdin and stdout are the accepted socket: it
// runs exactly the inetd path). A crash, a slow client or a per-module uid/gid then
// touches only that connection. The parsed configuration goes to the child as JSON
// on its fd 3, so a SIGHUP re-read (validated here first) decides what new
// connections see while running ones keep theirs.
// SIGTERM: stop accepting, give running connections DRAIN_MS to finish, then TERM
// them, then resolve. SIGHUP: re-read the configuration; a broken file is logged and
// the previous configuration stays in force.
import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import type { DaemonConfig } from './config.js';

/** How long SIGTERM waits for running connections before terminating them. */
export const DRAIN_MS = 10_000;
/** After that, how long we wait for them to die. */
const KILL_WAIT_MS = 3_000;

export interface ListenerOptions {
  port: number;
  /** Bind address; '' = all (IPv6 any, which takes IPv4 too where the system allows). */
  address: string;
  backlog: number;
  config: DaemonConfig;
  /** Re-read the configuration (SIGHUP); throws on a broken file. */
  reload: () => DaemonConfig;
  /** Start the per-connection process with the given stdio. */
  spawnChild: (stdio: SpawnOptions['stdio']) => ChildProcess;
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
  children: Set<ChildProcess>;
}

export function startListener(o: ListenerOptions): Promise<RunningListener> {
  let config = o.config;
  const children = new Set<ChildProcess>();
  const server = createServer({ pauseOnConnect: true });
  let stopping = false;
  let resolveDone!: () => void;
  const done = new Promise<void>((res) => { resolveDone = res; });

  server.on('connection', (sock: Socket) => {
    if (stopping) {
      sock.destroy();
      return;
    }
    sock.on('error', () => {});
    let child: ChildProcess;
    try {
      child = o.spawnChild([sock, sock, 'inherit', 'pipe']);
    } catch (err) {
      o.log(`unable to start a connection process: ${(err as Error).message}`);
      sock.destroy();
      return;
    }
    children.add(child);
    const cfgPipe = child.stdio[3];
    if (cfgPipe && 'end' in cfgPipe) {
      (cfgPipe as NodeJS.WritableStream & { on: (e: string, f: () => void) => void }).on('error', () => {});
      (cfgPipe as NodeJS.WritableStream).end(JSON.stringify(config));
    }
    child.on('error', (err) => {
      o.log(`connection process failed: ${err.message}`);
      children.delete(child);
    });
    child.on('exit', () => {
      children.delete(child);
      if (stopping && children.size === 0) finish();
    });
    // The child holds its own copy of the descriptor; ours is no longer needed.
    sock.destroy();
  });

  let finished = false;
  const finish = (): void => {
    if (finished) return;
    finished = true;
    resolveDone();
  };

  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    if (children.size === 0) return finish();
    o.log(`SIGTERM: waiting up to ${DRAIN_MS / 1000} s for ${children.size} connection(s)`);
    const t1 = setTimeout(() => {
      for (const c of children) c.kill('SIGTERM');
      const t2 = setTimeout(() => {
        for (const c of children) c.kill('SIGKILL');
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
      res({ server, done, shutdown, reload, children });
    });
  });
}
