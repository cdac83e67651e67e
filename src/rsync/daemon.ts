// SPDX-License-Identifier: MIT
// One rsync daemon connection on any byte pair (a socket from our listener, or
// stdin/stdout under tcpsvd/inetd), up to the hand-off to the transfer engine.
// Mirrors rsync's clientserver.c start_daemon, exchange_protocols, send_listing and
// rsync_module: greeting and version negotiation, motd, module listing, module
// lookup, host access, max connections, authentication, uid/gid, path checks,
// "@RSYNCD: OK", then the argument list (io.c read_args) with limits.
// Errors before OK are single `@ERROR: ...` lines worded as rsync words them; the
// log gets rsync's log lines. Nothing here prints or exits: the applet does.
// compat: no chroot (Node has none): with `use chroot` the module path is still the
// confinement root, enforced by the engine's own path resolution; the effective
// chroot setting only drives the defaults that depend on it (munge symlinks,
// numeric ids), as in rsync.
// compat: pre-/post-xfer exec, early exec, name converter and daemon chroot/uid/gid
// are not supported; a module using an exec parameter is refused with @ERROR.
import { constants, openSync, closeSync, readSync, statSync } from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { allowAccess, UNDETERMINED, type Resolver } from './access.js';
import { AUTH_DIGESTS, chooseAuthDigest, checkSecret, makeChallenge, matchAuthRule, parseAuthUsers, unixGroupsOf, type AuthDigest } from './auth.js';
import { expandVars, findModule, type DaemonConfig, type ModuleConfig, type ModuleSettings } from './config.js';
import { claimConnection } from './connlimit.js';
import { HandshakeError, LineReader } from './line-reader.js';
import { groupToGid, userGroupIds, userToUid } from './daemon-ids.js';
import { UserDb } from '../lib/passwd.js';

/** Our protocol and sub-protocol (a final release: sub 0). */
export const PROTOCOL_VERSION = 32;
export const SUBPROTOCOL_VERSION = 0;
/** The oldest protocol we serve: 27-29 (line-based arguments, md4) come with a later issue. */
export const MIN_PROTOCOL_VERSION = 30;

/** Limits on what the client sends, after rsync's buffers (clientserver.c, io.c, rsync.h). */
export const LIMITS = {
  /** start_daemon's line[1024]: greeting, module name. */
  line: 1023,
  /** BIGPATHBUFLEN - 1: the auth response and each argument. */
  bigLine: 4096 + 1024 - 1,
  /** io.c MAX_DAEMON_ARGS = MAX_ARGS * 16. */
  args: 1000 * 16,
  /** Our own bound on the bytes of all arguments together (rsync has only the count). */
  argBytes: 8 << 20,
  /** #early_input=N, N <= BIGPATHBUFLEN. */
  earlyInput: 4096 + 1024,
  /** rsync's DAEMON_HANDSHAKE_TIMEOUT: seconds for the whole pre-transfer exchange. */
  handshakeSeconds: 60,
  /** Motd bytes we send at most. */
  motd: 1 << 20,
};

/** Everything the transfer engine needs about the session. */
export interface TransferSession {
  input: Readable;
  output: Writable;
  /** Bytes the client already sent past the argument list. */
  leftover: Buffer;
  protocol: number;
  /** The client's full argument vector (protect-args lists joined), without argv[0]. */
  args: string[];
  module: ModuleConfig;
  /** Module settings with %VAR% expanded in path. */
  settings: ModuleSettings;
  /** The module root (absolute, no trailing slash) our path resolution confines to. */
  modulePath: string;
  /** Effective `use chroot` (rsync: unset means "yes if we can chroot", i.e. we are root). */
  useChroot: boolean;
  /** Effective `read only` after `auth users` :ro/:rw. */
  readOnly: boolean;
  /** Effective `munge symlinks` (unset: !useChroot). */
  mungeSymlinks: boolean;
  /** Effective `numeric ids` (unset: useChroot). */
  numericIds: boolean;
  /** The authenticated user, '' for an anonymous module. */
  user: string;
  host: string;
  addr: string;
  /** Log one line to the daemon log. */
  log: (line: string) => void;
  /** The text of a request for the log: arguments after ".". */
  request: string;
}

/** The engine: returns rsync's exit code for the session. */
export type TransferEngine = (s: TransferSession) => Promise<number>;

export interface DaemonContext {
  config: DaemonConfig;
  log: (line: string) => void;
  /** The client's address (IPv4-mapped addresses already shown as IPv4). */
  addr: string;
  /** Our effective uid (0: root rules apply: nobody by default, root-owned secrets). */
  uid: number;
  env: Record<string, string | undefined>;
  /** Reverse DNS of the client, only called when `reverse lookup` is on. */
  reverse?: (addr: string) => Promise<string>;
  resolve?: Resolver;
  /** Switch this process to uid/gids (process.setgid/setgroups/setuid in the applet). */
  setIds?: (uid: number | undefined, gids: number[]) => void;
  engine: TransferEngine;
  /** Called once the connection slot is claimed: the fd stays open for the connection's life. */
  onSlot?: (fd: number) => void;
}

export interface ConnectionResult {
  /** rsync's exit code for this connection (0 listing/ok, 5 startup errors, 30 timeout ...). */
  code: number;
  /** What happened, for tests and the applet's decision to log. */
  outcome: 'listing' | 'error' | 'hostile' | 'timeout' | 'closed' | 'transfer';
}

/** A reverse lookup that takes longer than this gives "UNKNOWN" (the resolver's own timeouts can be far longer). */
const REVERSE_LOOKUP_MS = 10_000;

const RERR_STARTCLIENT = 5;
const RERR_PROTOCOL = 2;
const RERR_TIMEOUT = 30;

class Conn {
  constructor(readonly out: Writable) {}
  write(s: string | Buffer): void {
    if (!this.out.destroyed && this.out.writable) this.out.write(typeof s === 'string' ? Buffer.from(s, 'latin1') : s);
  }
  error(text: string): void {
    this.write(`@ERROR: ${text}\n`);
  }
}

/** clientserver.c exchange_protocols, server side: parse the client's greeting. */
export function parseGreeting(line: string): { protocol: number; sub: number | undefined; digests: string | undefined } | undefined {
  // sscanf("@RSYNCD: %d.%d"): %d skips leading white space and takes a sign.
  const m = /^@RSYNCD: \s*([+-]?\d+)(?:\.\s*([+-]?\d+))?/.exec(line);
  if (!m) return undefined;
  const protocol = Number(m[1]);
  const sub = m[2] === undefined ? undefined : Number(m[2]);
  const sp = line.indexOf(' ', 9);
  return { protocol, sub, digests: sp < 0 ? undefined : line.slice(sp + 1) };
}

/** The effective protocol from both greetings (exchange_protocols, final-release rules). */
export function negotiateProtocol(remote: number, remoteSub: number): number {
  let p = PROTOCOL_VERSION;
  if (p > remote) {
    p = remote;
    if (remoteSub) p--;
  } else if (p === remote && remoteSub !== SUBPROTOCOL_VERSION) p--;
  return p;
}

/** clientserver.c send_listing. */
export function formatListing(cfg: DaemonConfig, protocol: number): string {
  let s = '';
  for (const m of cfg.modules) if (m.settings.list) s += `${m.name.padEnd(15)}\t${m.settings.comment}\n`;
  if (protocol >= 25) s += '@RSYNCD: EXIT\n';
  return s;
}

function readMotd(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(LIMITS.motd);
    let n = 0;
    for (;;) {
      const r = readSync(fd, buf, n, buf.length - n, null);
      if (r <= 0) break;
      n += r;
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

const AUTH_RANK = new Map<string, number>(AUTH_DIGESTS.map((d, i) => [d, i]));

/** Serve one connection up to the engine (or an error). Never throws for client misbehaviour. */
export async function serveConnection(input: Readable, output: Writable, ctx: DaemonContext): Promise<ConnectionResult> {
  const conn = new Conn(output);
  const reader = new LineReader(input);
  const cfg = ctx.config;
  const g = cfg.defaults;
  const addr = ctx.addr;
  // clientserver.c client_name: a failed or slow lookup gives "UNKNOWN".
  const lookupName = async (): Promise<string> => {
    if (!ctx.reverse) return UNDETERMINED;
    let t: NodeJS.Timeout | undefined;
    const slow = new Promise<string>((res) => { t = setTimeout(() => res('UNKNOWN'), REVERSE_LOOKUP_MS); });
    try {
      return await Promise.race([ctx.reverse(addr).catch(() => 'UNKNOWN'), slow]);
    } finally {
      clearTimeout(t);
    }
  };
  let host = g.reverseLookup ? await lookupName() : UNDETERMINED;
  ctx.log(`connect from ${host} (${addr})`);

  // One absolute deadline for everything before the transfer (rsync 3.5's daemon
  // handshake timeout): `timeout` shortens it, nothing lengthens it past 60 s.
  const bound = (t: number): number => (t > 0 && t < LIMITS.handshakeSeconds ? t : LIMITS.handshakeSeconds);
  let timer: NodeJS.Timeout | undefined;
  const arm = (seconds: number): void => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => reader.fail(new HandshakeError('timeout', 'daemon handshake timeout')), seconds * 1000);
    timer.unref?.();
  };
  arm(bound(g.timeout));

  try {
    return await handshake();
  } catch (e) {
    if (!(e instanceof HandshakeError)) throw e;
    if (e.kind === 'timeout') {
      ctx.log('daemon handshake timeout -- exiting');
      ctx.log(`rsync error: timeout in data send/receive (code ${RERR_TIMEOUT})`);
      return { code: RERR_TIMEOUT, outcome: 'timeout' };
    }
    if (e.kind === 'eof' || e.kind === 'io') return { code: RERR_STARTCLIENT, outcome: 'closed' };
    ctx.log(`hostile input from ${host} (${addr}): ${e.message}`);
    return { code: RERR_PROTOCOL, outcome: 'hostile' };
  } finally {
    if (timer) clearTimeout(timer);
  }

  async function handshake(): Promise<ConnectionResult> {
    conn.write(`@RSYNCD: ${PROTOCOL_VERSION}.${SUBPROTOCOL_VERSION} ${AUTH_DIGESTS.join(' ')}\n`);
    if (cfg.global.motdFile) {
      // rsync sends the newline even when the motd file cannot be read.
      const motd = readMotd(expandVars(cfg.global.motdFile, ctx.env));
      if (motd) conn.write(motd);
      conn.write('\n');
    }
    const greeting = await reader.line(LIMITS.line);
    const gr = parseGreeting(greeting);
    if (!gr) {
      conn.error('protocol startup error');
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    if (gr.sub === undefined && gr.protocol >= 30) {
      conn.error(`your client omitted the subprotocol value: ${greeting}`);
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    if (gr.digests === undefined && gr.protocol > 31) {
      conn.error(`your client omitted the digest name list: ${greeting}`);
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    const protocol = negotiateProtocol(gr.protocol, gr.sub ?? 0);
    if (protocol < MIN_PROTOCOL_VERSION) {
      ctx.log(`protocol version ${protocol} from ${host} (${addr}) is not supported`);
      conn.error(`protocol version mismatch -- this daemon speaks protocols ${MIN_PROTOCOL_VERSION} to ${PROTOCOL_VERSION}`);
      return { code: RERR_PROTOCOL, outcome: 'error' };
    }

    let line = await reader.line(LIMITS.line);
    if (line.startsWith('#early_input=')) {
      const n = Number.parseInt(line.slice('#early_input='.length), 10);
      if (!(n > 0 && n <= LIMITS.earlyInput)) {
        conn.error('invalid early_input length');
        return { code: RERR_STARTCLIENT, outcome: 'error' };
      }
      await reader.bytes(n); // only early exec would use it, which we do not run
      line = await reader.line(LIMITS.line);
    }
    if (line === '' || line === '#list') {
      ctx.log(`module-list request from ${host} (${addr})`);
      conn.write(formatListing(cfg, protocol));
      return { code: 0, outcome: 'listing' };
    }
    if (line.startsWith('#')) {
      conn.error(`Unknown command '${line}'`);
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    const mod = findModule(cfg, line);
    if (!mod) {
      ctx.log(`unknown module '${line}' tried from ${host} (${addr})`);
      conn.error(`Unknown module '${line}'`);
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    return module(mod, protocol, gr.digests);
  }

  async function module(mod: ModuleConfig, protocol: number, clientDigests: string | undefined): Promise<ConnectionResult> {
    const s = mod.settings;
    const name = mod.name;
    const env: Record<string, string | undefined> = { ...ctx.env, RSYNC_MODULE_NAME: name };
    if (host === UNDETERMINED && s.reverseLookup) host = await lookupName();
    env.RSYNC_HOST_NAME = host;
    env.RSYNC_HOST_ADDR = addr;

    const acc = await allowAccess(addr, host, { allow: s.hostsAllow, deny: s.hostsDeny, forwardLookup: s.forwardLookup }, ctx.resolve);
    host = acc.host;
    if (!acc.allowed) {
      ctx.log(`rsync denied on module ${name} from ${host} (${addr})`);
      if (!s.list) conn.error(`Unknown module '${name}'`);
      else conn.error(`access denied to ${name} from ${host} (${addr})`);
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    ctx.log(`rsync allowed access on module ${name} from ${host} (${addr})`);

    const claim = claimConnection(expandVars(s.lockFile, env), s.maxConnections);
    if (!claim.ok) {
      if (!claim.full) {
        ctx.log(`failed to open lock file ${s.lockFile}: ${claim.code}${claim.detail ? ` (${claim.detail})` : ''}`);
        conn.error('failed to open lock file');
      } else {
        ctx.log(`max connections (${s.maxConnections}) reached`);
        conn.error(`max connections (${s.maxConnections}) reached -- try again later`);
      }
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    if (claim.fd !== undefined) ctx.onSlot?.(claim.fd);

    let readOnly = s.readOnly;
    arm(bound(s.timeout));
    const auth = await authenticate(mod, protocol, clientDigests);
    if (auth === undefined) return { code: RERR_STARTCLIENT, outcome: 'error' };
    if (auth.opt === 'r') readOnly = true;
    else if (auth.opt === 'w') readOnly = false;
    const user = auth.user;
    env.RSYNC_USER_NAME = user;

    if (s.earlyExec || s.preXferExec || s.postXferExec || s.nameConverter) {
      ctx.log(`module ${name} uses an exec parameter, which this daemon does not run`);
      conn.error('early exec preparation failed');
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }

    // uid/gid: rsync switches to the module's ids, or to nobody when root.
    const ids = UserDb.files();
    let uid: number | undefined;
    const uidName = s.uid || (ctx.uid === 0 ? 'nobody' : '');
    if (uidName) {
      uid = userToUid(uidName, ids);
      if (uid === undefined) {
        ctx.log(`Invalid uid ${uidName}`);
        conn.error(`invalid uid ${uidName}`);
        return { code: RERR_STARTCLIENT, outcome: 'error' };
      }
    }
    const gids: number[] = [];
    const gidNames = s.gid ? s.gid.split(/[\s,]+/).filter((x) => x) : ctx.uid === 0 ? ['nogroup'] : [];
    for (const gname of gidNames) {
      // "*" (first in the list): every group of the module's user.
      const found = gname === '*' ? userGroupIds(uidName, ids) : [groupToGid(gname, ids)];
      if (found.length === 0 || found.some((x) => x === undefined)) {
        ctx.log(`Invalid gid ${gname}`);
        conn.error(`invalid gid ${gname}`);
        return { code: RERR_STARTCLIENT, outcome: 'error' };
      }
      gids.push(...(found as number[]));
    }

    let path = expandVars(s.path, env);
    if (path === '') {
      ctx.log(`No path specified for module ${name}`);
      conn.error('no path setting.');
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    const useChroot = s.useChroot ?? (path.includes('/./') || ctx.uid === 0);
    // A "/./" in the path separates the chroot from the module directory in rsync;
    // without chroot the whole path is the module root.
    path = path.replace(/\/\.\//g, '/');
    try {
      if (!statSync(path).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    } catch (err) {
      ctx.log(`chdir ${path} failed: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      conn.error('chdir failed');
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }
    try {
      ctx.setIds?.(uid, gids);
    } catch (err) {
      ctx.log(`setuid/setgid failed: ${(err as Error).message}`);
      conn.error(uid !== undefined ? 'setuid failed' : 'setgid failed');
      return { code: RERR_STARTCLIENT, outcome: 'error' };
    }

    conn.write('@RSYNCD: OK\n');
    const args = await readArgs(protocol);
    if (typeof args === 'string') {
      ctx.log(args);
      return { code: RERR_PROTOCOL, outcome: 'hostile' };
    }
    if (timer) clearTimeout(timer);
    timer = undefined;

    const dot = args.indexOf('.');
    const request = dot < 0 ? '' : args.slice(dot + 1).join(' ').slice(0, 1024);
    const sender = args.slice(0, dot < 0 ? args.length : dot).includes('--sender');
    if (request) ctx.log(`rsync ${sender ? 'on' : 'to'} ${request} from ${user ? `${user}@` : ''}${host} (${addr})`);

    const session: TransferSession = {
      input, output, leftover: reader.detach(), protocol, args, module: mod, settings: { ...s, path }, modulePath: path,
      useChroot, readOnly, mungeSymlinks: s.mungeSymlinks ?? !useChroot, numericIds: s.numericIds ?? useChroot,
      user, host, addr, log: ctx.log, request,
    };
    const code = await ctx.engine(session);
    return { code, outcome: 'transfer' };
  }

  /** authenticate.c auth_server; undefined after an @ERROR was sent. */
  async function authenticate(mod: ModuleConfig, protocol: number, clientDigests: string | undefined): Promise<{ user: string; opt: '' | 'r' | 'w' | 'd' } | undefined> {
    const s = mod.settings;
    const name = mod.name;
    if (!s.authUsers.trim()) return { user: '', opt: '' };
    const alg = chooseAuthDigest(clientDigests, protocol);
    if (!alg) {
      conn.error(`your client does not support one of our daemon-auth checksums: ${AUTH_DIGESTS.join(' ')}`);
      return undefined;
    }
    const fail = (why: string, user?: string): undefined => {
      ctx.log(`auth failed on module ${name} from ${host} (${addr})${user !== undefined ? ` for ${user}` : ''}: ${why}`);
      conn.error(`auth failed on module ${name}`);
      return undefined;
    };
    if (s.authDigest) {
      const floor = AUTH_RANK.get(s.authDigest);
      const got = AUTH_RANK.get(alg === 'md4-old' ? 'md4' : alg);
      if (floor === undefined) return fail(`the configured 'auth digest = ${s.authDigest}' is not a supported digest on this build`);
      if (got === undefined || got > floor || alg === 'md4-old') return fail(`negotiated auth digest ${alg} is weaker than the required 'auth digest = ${s.authDigest}'`);
    }
    const challenge = await makeChallenge(alg as AuthDigest, addr);
    conn.write(`@RSYNCD: AUTHREQD ${challenge}\n`);
    const line = await reader.line(LIMITS.bigLine);
    const sp = line.indexOf(' ');
    if (sp < 0) return fail('invalid challenge response');
    const user = line.slice(0, sp);
    const response = line.slice(sp + 1);
    const match = matchAuthRule(parseAuthUsers(s.authUsers), user, (u) => unixGroupsOf(u));
    if (!match) return fail('no matching rule', user);
    if (match.rule.opt === 'd') return fail('denied by rule', user);
    const err = await checkSecret({ file: expandVars(s.secretsFile, ctx.env), strictModes: s.strictModes, uid: ctx.uid }, user, match.group, alg, challenge, response, ctx.log);
    if (err) return fail(err, user);
    return { user, opt: match.rule.opt };
  }

  /** io.c read_args with our limits; a string is the reason for giving up (logged). */
  async function readArgs(protocol: number): Promise<string[] | string> {
    const term = protocol >= 30 ? 0x00 : 0x0a;
    let bytes = 0;
    const readList = async (t: 0x00 | 0x0a): Promise<string[] | string> => {
      const out: string[] = [];
      for (;;) {
        let a: string;
        try {
          a = await reader.line(LIMITS.bigLine, t, false);
        } catch (e) {
          if (e instanceof HandshakeError && e.kind === 'too-long') return `argument longer than ${LIMITS.bigLine} bytes from ${host} (${addr})`;
          throw e;
        }
        if (t === 0x0a) a = a.replace(/\r$/, '');
        if (a === '') return out;
        bytes += a.length + 1;
        if (out.length >= LIMITS.args - 1) return 'too many daemon arguments';
        if (bytes > LIMITS.argBytes) return `argument list longer than ${LIMITS.argBytes} bytes from ${host} (${addr})`;
        out.push(a);
      }
    };
    const first = await readList(term);
    if (typeof first === 'string') return first;
    // -s/--secluded-args: a second list, always NUL-separated, starting with a dummy argv[0].
    const dot = first.indexOf('.');
    const opts = dot < 0 ? first : first.slice(0, dot);
    const secluded = opts.some((o) => o === '--secluded-args' || o === '--protect-args' || (/^-[^-]/.test(o) && o.slice(1).split('e')[0]!.includes('s')));
    if (!secluded) return first.map(unbackslashOption(first));
    const second = await readList(0x00);
    if (typeof second === 'string') return second;
    return [...first, ...second.slice(1)];
  }
}

/** io.c unbackslash_arg for the options before "." (the client escapes shell specials). */
function unbackslashOption(all: string[]): (a: string, i: number) => string {
  const dot = all.indexOf('.');
  return (a, i) => (dot >= 0 && i >= dot ? a : a.replace(/\\(.)/gs, '$1'));
}
