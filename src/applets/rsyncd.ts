// SPDX-License-Identifier: MIT
// rsyncd: the rsync daemon (what `rsync --daemon` does). With a socket on stdin
// (tcpsvd, inetd, or our own listener's per-connection child) it serves that one
// connection on stdin/stdout and exits; otherwise it listens and serves each
// connection in its own process of this same executable (src/rsync/listener.ts).
// Mirrors rsync's main.c daemon_main and clientserver.c; the protocol front end is
// src/rsync/daemon.ts.
// compat: it never detaches (it runs under runsv); --daemon and --no-detach are
// accepted and change nothing. Without `log file` the log goes to stderr (for
// svlogd) where rsync would use syslog.
// compat: the configuration is parsed whole at start and on SIGHUP; a malformed
// file refuses to start (rsync re-reads it at each connection and fails those).
import { closeSync, fstatSync, ftruncateSync, unlinkSync, writeSync } from 'node:fs';
import { Socket } from 'node:net';
import { lookup, reverse } from 'node:dns/promises';
import arg from 'arg';
import type { Io } from '../lib/applet.js';
import { Fatal, UsageError } from '../lib/die.js';
import { spawnApplet } from '../lib/self-exec.js';
import { normalizeAddr } from '../rsync/access.js';
import { ConfigError, loadConfig, parseDparam, type DaemonConfig } from '../rsync/config.js';
import { claimConnection } from '../rsync/connlimit.js';
import { DaemonLog } from '../rsync/daemon-log.js';
import { serveConnection, type TransferEngine } from '../rsync/daemon.js';
import { startListener, type ConnMessage, type ReadyMessage } from '../rsync/listener.js';

export const usage = '[--daemon] [--no-detach] [--config=FILE] [--port=PORT] [--address=ADDR] [--log-file=FILE] [--dparam=NAME=VALUE] [-v]';
export const help = `An rsync daemon that stock rsync 3.x clients pull from and push to. Serves one
connection on standard input when it is a socket (tcpsvd, inetd), otherwise
listens on PORT (default 873) and serves each connection in its own process.
Configuration: FILE (default /etc/rsyncd.conf), rsyncd.conf(5) format.
SIGTERM: stop accepting, let connections finish (10 s), exit. SIGHUP: re-read
FILE for new connections and reopen the log file.

Exit codes: 0 ok; 1 usage or configuration error; 10 cannot listen; 11 pid file
locked by another daemon; otherwise
rsync's exit values for the one connection served.`;
export const exitCodes = { usage: 1, fatal: 1 };

const DEFAULT_CONFIG = '/etc/rsyncd.conf';
const RSYNC_PORT = 873;
const RERR_SOCKETIO = 10;
/** Set by our listener in a connection process: the socket and the config arrive over IPC. */
const CHILD_ENV = 'SVBOX_RSYNCD_CHILD';
const VERSION = 'svbox (protocol 32)';

interface Options {
  config: string;
  port: number | undefined;
  address: string | undefined;
  logFile: string | undefined;
  dparams: [string, string][];
  verbose: number;
}

function parseArgs(argv: string[]): Options {
  let a;
  try {
    a = arg({
      '--daemon': Boolean, '--no-detach': Boolean, '--detach': Boolean, '--config': String, '--port': Number,
      '--address': String, '--log-file': String, '--dparam': [String], '--verbose': arg.COUNT,
      '-v': '--verbose', '-M': '--dparam',
    }, { argv, permissive: false });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (a._.length > 0) throw new UsageError(`unexpected argument: ${a._[0]}`);
  const dparams: [string, string][] = [];
  for (const d of a['--dparam'] ?? []) {
    const r = parseDparam(d);
    if (typeof r === 'string') throw new UsageError(r);
    dparams.push(r);
  }
  const port = a['--port'];
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new UsageError(`invalid port: ${port}`);
  return { config: a['--config'] ?? DEFAULT_CONFIG, port, address: a['--address'], logFile: a['--log-file'], dparams, verbose: a['--verbose'] ?? 0 };
}

function isSocket(fd: number): boolean {
  try {
    return fstatSync(fd).isSocket();
  } catch {
    return false;
  }
}

function readConfig(o: Options): DaemonConfig {
  try {
    return loadConfig(o.config, o.dparams);
  } catch (err) {
    if (err instanceof ConfigError) throw new Fatal(`Failed to parse config file: ${err.message}`, 1);
    throw err;
  }
}

/** The transfer engine, loaded only once a module has been granted. */
const engine: TransferEngine = async (s) => (await import('../rsync/daemon-engine.js')).daemonEngine(s);

/** process.setgid/setgroups/setuid, root only; a non-root daemon stays who it is (as rsync's would fail to). */
function setIds(uid: number | undefined, gids: number[]): void {
  const me = process.getuid?.() ?? -1;
  if (me !== 0) {
    if (uid !== undefined && uid !== me) throw new Error(`cannot become uid ${uid} when not root`);
    return;
  }
  if (!process.setgid || !process.setgroups || !process.setuid) throw new Error('this platform cannot change ids');
  if (gids.length > 0) {
    process.setgid(gids[0]!);
    process.setgroups(gids);
  }
  if (uid !== undefined) process.setuid(uid);
}

export async function main(argv: string[], io: Io): Promise<number> {
  // Remote-shell server mode (`rsync -e SHELL host:path`): src/rsync/remote-shell.ts.
  if (argv.includes('--server')) {
    const { remoteShell } = await import('../rsync/remote-shell.js');
    return remoteShell(argv.slice(argv.indexOf('--server')), process.stdin, process.stdout, io.env, { info: () => {}, error: (l) => io.stderr.write(`rsyncd: ${l}\n`) });
  }
  const o = parseArgs(argv);
  if (io.env[CHILD_ENV] === '1') return serveFromListener(o, io);
  const config = readConfig(o);
  const log = new DaemonLog(o.logFile ?? (config.defaults.logFile || undefined), io.stderr);
  if (log.openError) io.stderr.write(`rsyncd: warning: ${log.openError}\n`);
  for (const w of config.warnings) log.log(w.text);
  // Global settings we parse but cannot honour in Node (no chroot; ids are per module here).
  for (const [name, v] of [['daemon chroot', config.global.daemonChroot], ['daemon uid', config.global.daemonUid], ['daemon gid', config.global.daemonGid], ['socket options', config.global.socketOptions]] as const) {
    if (v) log.log(`warning: "${name}" is not supported by this daemon and is ignored`);
  }
  if (isSocket(0)) return serveSocket(new Socket({ fd: 0, readable: true, writable: true }), config, log, io);
  return listen(o, config, log, io);
}

/**
 * A connection process started ahead of need by our listener: load the engine while
 * idle, say ready, then serve the one socket the listener hands over with the
 * configuration of that moment (listener.ts).
 */
async function serveFromListener(o: Options, io: Io): Promise<number> {
  if (!process.send) throw new Fatal('started as a connection process without an IPC channel', 1);
  const got = new Promise<{ msg: ConnMessage; sock: Socket | undefined }>((res) => {
    process.once('message', (msg: ConnMessage, sock: Socket | undefined) => res({ msg, sock }));
  });
  process.once('disconnect', () => process.exit(0)); // the listener went away before giving us work
  await import('../rsync/daemon-engine.js');
  const ready: ReadyMessage = { type: 'ready' };
  process.send(ready);
  const { msg, sock } = await got;
  process.removeAllListeners('disconnect');
  process.disconnect?.();
  if (msg?.type !== 'conn' || !sock) throw new Fatal('the listener sent no connection', 1);
  const config = msg.config;
  const log = new DaemonLog(o.logFile ?? (config.defaults.logFile || undefined), io.stderr);
  return serveSocket(sock, config, log, io);
}

async function serveSocket(sock: Socket, config: DaemonConfig, log: DaemonLog, io: Io): Promise<number> {
  sock.on('error', () => {});
  // getpeername on our socket, like rsync's client_addr; tcpsvd's TCPREMOTEIP if that fails.
  const addr = normalizeAddr(sock.remoteAddress ?? io.env.TCPREMOTEIP ?? '0.0.0.0');
  const slots: number[] = [];
  try {
    const r = await serveConnection(sock, sock, {
      config, addr, uid: process.getuid?.() ?? -1, env: io.env,
      log: (l) => log.log(l),
      reverse: async (a) => {
        const names = await reverse(a);
        const name = names[0];
        if (!name) return 'UNKNOWN';
        // rsync's client_name: the name must map back to the address.
        const back = await lookup(name, { all: true });
        return back.some((x) => normalizeAddr(x.address) === a) ? name : 'UNKNOWN';
      },
      resolve: async (n) => (await lookup(n, { all: true })).map((x) => x.address),
      setIds,
      engine,
      onSlot: (fd) => slots.push(fd),
    });
    return r.code;
  } finally {
    await new Promise<void>((res) => {
      if (sock.destroyed) return res();
      sock.end(() => res());
      setTimeout(res, 2000).unref();
    });
    sock.destroy();
    for (const fd of slots) closeSync(fd);
    log.close();
  }
}

async function listen(o: Options, config: DaemonConfig, log: DaemonLog, io: Io): Promise<number> {
  const port = o.port ?? (config.global.port || RSYNC_PORT);
  const address = o.address ?? config.global.address;
  const pidFile = config.global.pidFile;
  // clientserver.c create_pid_file: the pid file is write-locked on bytes 0-3 for the
  // daemon's lifetime (our OFD lock conflicts with rsync's), so a second daemon on the
  // same pid file refuses to start.
  let pidFd: number | undefined;
  if (pidFile) {
    const c = claimConnection(pidFile, 1, 0o644);
    if (!c.ok) {
      const why = c.full ? 'Resource temporarily unavailable' : c.code;
      log.log(`failed to lock pid file ${pidFile}: ${why}`);
      throw new Fatal(`failed to lock pid file ${pidFile}: ${why}`, 11);
    }
    pidFd = c.fd!;
    try {
      ftruncateSync(pidFd, 0);
      writeSync(pidFd, `${process.pid}\n`, 0);
    } catch (err) {
      throw new Fatal(`failed to write pid file ${pidFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, 11);
    }
  }
  let l;
  try {
    l = await startListener({
      port, address, backlog: config.global.listenBacklog, config,
      reload: () => {
        try {
          const c = loadConfig(o.config, o.dparams);
          for (const w of c.warnings) log.log(w.text);
          return c;
        } catch (err) {
          throw err instanceof ConfigError ? new Error(err.message) : err;
        }
      },
      spawnChild: () => spawnApplet('rsyncd', childArgs(o), { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], env: { ...io.env, [CHILD_ENV]: '1' } }),
      log: (x) => log.log(x),
      onListening: (p) => log.log(`rsyncd version ${VERSION} starting, listening on port ${p}`),
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    log.log(`bind() failed: ${e.code ?? e.message}`);
    log.log(`unable to bind any inbound sockets on port ${port}`);
    removePid(pidFile, pidFd);
    throw new Fatal(`unable to bind port ${port}: ${e.code ?? e.message}`, RERR_SOCKETIO);
  }
  const onTerm = (): void => l.shutdown();
  const onHup = (): void => {
    log.reopen();
    l.reload();
  };
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onTerm);
  process.on('SIGHUP', onHup);
  await l.done;
  process.off('SIGTERM', onTerm);
  process.off('SIGINT', onTerm);
  process.off('SIGHUP', onHup);
  log.log('rsyncd exiting');
  log.close();
  removePid(pidFile, pidFd);
  return 0;
}

function removePid(path: string, fd: number | undefined): void {
  if (fd === undefined) return;
  try { unlinkSync(path); } catch { /* gone */ }
  closeSync(fd);
}

/** What a connection process needs from our command line (the config comes with the socket). */
function childArgs(o: Options): string[] {
  const a = [`--config=${o.config}`];
  if (o.logFile) a.push(`--log-file=${o.logFile}`);
  for (const [n, v] of o.dparams) a.push(`--dparam=${n}=${v}`);
  for (let i = 0; i < o.verbose; i++) a.push('-v');
  return a;
}
