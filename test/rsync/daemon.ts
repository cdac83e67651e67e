// serveConnection in-process over loopback sockets, with a recording engine.
import t from 'tap';
import { closeSync, writeFileSync } from 'node:fs';
import { createServer, connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { parseConfig } from '../../src/rsync/config.js';
import { formatListing, negotiateProtocol, parseGreeting, serveConnection, type ConnectionResult, type DaemonContext, type TransferSession } from '../../src/rsync/daemon.js';
import { authResponse } from '../../src/rsync/auth.js';
import { waitFor } from '../fixtures/proc.js';

interface Run {
  result: Promise<ConnectionResult>;
  sock: Socket;
  got: () => Buffer;
  closed: Promise<void>;
  logs: string[];
  sessions: TransferSession[];
}

async function open(t: Tap, confText: string, extra: Partial<DaemonContext> = {}): Promise<Run> {
  const cfg = parseConfig(confText, 'test.conf');
  const logs: string[] = [];
  const sessions: TransferSession[] = [];
  const slots: number[] = [];
  let resolveResult!: (r: ConnectionResult) => void;
  const result = new Promise<ConnectionResult>((res) => { resolveResult = res; });
  const server = createServer((s) => {
    s.on('error', () => {});
    void serveConnection(s, s, {
      config: cfg, addr: '127.0.0.1', uid: 1000, env: {}, log: (l) => logs.push(l),
      engine: async (sess) => {
        sessions.push(sess);
        sess.output.write('ENGINE');
        return 0;
      },
      onSlot: (fd) => slots.push(fd),
      ...extra,
    }).then((r) => {
      s.end();
      for (const fd of slots) closeSync(fd);
      resolveResult(r);
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  const sock = connect(port, '127.0.0.1');
  sock.on('error', () => {});
  let got = Buffer.alloc(0);
  sock.on('data', (b: Buffer) => { got = Buffer.concat([got, b]); });
  const closed = new Promise<void>((res) => sock.on('close', () => res()));
  t.teardown(() => { sock.destroy(); server.close(); });
  return { result, sock, got: () => got, closed, logs, sessions };
}

type Tap = { teardown: (f: () => void) => void };

const BASE = 'reverse lookup = no\nuse chroot = no\n';

t.test('greeting parsing and protocol negotiation', async (t) => {
  t.same(parseGreeting('@RSYNCD: 31.0 md5 md4'), { protocol: 31, sub: 0, digests: 'md5 md4' });
  t.same(parseGreeting('@RSYNCD: 29'), { protocol: 29, sub: undefined, digests: undefined });
  t.equal(parseGreeting('HELLO'), undefined);
  t.equal(negotiateProtocol(32, 0), 32);
  t.equal(negotiateProtocol(31, 0), 31);
  t.equal(negotiateProtocol(40, 0), 32);
  t.equal(negotiateProtocol(31, 1), 30, 'a pre-release 31 client gets 30');
  t.equal(negotiateProtocol(32, 1), 31, 'equal version, different sub');
});

t.test('greeting, motd and listing bytes', async (t) => {
  const dir = t.testdir({ motd: 'Hello\n' });
  const r = await open(t, `${BASE}motd file = ${join(dir, 'motd')}\n[a]\npath=${dir}\ncomment = first\n[hidden]\npath=${dir}\nlist = no\n[longer-module-name]\npath=${dir}\n`);
  r.sock.write('@RSYNCD: 32.0 sha512 md5\n\n');
  await r.closed;
  t.equal(r.got().toString(), '@RSYNCD: 32.0 sha512 sha256 sha1 md5 md4\nHello\n\na              \tfirst\nlonger-module-name\t\n@RSYNCD: EXIT\n');
  t.same(await r.result, { code: 0, outcome: 'listing' });
  t.same(r.logs, ['connect from UNDETERMINED (127.0.0.1)', 'module-list request from UNDETERMINED (127.0.0.1)']);
  t.equal(formatListing(parseConfig('[m]\npath=/\n', 'f'), 24), 'm              \t\n', 'no EXIT line before protocol 25');
});

t.test('errors before OK', async (t) => {
  const dir = t.testdir({});
  const conf = `${BASE}[m]\npath=${dir}\n[nopath]\ncomment = x\n[gone]\npath=${dir}/missing\n[off]\npath=${dir}\nmax connections = -1\nlock file = ${dir}/lock\n`;
  const cases: [string, RegExp][] = [
    ['@RSYNCD: 32.0 md5\n#frob\n', /@ERROR: Unknown command '#frob'\n$/],
    ['@RSYNCD: 32\n', /@ERROR: your client omitted the subprotocol value: @RSYNCD: 32\n$/],
    ['@RSYNCD: 32.0\n', /@ERROR: your client omitted the digest name list: @RSYNCD: 32\.0\n$/],
    ['HELLO\n', /@ERROR: protocol startup error\n$/],
    ['@RSYNCD: 29.0 md5\nm\n', /@ERROR: protocol version mismatch/],
    ['@RSYNCD: 32.0 md5\nnopath\n', /@ERROR: no path setting\.\n$/],
    ['@RSYNCD: 32.0 md5\ngone\n', /@ERROR: chdir failed\n$/],
    ['@RSYNCD: 32.0 md5\noff\n', /@ERROR: max connections \(-1\) reached -- try again later\n$/],
    ['@RSYNCD: 32.0 md5\n#early_input=999999\n', /@ERROR: invalid early_input length\n$/],
  ];
  for (const [send, want] of cases) {
    const r = await open(t, conf);
    r.sock.write(send);
    await r.closed;
    t.match(r.got().toString(), want, JSON.stringify(send));
    t.equal((await r.result).outcome, 'error');
  }
});

t.test('arguments reach the engine; protect-args lists are joined', async (t) => {
  const dir = t.testdir({});
  const conf = `${BASE}[m]\npath=${dir}/\ncomment = c\n`;
  let r = await open(t, conf);
  r.sock.write('@RSYNCD: 32.0 md5\nm\n--server\0--sender\0-vlogDtpre.iLsfxCIvu\0.\0m/\0\0EXTRA');
  await r.closed;
  t.match(r.got().toString(), /@RSYNCD: OK\nENGINE$/);
  t.same((await r.result).outcome, 'transfer');
  const s = r.sessions[0]!;
  t.same(s.args, ['--server', '--sender', '-vlogDtpre.iLsfxCIvu', '.', 'm/']);
  t.equal(s.leftover.toString(), 'EXTRA', 'bytes past the list are handed over');
  t.equal(s.protocol, 32);
  t.equal(s.modulePath, dir, 'trailing slash dropped');
  t.equal(s.readOnly, true);
  t.equal(s.mungeSymlinks, true, 'munge symlinks defaults to !use chroot');
  t.equal(s.numericIds, false);
  t.equal(s.request, 'm/');
  t.match(r.logs.join('\n'), /rsync on m\/ from UNDETERMINED \(127\.0\.0\.1\)/);

  r = await open(t, conf);
  r.sock.write('@RSYNCD: 31.0 md5\nm\n--server\0--sender\0-slogDtpre.iLsfxCIvu\0\0rsync\0--delete\0.\0m/dir\0\0');
  await r.closed;
  t.same(r.sessions[0]!.args, ['--server', '--sender', '-slogDtpre.iLsfxCIvu', '--delete', '.', 'm/dir'], 'secluded args');
  t.equal(r.sessions[0]!.protocol, 31);

  r = await open(t, conf);
  r.sock.write('@RSYNCD: 32.0 md5\nm\n--server\0--sender\0--log-format=%n\\ %l\0.\0m/a\\ b\0\0');
  await r.closed;
  t.same(r.sessions[0]!.args, ['--server', '--sender', '--log-format=%n %l', '.', 'm/a\\ b'], 'one level of backslashes removed before "." only');
});

t.test('authentication', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'secrets'), 'alice:pw1\nbob:pw2\n', { mode: 0o600 });
  const conf = `${BASE}[m]\npath=${dir}\nauth users = alice:rw bob eve:deny\nsecrets file = ${dir}/secrets\n[strong]\npath=${dir}\nauth users = alice\nauth digest = sha256\nsecrets file = ${dir}/secrets\n`;
  const login = async (greeting: string, mod: string, user: string, pw: string, alg: 'md5' | 'sha512' | 'md4' = 'md5'): Promise<Run> => {
    const r = await open(t, conf);
    r.sock.write(`${greeting}\n${mod}\n`);
    await waitFor('challenge', () => /AUTHREQD (\S+)\n/.exec(r.got().toString()) ?? /@ERROR/.test(r.got().toString()), 10_000);
    const m = /AUTHREQD (\S+)\n/.exec(r.got().toString());
    if (m) r.sock.write(`${user} ${await authResponse(alg, pw, m[1]!)}\n--server\0--sender\0.\0${mod}/\0\0`);
    await r.closed;
    return r;
  };
  let r = await login('@RSYNCD: 32.0 md5 md4', 'm', 'alice', 'pw1');
  t.match(r.got().toString(), /@RSYNCD: OK\nENGINE$/);
  t.equal(r.sessions[0]!.readOnly, false, 'alice:rw overrides read only');
  t.equal(r.sessions[0]!.user, 'alice');
  r = await login('@RSYNCD: 32.0 sha512 md5', 'm', 'bob', 'pw2', 'sha512');
  t.equal(r.sessions[0]!.readOnly, true, 'bob keeps read only');
  r = await login('@RSYNCD: 31.0 md4', 'm', 'alice', 'pw1', 'md4');
  t.match(r.got().toString(), /@RSYNCD: OK/, 'md4 from the list');
  r = await login('@RSYNCD: 30.0', 'm', 'alice', 'pw1', 'md5');
  t.match(r.got().toString(), /@RSYNCD: OK/, 'no list at 30: md5');
  r = await login('@RSYNCD: 32.0 md5', 'm', 'alice', 'nope');
  t.match(r.got().toString(), /@ERROR: auth failed on module m\n$/);
  t.match(r.logs.join('\n'), /auth failed on module m from UNDETERMINED \(127\.0\.0\.1\) for alice: password mismatch/);
  r = await login('@RSYNCD: 32.0 md5', 'm', 'eve', 'x');
  t.match(r.logs.join('\n'), /for eve: denied by rule/);
  r = await login('@RSYNCD: 32.0 md5', 'm', 'mallory', 'x');
  t.match(r.logs.join('\n'), /for mallory: no matching rule/);
  r = await login('@RSYNCD: 32.0 xxh64', 'm', 'alice', 'pw1');
  t.match(r.got().toString(), /@ERROR: your client does not support one of our daemon-auth checksums: sha512 sha256 sha1 md5 md4\n$/);
  r = await login('@RSYNCD: 32.0 md5', 'strong', 'alice', 'pw1');
  t.match(r.got().toString(), /@ERROR: auth failed on module strong/, 'auth digest floor');
  t.match(r.logs.join('\n'), /negotiated auth digest md5 is weaker than the required 'auth digest = sha256'/);
  r = await login('@RSYNCD: 32.0 sha256', 'strong', 'alice', 'pw1');
  t.match(r.got().toString(), /AUTHREQD [A-Za-z0-9+/]{43}\n@ERROR/, 'sha256 challenge; md5 response fails');
});

t.test('limits', async (t) => {
  const dir = t.testdir({});
  const conf = `${BASE}[m]\npath=${dir}\n`;
  let r = await open(t, conf);
  r.sock.write(`@RSYNCD: 32.0 ${'x'.repeat(2000)}\n`);
  await r.closed;
  t.equal((await r.result).outcome, 'hostile', 'a long greeting');
  r = await open(t, conf);
  r.sock.write('@RSYNCD: 32.0 md5\nm\0x\n');
  await r.closed;
  t.equal((await r.result).outcome, 'hostile', 'NUL in a handshake line');
  r = await open(t, conf);
  r.sock.write(`@RSYNCD: 32.0 md5\nm\n--server\0${'a\0'.repeat(16_000)}\0`);
  await r.closed;
  t.equal((await r.result).outcome, 'hostile');
  t.match(r.logs.join('\n'), /too many daemon arguments/);
  t.equal(r.sessions.length, 0, 'never handed to the engine');
  r = await open(t, `${BASE}timeout = 1\n[m]\npath=${dir}\n`);
  const t0 = Date.now();
  await r.closed;
  t.ok(Date.now() - t0 >= 900, 'idle: closed after `timeout`');
  t.same(await r.result, { code: 30, outcome: 'timeout' });
  t.match(r.logs.join('\n'), /daemon handshake timeout -- exiting/);
});

t.test('reverse lookup', async (t) => {
  const dir = t.testdir({});
  let r = await open(t, `[m]\npath=${dir}\n`, { reverse: async () => 'client.example' });
  r.sock.write('@RSYNCD: 32.0 md5\n\n');
  await r.closed;
  t.equal(r.logs[0], 'connect from client.example (127.0.0.1)', 'reverse lookup = yes is the default');
  r = await open(t, `[m]\npath=${dir}\nhosts allow = *.example\n`, { reverse: async () => { throw new Error('NXDOMAIN'); } });
  r.sock.write('@RSYNCD: 32.0 md5\nm\n');
  await r.closed;
  t.equal(r.logs[0], 'connect from UNKNOWN (127.0.0.1)');
  t.match(r.got().toString(), /@ERROR: access denied to m from UNKNOWN \(127\.0\.0\.1\)/);
  r = await open(t, `reverse lookup = no\n[m]\npath=${dir}\nreverse lookup = yes\nhosts allow = *.example\n`, { reverse: async () => 'c.example' });
  r.sock.write('@RSYNCD: 32.0 md5\nm\n\0\0');
  await r.closed;
  t.equal(r.logs[0], 'connect from UNDETERMINED (127.0.0.1)', 'off globally');
  t.match(r.logs.join('\n'), /rsync allowed access on module m from c\.example/, 'on for the module: looked up then');
});

t.test('LineReader holds at most maxBuffered unread bytes', async (t) => {
  const { PassThrough } = await import('node:stream');
  const { LineReader } = await import('../../src/rsync/line-reader.js');
  const input = new PassThrough();
  const r = new LineReader(input, 1000);
  input.write('first\n');
  t.equal(await r.line(100), 'first');
  input.write(Buffer.alloc(600, 0x61));
  input.write(Buffer.alloc(600, 0x62));
  const e = await r.line(5000).catch((x: unknown) => x);
  t.match(e, { name: 'HandshakeError', kind: 'too-long' });
  t.ok(input.isPaused(), 'reading stopped');
});
