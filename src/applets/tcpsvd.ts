// SPDX-License-Identifier: MIT
// tcpsvd: a UCSPI TCP server compatible with ipsvd's tcpsvd (ipsvd 1.0.0,
// tcpsvd.c). Listens on HOST PORT; for each connection runs PROG with the socket
// as fd 0 and 1 (fd 2 inherited) and the connection described in TCP* variables,
// subject to per-client instructions (-i dir / -x cdb), the -c limit (further
// clients wait in the backlog) and the -C per-host limit. -v logs to stdout in
// ipsvd's words; warnings and drops go to stderr.
//
// Node has no fork(): ipsvd forks first and does the per-connection work (host
// lookups, instructions, the -C check, logging) in the child; we do it in the
// server and then have PROG spawned directly, by one of a few spawner processes
// (src/ipsvd/spawner.ts: Node's spawn() is a fork of the whole Node process that
// blocks the caller, so several processes spawn in parallel), or by the server
// itself on one core. Consequences, all marked compat: below:
// a connection refused without running a program (deny, -C over the limit, a
// failed lookup or rules read) is logged under OUR pid, as it has no child;
// `pid P from` is logged after the spawn, when P is known; if a spawner dies, the
// end of a program it had started is logged as `exit 111` (its code is unknown).
// compat: the server has helper children ipsvd has not: the socket keeper
// (acceptor.ts) and the spawners (SVBOX_TCPSVD_SPAWNERS=N sets their number, 0
// none); they end with the server, the programs they started do not.
// compat: -u drops privileges only in the children (spawn's uid/gid); ipsvd drops
// them in the server itself after bind. Supplementary groups beyond the first
// group are not set (libuv clears them).
// compat: IPv6 is supported (ipsvd is IPv4-only): `::`, `::1` or any IPv6 address
// as HOST; IPv4 clients of a dual-stack socket appear as plain IPv4 addresses.
// compat: host names (HOST, -h, -p, local name without -l, `=HOST` lines) are
// resolved with the system resolver (/etc/hosts, then DNS); ipsvd asks DNS only.
import { readFileSync, writeSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { promises as dns } from 'node:dns';
import type { Io } from '../lib/applet.js';
import { Fatal, UsageError } from '../lib/die.js';
import { errstr } from '../lib/errstr.js';
import { getopt } from '../lib/getopt.js';
import { Acceptor, KEEPER_ARG, runKeeper } from '../ipsvd/acceptor.js';
import { ucspiOps } from '../ipsvd/env.js';
import { check, formatMessage, literalAddress, RulesError, scanUlong, type CheckResult } from '../ipsvd/instruct.js';
import { PerHost } from '../ipsvd/limits.js';
import { logLine, startLine } from '../ipsvd/log.js';
import { scanPort } from '../ipsvd/services.js';
import { SPAWNER_ARG, SPAWNERS_ENV, SpawnerPool, spawnerCount, runSpawner, type Job, type SocketHandle } from '../ipsvd/spawner.js';
import { parseUidGid, type UidGid } from '../ipsvd/uidgid.js';

export const usage = '[-Ehpv] [-u user] [-c n] [-C n:msg] [-b n] [-l name] [-i dir|-x cdb] [-t sec] host port prog';
export const help = `Listen on HOST PORT and run PROG for each TCP connection, with the socket as
standard input and output and the connection described in the environment
(PROTO, TCPLOCALIP, TCPLOCALPORT, TCPLOCALHOST, TCPREMOTEIP, TCPREMOTEPORT,
TCPREMOTEHOST, TCPCONCURRENCY), as ipsvd's tcpsvd.

  -c n     at most n connections at once (default 30); further clients wait
  -C n[:msg]  at most n connections per client address; msg to the refused one
  -b n     listen backlog (default 20)
  -u user[:group]  run PROG as user (and group)
  -l name  local host name (no lookup)      -h  look up the client's name
  -p       -h, and check that the name maps back to the address
  -i dir   instructions directory (ipsvd-instruct(5))   -x cdb  the same, compiled by ipsvd-cdb
  -t sec   with -i: expire writable instruction files not read for sec seconds
  -E       set no environment variables     -v  log to standard output (-vv: more)
HOST may be 0 (all IPv4 addresses), an IPv4 or IPv6 address, or a name.
Under load, programs are started by helper processes, one more than the cores
(at most 4), started when a connection finds another one served;
SVBOX_TCPSVD_SPAWNERS=n starts n at once, 0 has the server start them itself.

Exit codes: 0 on TERM; 100 unknown user, group, port or address; 111 usage or fatal.`;
export const exitCodes = { usage: 111, fatal: 111 };

interface Options {
  verbose: number;
  cmax: number;
  phcc?: { max: number; msg?: string };
  backlog: number;
  user?: { spec: string; ids: UidGid };
  localName?: string;
  lookup: boolean;
  paranoid: boolean;
  ucspi: boolean;
  rules?: { kind: 'dir' | 'cdb'; where: string };
  timeout: number;
  host: string;
  port: string;
  prog: string[];
}

function parseOptions(argv: string[], io: Io): Options {
  const p = getopt(argv, 'c:C:i:x:u:l:Eb:hpt:vV');
  if (p.flags.has('V')) {
    io.stderr.write('$Id: svbox tcpsvd (ipsvd 1.0.0 compatible) $\n');
    throw new UsageError();
  }
  const o: Options = {
    verbose: p.flags.get('v') ?? 0, cmax: 30, backlog: 20, lookup: false, paranoid: false, ucspi: !p.flags.has('E'),
    timeout: 0, host: '', port: '', prog: [],
  };
  // Options in the order given matter only for -i/-x (both given: usage).
  if (p.values.has('c')) {
    o.cmax = scanUlong(p.values.get('c')!)[0];
    if (o.cmax < 1) throw new UsageError();
  }
  if (p.values.has('C')) {
    const v = p.values.get('C')!;
    const [max, used] = scanUlong(v);
    if (max < 1) throw new UsageError();
    o.phcc = { max, ...(v[used] === ':' ? { msg: formatMessage(v.slice(used + 1)) } : {}) };
  }
  const rules = (p.all.get('i')?.length ?? 0) + (p.all.get('x')?.length ?? 0);
  if (rules > 1) throw new UsageError();
  if (p.values.has('i')) o.rules = { kind: 'dir', where: p.values.get('i')! };
  if (p.values.has('x')) o.rules = { kind: 'cdb', where: p.values.get('x')! };
  // compat: Node turns a backlog of 0 into 511; 1 is the nearest to listen(s, 0).
  if (p.values.has('b')) o.backlog = Math.max(1, scanUlong(p.values.get('b')!)[0]);
  if (p.values.has('t')) o.timeout = scanUlong(p.values.get('t')!)[0];
  if (p.values.has('l')) o.localName = p.values.get('l')!;
  if (p.flags.has('h')) o.lookup = true;
  if (p.flags.has('p')) { o.lookup = true; o.paranoid = true; }
  const [host, port, ...prog] = p.operands;
  if (host === undefined || port === undefined || prog.length === 0) throw new UsageError();
  o.host = host;
  o.port = port;
  o.prog = prog;
  if (o.phcc && o.phcc.max > o.cmax) o.phcc.max = o.cmax;
  if (p.values.has('u')) {
    const spec = p.values.get('u')!;
    const ids = parseUidGid(spec, readText('/etc/passwd'), readText('/etc/group'));
    if (!ids) throw new Fatal(`unknown user/group: ${spec}`, 100);
    o.user = { spec, ids };
  }
  return o;
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** An address as ipsvd shows it: IPv4-mapped IPv6 addresses as plain IPv4. */
function plainIp(a: string | undefined): string {
  if (!a) return '';
  return a.startsWith('::ffff:') && isIP(a.slice(7)) === 4 ? a.slice(7) : a;
}

async function resolveListenHost(host: string): Promise<string> {
  if (host === '' || host === '0') return '0.0.0.0';
  if (isIP(host)) return host;
  // djbdns' dns_ip4 also reads a dotted quad with trailing junk as the quad (1.2.3.4.5).
  const quad = /^(\d+\.\d+\.\d+\.\d+)\./.exec(host);
  if (quad && isIP(quad[1]!) === 4) return quad[1]!;
  try {
    const a = await dns.lookup(host, { family: 4 }).catch(() => dns.lookup(host));
    return a.address;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') throw new Fatal(`unable to look up ip address: ${host}`, 100);
    throw new Fatal(`unable to look up ip address: ${host}: ${errstr(err)}`, 111);
  }
}

async function resolveAll(host: string): Promise<string[]> {
  const lit = literalAddress(host);
  if (lit) return lit;
  try {
    return (await dns.lookup(host, { all: true })).map((a) => a.address);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    throw err;
  }
}

/** The name of an address, '' when it has none; throws when the resolver fails. */
async function nameOf(ip: string): Promise<string> {
  try {
    const name = (await dns.lookupService(ip, 0)).hostname;
    return name === ip ? '' : name;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return '';
    throw err;
  }
}

/** ipsvd_hostname: the client's name, '' when it has none (or -p finds it does not map back). */
async function remoteName(ip: string, paranoid: boolean): Promise<string> {
  const name = await nameOf(ip);
  if (name === '') return '';
  if (paranoid && !(await resolveAll(name)).includes(ip)) return '';
  return name;
}

/** How long start-up waits for the socket keeper before serving without it (see acceptor.ts). */
const KEEPER_WAIT_MS = 10_000;
/** On TERM, how long the spawners get to start the programs of connections handed to them. */
const TERM_WAIT_MS = 5000;

class Server {
  private cnum = 0;
  private readonly perHost = new PerHost();
  private readonly localNames = new Map<string, string>();
  private readonly acceptor: Acceptor;
  private spawners: SpawnerPool | undefined;
  /** Connections accepted and not yet handed to a program (or refused). */
  private preparing = 0;
  private portText = '';

  constructor(private readonly o: Options, private readonly io: Io, private readonly lost: (why: string) => void) {
    this.acceptor = new Acceptor({ backlog: o.backlog, onConnection: (s) => this.accepted(s), onLost: lost });
  }

  private out(line: string): void {
    this.io.stdout.write(line);
  }

  private warn(text: string): void {
    this.io.stderr.write(`tcpsvd: warning: ${text}\n`);
  }

  async start(): Promise<void> {
    const port = scanPort(this.o.port, readText('/etc/services'));
    if (port === undefined) throw new Fatal(`unknown port number or name: ${this.o.port}`, 100);
    const ip = await resolveListenHost(this.o.host);
    let bound;
    try {
      bound = await this.acceptor.listen(ip, port);
    } catch (err) {
      throw new Fatal(`unable to bind socket: ${errstr(err)}`, 111);
    }
    // The processes that run the programs (spawner.ts): started at once when their
    // number is set, else with the first connection that finds a program running.
    const ids = this.o.user?.ids;
    const knob = process.env[SPAWNERS_ENV];
    this.spawners = new SpawnerPool({ env: { ...process.env }, ...(ids ? { uid: ids.uid, gid: ids.gids[0] ?? ids.uid } : {}) },
      spawnerCount(this.o.cmax, knob), knob !== undefined);
    // compat: a numeric port operand is shown as the bound port (differs only for 0).
    this.portText = /^\d+$/.test(this.o.port) ? String(bound.port) : this.o.port;
    // Clients are served from here on; the keeper is what lets -c stop accepting.
    await this.acceptor.startKeeper(KEEPER_WAIT_MS);
    if (this.o.verbose) {
      const u = this.o.user?.ids;
      this.out(logLine.listening(bound.address, this.portText, u ? { uid: u.uid, gid: u.gids[0] ?? 0 } : undefined));
    }
  }

  /**
   * On TERM: stop accepting, and let the spawners start the programs of the
   * connections already handed to them (ipsvd has forked for every connection it
   * accepted by then); at most TERM_WAIT_MS.
   */
  async shutdown(): Promise<void> {
    this.acceptor.stop();
    const end = Date.now() + TERM_WAIT_MS;
    // Connections still being looked at (names, rules) are handed on, then started.
    while ((this.preparing > 0 || this.spawners?.waiting()) && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  }

  private accepted(sock: Socket): void {
    sock.on('error', () => { /* nothing reads or writes it but the child */ });
    this.cnum++;
    if (this.o.verbose) this.out(logLine.status(this.cnum, this.o.cmax));
    const ip = plainIp(sock.remoteAddress);
    const phcc = this.o.phcc ? this.perHost.add(ip) : 0;
    if (this.cnum >= this.o.cmax) this.acceptor.pause();
    this.preparing++;
    this.serve(sock, ip, phcc).catch((err: unknown) => {
      // Anything unexpected: drop this connection, keep serving the others.
      this.drop(sock, ip, `unable to serve connection: ${err instanceof Error ? err.message : String(err)}`);
    }).finally(() => { this.preparing--; });
  }

  /** A connection ended without a child of ours (ipsvd's child exiting with code). */
  private endWithoutChild(sock: Socket, ip: string, code: number): void {
    sock.destroy();
    if (this.o.phcc) this.perHost.release(ip);
    this.ended(process.pid, code, false);
  }

  private drop(sock: Socket, ip: string, text: string): void {
    this.io.stderr.write(`tcpsvd: drop: ${text}\n`);
    this.endWithoutChild(sock, ip, 111);
  }

  private ended(pid: number, code: number, child: boolean): void {
    if (child && this.o.phcc) this.perHost.remove(pid);
    if (this.cnum > 0) this.cnum--;
    if (this.o.verbose) this.out(logLine.end(pid, code) + logLine.status(this.cnum, this.o.cmax));
    if (this.cnum < this.o.cmax) this.acceptor.resume();
  }

  private async localName(ip: string): Promise<string> {
    if (this.o.localName !== undefined) return this.o.localName;
    const known = this.localNames.get(ip);
    if (known !== undefined) return known;
    // dns_name4 as ipsvd uses it: no name is not an error (TCPLOCALHOST is then
    // unset); a failing resolver is, and drops the connection.
    const name = await nameOf(ip);
    this.localNames.set(ip, name);
    return name;
  }

  private async serve(sock: Socket, remoteIp: string, phcc: number): Promise<void> {
    const o = this.o;
    const localIp = plainIp(sock.localAddress);
    const remotePort = sock.remotePort ?? 0;
    let remoteHost: string | undefined;
    if (o.lookup) {
      try {
        remoteHost = await remoteName(remoteIp, o.paranoid);
      } catch (err) {
        this.warn(`unable to look up hostname: ${remoteIp}: ${errstr(err)}`);
      }
    }
    let localHost: string;
    try {
      localHost = await this.localName(localIp);
    } catch (err) {
      return this.drop(sock, remoteIp, `unable to look up local hostname: ${errstr(err)}`);
    }
    let rules: CheckResult = { verdict: 'default', match: '', env: [], text: '', warnings: [] };
    if (o.rules) {
      try {
        rules = await check(o.rules.kind, o.rules.where, remoteIp, {
          ...(remoteHost ? { name: remoteHost } : {}), timeout: o.timeout, ...(o.phcc ? { limit: o.phcc } : {}), resolve: resolveAll,
        });
      } catch (err) {
        if (err instanceof RulesError && err.what === 'read') return this.drop(sock, remoteIp, `unable to read: ${o.rules.where}: ${errstr(err.reason)}`);
        return this.drop(sock, remoteIp, `unable to check inst: ${remoteIp}: ${errstr(err instanceof RulesError ? err.reason : err)}`);
      }
      for (const w of rules.warnings) this.warn(w);
    }
    if (sock.destroyed) {
      // The socket went away while we looked things up (cannot happen while paused: nothing reads it).
      return this.endWithoutChild(sock, remoteIp, 111);
    }
    const limit = o.phcc ? rules.limit ?? o.phcc : undefined;
    let verdict = rules.verdict;
    let msg: string | undefined;
    if (limit && limit.max > 0 && phcc > limit.max) {
      verdict = 'deny';
      msg = limit.msg;
    }
    const handle = (sock as unknown as { _handle: SocketHandle })._handle;
    const logStart = (pid: number, verb: 'start' | 'exec' | 'deny'): void => {
      if (!o.verbose) return;
      let lines = logLine.pid(pid, remoteIp);
      if (limit && limit.max > 0) lines += logLine.concurrency(pid, remoteIp, phcc, limit.max);
      lines += startLine({
        verb, pid, localHost, localIp, ...(remoteHost ? { remoteHost } : {}),
        remoteIp, remotePort, ...(o.rules ? { match: rules.match, ...(o.rules.kind === 'cdb' ? { matchPrefix: `${o.rules.where}/` } : {}) } : {}),
        ...(o.verbose > 1 && rules.text ? { inst: rules.text } : {}),
      });
      this.out(lines);
    };
    if (verdict === 'deny') {
      logStart(process.pid, 'deny');
      if (msg) {
        try {
          writeSync(handle.fd, msg);
        } catch (err) {
          this.warn(`unable to write concurrency message: ${errstr(err)}`);
        }
      }
      return this.endWithoutChild(sock, remoteIp, 100);
    }
    const verb = verdict === 'exec' ? 'exec' : 'start';
    const job: Job = {
      argv: verdict === 'exec' ? ['/bin/sh', '-c', rules.exec ?? ''] : o.prog,
      env: o.ucspi ? [ucspiOps({ localIp, localPort: this.portText, localHost, remoteIp, remotePort, ...(remoteHost ? { remoteHost } : {}), concurrency: phcc }), rules.env] : [rules.env],
    };
    let childPid = 0;
    this.spawners!.run(handle, job, {
      started: (pid) => {
        childPid = pid;
        logStart(pid, verb);
        // The child has its own copies of the socket now; ours must go, or the client
        // would not see the end of the connection when the child exits.
        sock.destroy();
        if (o.phcc) this.perHost.bind(pid, remoteIp);
      },
      failed: (err) => {
        logStart(process.pid, verb);
        this.drop(sock, remoteIp, `unable to run: ${o.prog[0]}: ${errstr(err)}`);
      },
      exited: (code) => this.ended(childPid, code, true),
      lost: () => this.drop(sock, remoteIp, 'lost with its spawner process'),
    }, this.cnum > 1); // another connection is being served: the spawners pay off
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  if (argv[0] === KEEPER_ARG) return runKeeper();
  if (argv[0] === SPAWNER_ARG) return runSpawner();
  const o = parseOptions(argv, io);
  let stop: (code: number) => void = () => {};
  const stopped = new Promise<number>((res) => { stop = res; });
  const server = new Server(o, io, (why) => {
    io.stderr.write(`tcpsvd: fatal: unable to accept connections: ${why}\n`);
    stop(111);
  });
  process.on('SIGTERM', () => {
    if (o.verbose) io.stdout.write(logLine.sigterm());
    server.shutdown().then(() => stop(0), () => stop(0));
  });
  await server.start();
  // ipsvd _exit()s at once and leaves its children running; process.exit is the
  // only way to do that here, as the spawned children keep Node's event loop alive.
  process.exit(await stopped);
}
