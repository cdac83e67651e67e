// rsyncd's two modes, its configuration errors, its signals and hostile clients,
// run on the built single executable with a real rsync client (and ipsvd's tcpsvd
// for inetd mode).
import t from 'tap';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { linkApplets, runSync } from '../fixtures/bin.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { freePort, start, waitFor } from '../fixtures/proc.js';
import { canConnect, client, readLog, RSYNC, url, writeTree } from '../fixtures/rsyncd.js';

function setup(t: { testdir: () => string }, extra = ''): { dir: string; conf: string; rsyncd: string } {
  const dir = t.testdir();
  const conf = writeTree(dir, extra);
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  linkApplets(bin, 'sea', ['rsyncd']);
  return { dir, conf, rsyncd: join(bin, 'rsyncd') };
}

/** Send bytes on a fresh connection; resolve with what came back and how long until the daemon closed. */
function probe(port: number, send: (s: ReturnType<typeof connect>) => void, ms = 30_000): Promise<{ got: string; closedAfter: number; reset: boolean }> {
  return new Promise((res, rej) => {
    const t0 = Date.now();
    const s = connect(port, '127.0.0.1');
    let got = '';
    let reset = false;
    const timer = setTimeout(() => { s.destroy(); rej(new Error(`daemon did not close within ${ms} ms; got ${JSON.stringify(got.slice(0, 200))}`)); }, ms);
    s.on('data', (b: Buffer) => { got += b.toString('latin1'); });
    s.on('error', (e: NodeJS.ErrnoException) => { if (e.code === 'ECONNRESET' || e.code === 'EPIPE') reset = true; });
    s.on('close', () => { clearTimeout(timer); res({ got, closedAfter: Date.now() - t0, reset }); });
    s.on('connect', () => send(s));
  });
}

t.test('the same module standalone and under tcpsvd (inetd mode)', peerOpts('rsync', 'tcpsvd'), async (t) => {
  const { tcpsvd } = peerPaths('tcpsvd');
  const { dir, conf, rsyncd } = setup(t);
  const p1 = await freePort();
  const p2 = await freePort();
  const log1 = join(dir, 'standalone.log');
  const log2 = join(dir, 'inetd.log');
  start(t, rsyncd, [`--port=${p1}`, `--config=${conf}`, `--log-file=${log1}`], { detached: true });
  start(t, tcpsvd, ['-l', 'localhost', '127.0.0.1', String(p2), rsyncd, `--config=${conf}`, `--log-file=${log2}`], { detached: true });
  await waitFor('listening', async () => (await canConnect(p1)) && (await canConnect(p2)), 30_000, 50);
  const [a, b] = await Promise.all([client([url(p1)]), client([url(p2)])]);
  t.equal(a.code, 0);
  t.equal(a.out, b.out, 'same listing in both modes');
  const [c, d] = await Promise.all([client(['-a', url(p1, 'pub/'), join(dir, 'c1')]), client(['-a', url(p2, 'pub/'), join(dir, 'c2')])]);
  t.equal(c.code, 0, c.err);
  t.equal(d.code, 0, d.err);
  t.equal(readFileSync(join(dir, 'c2', 'a.txt'), 'utf8'), 'hello\n', 'pulled under tcpsvd');
  const [e, f] = await Promise.all([client([url(p1, 'denied/')]), client([url(p2, 'denied/')])]);
  t.equal(e.err, f.err, 'same refusal in both modes: the peer address is known under tcpsvd too');
  t.match(readLog(log2), /connect from UNDETERMINED \(127\.0\.0\.1\)/);
});

t.test('configuration errors', async (t) => {
  const dir = t.testdir();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  linkApplets(bin, 'sea', ['rsyncd']);
  const rsyncd = join(bin, 'rsyncd');
  const bad = join(dir, 'bad.conf');
  writeFileSync(bad, '# ok\nuse chroot = no\n[m]\npath = /tmp\nthis line has no equals sign\n');
  const r = runSync(rsyncd, ['--no-detach', `--config=${bad}`, `--port=${await freePort()}`]);
  t.equal(r.status, 1, 'a malformed file refuses to start');
  t.match(r.stderr, `${bad}:5:`, 'with file:line');
  t.match(r.stderr, /^rsyncd: fatal: Failed to parse config file: /);

  const sect = join(dir, 'sect.conf');
  writeFileSync(sect, '[m\npath = /tmp\n');
  const s = runSync(rsyncd, [`--config=${sect}`, `--port=${await freePort()}`]);
  t.equal(s.status, 1);
  t.match(s.stderr, `${sect}:1: badly formed section header`);

  const none = runSync(rsyncd, [`--config=${join(dir, 'missing.conf')}`]);
  t.equal(none.status, 1, 'a missing file refuses to start');
  t.match(none.stderr, /unable to open config file/);

  const unk = join(dir, 'unknown.conf');
  writeFileSync(unk, `frobnicate = 1\nreverse lookup = no\n[m]\npath = ${dir}\nuse chroot = no\n`);
  const port = await freePort();
  const d = start(t, rsyncd, [`--config=${unk}`, `--port=${port}`], { detached: true });
  await waitFor('started despite the unknown parameter', () => canConnect(port), 30_000, 50);
  t.match(d.stderr(), /\[\d+\] Unknown Parameter encountered: "frobnicate"\n.*\[\d+\] IGNORING unknown parameter "frobnicate"\n/, 'warned as rsync does, in the log (stderr)');
  const bad2 = runSync(rsyncd, ['--dparam=nosuchthing=1', `--config=${unk}`]);
  t.equal(bad2.status, 1);
  t.match(bad2.stderr, /Unknown parameter "nosuchthing"/);
});

t.test('hostile clients: no crash, a clean close, nothing logged as success', peerOpts('rsync'), async (t) => {
  peerPaths('rsync');
  const { dir, conf, rsyncd } = setup(t, '');
  // A short handshake timeout for the idle cases.
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('reverse lookup = no\n', 'reverse lookup = no\ntimeout = 2\n'));
  const port = await freePort();
  const log = join(dir, 'log');
  start(t, rsyncd, [`--port=${port}`, `--config=${conf}`, `--log-file=${log}`], { detached: true });
  await waitFor('listening', () => canConnect(port), 30_000, 50);

  const long = await probe(port, (s) => s.write(Buffer.alloc(64 * 1024, 0x41)));
  t.ok(long.closedAfter < 10_000, `a greeting longer than any limit is cut off (${long.closedAfter} ms)`);
  t.notMatch(long.got, /@RSYNCD: OK/);

  const nonl = await probe(port, (s) => s.write('@RSYNCD: 32.0 md5'));
  t.ok(nonl.closedAfter >= 1500 && nonl.closedAfter < 15_000, `no newline ever: closed after the timeout (${nonl.closedAfter} ms)`);

  const idle = await probe(port, () => {});
  t.ok(idle.closedAfter >= 1500 && idle.closedAfter < 15_000, `an idle client is closed after timeout (${idle.closedAfter} ms)`);

  const garbage = await probe(port, (s) => s.write(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) & 0xff))));
  t.notMatch(garbage.got, /@RSYNCD: OK/, 'binary garbage gets no OK');

  const big = await probe(port, (s) => {
    s.write('@RSYNCD: 32.0 md5\npub\n');
    // 10 MB of NUL-terminated arguments after the OK.
    const chunk = Buffer.alloc(1 << 20, 0x61);
    for (let i = 99; i < chunk.length; i += 100) chunk[i] = 0;
    for (let i = 0; i < 10; i++) s.write(chunk);
  });
  t.match(big.got, /@RSYNCD: OK/);

  const huge = await probe(port, (s) => {
    s.write('@RSYNCD: 32.0 md5\npub\n');
    s.write(Buffer.alloc(10 << 20, 0x61)); // one 10 MB argument
  });
  t.match(huge.got, /@RSYNCD: OK/);

  // Still serving, and nothing above counted as a transfer.
  const after = await client([url(port)]);
  t.equal(after.code, 0, 'the daemon still serves');
  const text = readLog(log);
  t.notMatch(text, /rsync on /, 'no hostile connection logged as a transfer');
  t.match(text, /daemon handshake timeout -- exiting/);
  t.match(text, /too many daemon arguments|argument list longer than/, text);
  t.match(text, /argument longer than/);
});

t.test('SIGHUP re-reads the config for new connections; SIGTERM drains and exits', peerOpts('rsync'), async (t) => {
  peerPaths('rsync');
  const { dir, conf, rsyncd } = setup(t);
  const port = await freePort();
  const pid = join(dir, 'rsyncd.pid');
  writeFileSync(conf, readFileSync(conf, 'utf8').replace('reverse lookup = no\n', `reverse lookup = no\npid file = ${pid}\n`));
  const d = start(t, rsyncd, [`--port=${port}`, `--config=${conf}`], { detached: true });
  await waitFor('listening', () => canConnect(port), 30_000, 50);
  t.equal(readFileSync(pid, 'utf8'), `${d.child.pid}\n`, 'pid file');
  // stdin must not be a socket (Node's pipes are socketpairs): that would be inetd mode.
  const second = runSync(rsyncd, [`--port=${await freePort()}`, `--config=${conf}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(second.status, 11, 'a second daemon on the same pid file refuses to start');
  t.match(second.stderr, `failed to lock pid file ${pid}: Resource temporarily unavailable`);
  const real = runSync(RSYNC, ['--daemon', '--no-detach', `--port=${await freePort()}`, `--config=${conf}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.equal(real.status, 11, 'so does rsync --daemon: the lock is the one rsync takes');

  writeFileSync(conf, `${readFileSync(conf, 'utf8')}\n[added]\n  path = ${dir}/pub\n  comment = after HUP\n`);
  t.notMatch((await client([url(port)])).out, /added/, 'not before the HUP');
  d.child.kill('SIGHUP');
  await waitFor('new module listed', async () => /added {10}\tafter HUP/.test((await client([url(port)])).out), 20_000, 100);

  writeFileSync(conf, '[broken\n');
  d.child.kill('SIGHUP');
  await waitFor('broken file reported', () => /configuration not re-read/.test(d.stderr()), 20_000);
  t.match((await client([url(port)])).out, /added/, 'a broken file keeps the previous configuration');

  // A connection in progress at SIGTERM may finish; new ones are refused.
  const held = connect(port, '127.0.0.1');
  held.on('error', () => {});
  let got = '';
  held.on('data', (b: Buffer) => { got += b.toString(); });
  held.write('@RSYNCD: 32.0 md5\n');
  await waitFor('greeted', () => got.includes('@RSYNCD: 32.0'), 20_000);
  d.child.kill('SIGTERM');
  await waitFor('stopped accepting', async () => !(await canConnect(port)), 20_000, 50);
  t.equal(d.child.exitCode, null, 'still running while a connection is open');
  held.write('\n'); // a listing request completes the held connection
  const ex = await d.exited;
  t.equal(ex.code, 0, 'exits 0 after the drain');
  t.match(got, /@RSYNCD: EXIT/, 'the held connection was served to the end');
  t.notOk(existsSync(pid), 'pid file removed');
});

t.test('standalone on an IPv6 address', peerOpts('rsync'), async (t) => {
  peerPaths('rsync');
  const { dir, conf, rsyncd } = setup(t, '[v6deny]\n  path = /tmp\n  hosts deny = ::1/128\n[v6allow]\n  path = /tmp\n  hosts allow = ::/0\n  hosts deny = *\n');
  const port = await freePort('::1').catch(() => 0);
  if (!port) {
    t.comment('no IPv6 loopback here: nothing to test');
    return;
  }
  const log = join(dir, 'log');
  start(t, rsyncd, [`--port=${port}`, '--address=::1', `--config=${conf}`, `--log-file=${log}`], { detached: true });
  await waitFor('listening on ::1', () => canConnect(port, '::1'), 30_000, 50);
  const r = await client([`rsync://[::1]:${port}/`]);
  t.equal(r.code, 0, r.err);
  t.match(r.out, /pub {12}\tpublic files/);
  const d = await client([`rsync://[::1]:${port}/v6deny/`]);
  t.match(d.err, /@ERROR: access denied to v6deny from UNDETERMINED \(::1\)/, 'the IPv6 peer address, matched by an IPv6 CIDR');
  const a = await client([`rsync://[::1]:${port}/v6allow/`]);
  t.equal(a.code, 0, `an IPv6 allow list: ${a.err}`);
  const v4 = await client([`rsync://[::1]:${port}/denied/`]);
  t.equal(v4.code, 0, 'an IPv4 deny list does not match an IPv6 client');
  const v = await client(['-a', `rsync://[::1]:${port}/pub/`, join(dir, 'v6copy')]);
  t.equal(v.code, 0, v.err);
});
