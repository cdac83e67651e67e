// SPDX-License-Identifier: MIT
// Our tcpsvd against ipsvd's real tcpsvd on loopback: the child's environment for
// a matrix of options, the -c limit (clients wait, never more than n children),
// -C with its message, instructions through -i and through a cdb built by the
// real ipsvd-cdb, IPv6, and bad input (exit codes and messages).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { envWithNode } from '../fixtures/bin.js';
import { descendants, fakeDns, SIDES, writeEntries, stableEnv, stableLog, startTcpsvd, talk, tcpsvdPath, type Side } from '../fixtures/tcpsvd.js';

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const BASE_ENV = { PATH: '/usr/bin:/bin', FOO: 'inherited', TCPREMOTEHOST: 'preset', TCPREMOTEINFO: 'preset', TCPLOCALHOST: 'preset' };

t.test('environment parity', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'env.sh', 'env');
  const inst = join(dir, 'inst');
  mkdirSync(inst);
  writeFileSync(join(inst, '127.0.0'), '+FROMFILE=yes\n+EMPTY=\n+FOO\n+TCPLOCALIP=overridden\n# comment\n');
  const matrix: [string, string[]][] = [
    ['plain', ['-l', 'localhost']],
    ['-E', ['-E', '-l', 'localhost']],
    ['-l NAME', ['-l', 'some.name']],
    ['-C', ['-l', 'localhost', '-C', '3']],
    ['-i env rules', ['-l', 'localhost', '-i', inst]],
    ['-E -i env rules', ['-E', '-l', 'localhost', '-i', inst]],
  ];
  for (const [what, opts] of matrix) {
    const got: Record<Side, string[]> = { ours: [], ipsvd: [] };
    for (const side of SIDES) {
      const s = await startTcpsvd(t, side, dir, opts, [prog], { env: BASE_ENV });
      got[side] = stableEnv(await talk(s.port));
      s.child.kill('SIGTERM');
      await s.exited;
    }
    t.ok(got.ipsvd.length > 2, `${what}: ipsvd's child printed its environment`);
    t.same(got.ours, got.ipsvd, `${what}: same environment as ipsvd`);
  }
});

const ROOT_FOR_DNS = process.getuid?.() === 0 ? peerOpts('tcpsvd') : { skip: 'serving DNS on port 53 needs root' };

t.test('environment parity with -h (names from /etc/hosts; ipsvd asks a loopback DNS)', ROOT_FOR_DNS, async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'env.sh', 'env');
  const dnsIp = '127.0.0.153';
  await fakeDns(t, dnsIp, { '1.0.0.127.in-addr.arpa': 'localhost' }, { localhost: '127.0.0.1' });
  const env = { ...BASE_ENV, DNSCACHEIP: dnsIp };
  for (const opts of [['-h', '-l', 'localhost'], ['-p', '-l', 'localhost'], ['-h'], ['-v']]) {
    const got: Record<Side, string[]> = { ours: [], ipsvd: [] };
    for (const side of SIDES) {
      const s = await startTcpsvd(t, side, dir, opts, [prog], { env });
      got[side] = stableEnv(await talk(s.port));
      s.child.kill('SIGTERM');
      await s.exited;
    }
    const what = opts.join(' ');
    if (opts[0] === '-v') t.ok(got.ipsvd.includes('TCPLOCALHOST=localhost'), 'no -l: ipsvd found the local name');
    else t.ok(got.ipsvd.includes('TCPREMOTEHOST=localhost'), `${what}: ipsvd found the name`);
    t.same(got.ours, got.ipsvd, `${what}: same environment as ipsvd`);
  }
});

t.test('-c 4: 50 concurrent clients, never more than 4 children, all served', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  for (const side of SIDES) {
    const log = join(dir, `${side}.log`);
    writeFileSync(log, '');
    const prog = script(dir, `slow-${side}.sh`, `echo "+" >> ${log}; sleep 0.1; echo "-" >> ${log}; echo served`);
    const s = await startTcpsvd(t, side, dir, ['-c', '4', '-b', '64', '-l', 'localhost'], [prog]);
    let maxChildren = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        // Descendants, not children: our programs are started by spawner processes. A
        // fork of the script on its way to exec `sleep` shows the script's command line
        // too: count only the scripts whose parent is no script.
        const below = descendants(s.child.pid!);
        const script = new Set(below.filter((p) => p.args.includes('slow-')).map((p) => p.pid));
        const n = below.filter((p) => script.has(p.pid) && !script.has(p.ppid) && p.state !== 'Z').length;
        maxChildren = Math.max(maxChildren, n);
        await new Promise((res) => setTimeout(res, 15));
      }
    })();
    const outs = await Promise.all(Array.from({ length: 50 }, () => talk(s.port, { ms: 120_000 })));
    sampling = false;
    await sampler;
    t.equal(outs.filter((o) => o === 'served\n').length, 50, `${side}: all 50 clients served`);
    let cur = 0;
    let max = 0;
    for (const c of readFileSync(log, 'utf8')) {
      if (c === '+') max = Math.max(max, ++cur);
      if (c === '-') cur--;
    }
    t.ok(max <= 4 && max >= 2, `${side}: at most 4 children ran at once (recorded ${max})`);
    t.ok(maxChildren <= 4, `${side}: at most 4 programs running, seen in /proc (${maxChildren})`);
    t.notMatch(s.stdout(), /status 5\/4/, `${side}: status never above 4/4`);
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

t.test('-c 1: a waiting client stays in the backlog, not accepted', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'hold.sh', 'echo hello; read x; echo bye');
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '1', '-l', 'localhost'], [prog]);
  const first = talk(s.port, { input: undefined, ms: 60_000 });
  await waitFor('first child', () => s.stdout().includes('start '), 20_000);
  const second = talk(s.port, { input: 'x\n', ms: 60_000 });
  // The second client must be queued by the kernel (Recv-Q of the listening socket), not by us.
  await waitFor('queued in the backlog', () => {
    const r = spawnSync('ss', ['-Hltn', `sport = :${s.port}`], { encoding: 'utf8' });
    return /^LISTEN\s+1\s/m.test(r.stdout);
  }, 20_000);
  t.equal((s.stdout().match(/status 1\/1/g) ?? []).length, 1, 'only one connection accepted so far');
  // End the first child: the slot frees and the queued client is accepted.
  const m = /start (\d+)/.exec(s.stdout());
  process.kill(Number(m![1]), 'SIGTERM');
  t.match(await first, /^hello\n/, 'first client served');
  t.equal(await second, 'hello\nbye\n', 'second client served after the first ended');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('-C 2: the third connection from one address gets the message', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  for (const side of SIDES) {
    const prog = script(dir, `wait-${side}.sh`, 'echo in; read x; echo out');
    const s = await startTcpsvd(t, side, dir, ['-C', '2:busy\\r\\n', '-l', 'localhost'], [prog]);
    const holds = [0, 1].map(() => {
      const c = createConnection(s.port);
      return c;
    });
    await Promise.all(holds.map((h) => h.ready));
    const third = await talk(s.port);
    t.equal(third, 'busy\r\n', `${side}: third connection gets the message`);
    const fourth = await talk(s.port, { from: '127.0.0.2', input: 'x\n' });
    t.equal(fourth, 'in\nout\n', `${side}: another address is still served`);
    for (const h of holds) h.end('x\n');
    t.same(await Promise.all(holds.map((h) => h.done)), ['in\nout\n', 'in\nout\n'], `${side}: first two served`);
    t.match(s.stdout(), /concurrency \d+ 127\.0\.0\.1 3\/2\n.*deny \d+ localhost:127\.0\.0\.1 ::127\.0\.0\.1:\d+\n/, `${side}: concurrency and deny logged`);
    t.match(s.stdout(), /end \d+ exit 100\n/, `${side}: denied connection ends with 100`);
    s.child.kill('SIGTERM');
    await s.exited;
  }
});

/** A connection that waits for the first output before counting as established. */
function createConnection(port: number): { ready: Promise<void>; done: Promise<string>; end(s: string): void } {
  const c = connect({ port, host: '127.0.0.1' });
  let d = '';
  let readyRes: () => void = () => {};
  const ready = new Promise<void>((r) => { readyRes = r; });
  const done = new Promise<string>((res, rej) => {
    c.on('data', (b: Buffer) => { d += b.toString(); if (d.includes('in\n')) readyRes(); });
    c.on('close', () => res(d));
    c.on('error', rej);
  });
  return { ready, done, end: (s) => c.end(s) };
}

function instructionsDir(dir: string): string {
  const inst = join(dir, 'inst');
  mkdirSync(inst);
  writeEntries(inst, [
    ['127.0.0.1', '+FROMFILE=one\n+FOO\n# comment\nbogus line\n', 0o644],
    ['127.0.0.2', 'echo exec-mode; env | grep ^TCPREMOTEIP=', 0o755],
    ['127.0.0.3', '', 0o000],
    ['127.0.0.4', '+X=1\n=127.0.0.99\n', 0o644],
    ['127.0.0.5', '+A=1\n=0:fwd\n+SKIPPED=1\n', 0o644],
    ['fwd', '+B=2\n', 0o644],
    ['127.0.0.6', '=127.0.0.6\n+AFTER=skipped\n', 0o644],
    ['127.0.0.7', '=0:missing\n', 0o644],
    ['0', '+DEFAULT=yes\n', 0o644],
  ]);
  return inst;
}

const CLIENTS = ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5', '127.0.0.6', '127.0.0.7', '127.0.0.8'];

t.test('instructions: -i dir and -x cdb (built by ipsvd-cdb) as ipsvd', peerOpts('tcpsvd', 'ipsvd-cdb'), async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'env.sh', 'echo prog; env | grep -E "^(FROMFILE|FOO|X|A|B|SKIPPED|AFTER|DEFAULT|TCPREMOTEIP)=" | sort');
  const inst = instructionsDir(dir);
  const cdb = join(dir, 'inst.cdb');
  execFileSync(peerPaths('ipsvd-cdb')['ipsvd-cdb'], [cdb, join(dir, 'inst.tmp'), inst]);
  for (const [what, opt] of [['-i', ['-i', inst]], ['-x', ['-x', cdb]]] as const) {
    const got: Record<Side, string[]> = { ours: [], ipsvd: [] };
    const logs: Record<Side, string[]> = { ours: [], ipsvd: [] };
    for (const side of SIDES) {
      const s = await startTcpsvd(t, side, dir, ['-l', 'localhost', ...opt], [prog], { env: { PATH: '/usr/bin:/bin', FOO: 'inherited' } });
      for (const from of CLIENTS) got[side].push(`${from}: ${(await talk(s.port, { from })).replace(/\n/g, '|')}`);
      await waitFor('all ended', () => (s.stdout().match(/ end /g) ?? []).length === CLIENTS.length, 20_000);
      logs[side] = stableLog(s.stdout()).filter((l) => /: (start|exec|deny) /.test(l));
      s.child.kill('SIGTERM');
      await s.exited;
      t.match(s.stderr(), /bad instruction: .*127\.0\.0\.1: bogus line/, `${what} ${side}: bad line warned about`);
      t.match(s.stderr(), /127\.0\.0\.7,missing: not found/, `${what} ${side}: missing forward warned about`);
    }
    t.same(got.ours, got.ipsvd, `${what}: each client got what ipsvd gives it`);
    t.same(logs.ours, logs.ipsvd, `${what}: start/exec/deny lines as ipsvd's`);
    t.match(got.ours.join('\n'), /127\.0\.0\.2: exec-mode\|TCPREMOTEIP=127\.0\.0\.2/, `${what}: exec entry ran`);
    t.match(got.ours.join('\n'), /127\.0\.0\.3: \n/, `${what}: deny entry closed the connection`);
  }
});

t.test('-vv shows the instructions', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo x');
  const inst = instructionsDir(dir);
  const logs: Record<Side, string[]> = { ours: [], ipsvd: [] };
  for (const side of SIDES) {
    const s = await startTcpsvd(t, side, dir, ['-v', '-l', 'localhost', '-i', inst], [prog]);
    for (const from of ['127.0.0.1', '127.0.0.5']) await talk(s.port, { from });
    await waitFor('ended', () => (s.stdout().match(/ end /g) ?? []).length === 2, 20_000);
    logs[side] = stableLog(s.stdout()).filter((l) => / start /.test(l));
    s.child.kill('SIGTERM');
    await s.exited;
  }
  t.same(logs.ours, logs.ipsvd, '-vv start lines equal');
  t.match(logs.ours.join('\n'), /\+FROMFILE=one,\+FOO,# comment,bogus line/, 'instructions shown');
});

t.test('IPv6 loopback', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'env.sh', 'env | grep -E "^(PROTO|TCPLOCALIP|TCPREMOTEIP)=" | sort');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { host: '::1' });
  t.equal(await talk(s.port, { host: '::1' }), 'PROTO=TCP\nTCPLOCALIP=::1\nTCPREMOTEIP=::1\n');
  // outfix() shows ':' in the remote address as '?', as ipsvd does for every name it logs.
  t.match(s.stdout(), /start \d+ localhost:::1 ::\?\?1:\d+/, 'start line with IPv6 addresses');
  s.child.kill('SIGTERM');
  await s.exited;
  const any = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { host: '::' });
  t.equal(await talk(any.port, { host: '127.0.0.1' }), 'PROTO=TCP\nTCPLOCALIP=127.0.0.1\nTCPREMOTEIP=127.0.0.1\n', 'IPv4 client of a dual-stack socket shows plain IPv4');
  any.child.kill('SIGTERM');
  await any.exited;
});

t.test('bad input: messages and exit codes as ipsvd', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => { busy.close(); });
  const busyPort = String((busy.address() as { port: number }).port);
  const cases: [string, string[]][] = [
    ['port in use', ['127.0.0.1', busyPort, 'true']],
    ['unknown user', ['-u', 'no-such-user-x', '127.0.0.1', '0', 'true']],
    ['unknown group', ['-u', 'root:no-such-group-x', '127.0.0.1', '0', 'true']],
    ['unknown port', ['127.0.0.1', 'no-such-service-x', 'true']],
    ['bad port', ['127.0.0.1', '12x', 'true']],
    ['no prog', ['127.0.0.1', '0']],
    ['-c 0', ['-c', '0', '127.0.0.1', '0', 'true']],
    ['-C 0', ['-C', '0', '127.0.0.1', '0', 'true']],
    ['-i and -x', ['-i', 'a', '-x', 'b', '127.0.0.1', '0', 'true']],
    ['bad option', ['-Z', '127.0.0.1', '0', 'true']],
  ];
  for (const [what, args] of cases) {
    const r: Record<Side, { status: number | null; stderr: string }> = {} as never;
    for (const side of SIDES) {
      const x = spawnSync(tcpsvdPath(side, dir), args, { encoding: 'utf8', timeout: 20_000, env: envWithNode() });
      // ipsvd names itself in the usage line as invoked (argv[0]); ours as the applet.
      r[side] = { status: x.status, stderr: x.stderr.replace(/^usage: \S+/m, 'usage: tcpsvd') };
    }
    t.equal(r.ours.status, r.ipsvd.status, `${what}: exit code ${r.ipsvd.status}`);
    t.equal(r.ours.stderr, r.ipsvd.stderr, `${what}: same message`);
  }
});

t.test('bad input per connection: missing program, unreadable rules', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo ran');
  for (const [what, opts, p] of [
    ['missing program', [], ['./no-such-prog']],
    ['missing rules dir', ['-i', join(dir, 'nodir')], [prog]],
    ['missing cdb', ['-x', join(dir, 'no.cdb')], [prog]],
  ] as const) {
    const errs: Record<Side, string> = { ours: '', ipsvd: '' };
    for (const side of SIDES) {
      const s = await startTcpsvd(t, side, dir, ['-l', 'localhost', ...opts], [...p]);
      t.equal(await talk(s.port), '', `${what} ${side}: nothing runs, connection closed`);
      await waitFor('end logged', () => / end \d+ exit 111\n/.test(s.stdout()), 20_000);
      await waitFor('drop message', () => s.stderr().includes('drop:'), 20_000);
      errs[side] = s.stderr();
      s.child.kill('SIGTERM');
      await s.exited;
    }
    t.equal(errs.ours, errs.ipsvd, `${what}: same message as ipsvd`);
  }
});

t.test('SIGTERM: exit 0 and children keep running', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo in; read x; echo out');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog]);
  const c = createConnection(s.port);
  await c.ready;
  s.child.kill('SIGTERM');
  const ex = await s.exited;
  t.same(ex, { code: 0, signal: null }, 'exit 0');
  t.match(s.stdout(), /sigterm received, exit\.\n$/);
  c.end('x\n');
  t.equal(await c.done, 'in\nout\n', 'child served its client after the server exited');
});

t.test('-u user: children run as the user, with only its group', process.getuid?.() === 0 ? peerOpts('tcpsvd') : { skip: 'needs root' }, async (t) => {
  const dir = t.testdir();
  chmodSync(dir, 0o755);
  const prog = script(dir, 'id.sh', 'id -u; id -g; id -G');
  const got: Record<Side, string> = { ours: '', ipsvd: '' };
  for (const side of SIDES) {
    const s = await startTcpsvd(t, side, dir, ['-u', 'nobody', '-l', 'localhost'], [prog]);
    got[side] = await talk(s.port);
    t.match(s.stdout(), /listening on 127\.0\.0\.1:\d+, uid 65534, gid \d+, starting\./, `${side}: listening line names the uid`);
    s.child.kill('SIGTERM');
    await s.exited;
  }
  t.match(got.ipsvd, /^65534\n/, 'ipsvd child runs as nobody');
  t.equal(got.ours, got.ipsvd, 'same ids as ipsvd\'s child');
});

t.test('the child gets the socket as fd 0 and 1 and nothing else of ours', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const got: Record<Side, string> = { ours: '', ipsvd: '' };
  for (const side of SIDES) {
    const s = await startTcpsvd(t, side, dir, ['-l', 'localhost'], ['/bin/ls', '/proc/self/fd']);
    got[side] = await talk(s.port);
    s.child.kill('SIGTERM');
    await s.exited;
  }
  t.match(got.ipsvd, /^0\n1\n2\n/, 'ipsvd: fds 0 1 2 (and ls\'s own directory fd)');
  t.equal(got.ours, got.ipsvd, 'the same descriptors as under ipsvd');
  const prog = script(dir, 'echo.sh', 'read line; echo "got $line"');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog]);
  t.equal(await talk(s.port, { input: 'hello\n' }), 'got hello\n', 'reads and writes the socket');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('SIGHUP terminates the server, as ipsvd (no handler)', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  for (const side of SIDES) {
    const s = await startTcpsvd(t, side, dir, ['-l', 'localhost'], ['true']);
    s.child.kill('SIGHUP');
    t.same(await s.exited, { code: null, signal: 'SIGHUP' }, `${side}: killed by HUP`);
  }
});

t.test('the JS bundle works too: environment and -c with its socket keeper', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$PROTO $TCPREMOTEIP"; read x');
  const s = await startTcpsvd(t, 'ours-mjs', dir, ['-c', '1', '-l', 'localhost'], [prog], { env: envWithNode({ PATH: '/usr/bin:/bin' }) });
  const a = createConnection(s.port);
  await waitFor('first client served', () => s.stdout().includes(' start '), 20_000);
  const b = talk(s.port, { input: 'x\n' });
  await waitFor('second client queued in the backlog', () => /^LISTEN\s+1\s/m.test(spawnSync('ss', ['-Hltn', `sport = :${s.port}`], { encoding: 'utf8' }).stdout), 20_000);
  a.end('x\n');
  t.equal(await b, 'TCP 127.0.0.1\n', 'second client served after the first');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('losing the socket keeper while paused is fatal (111), not a silent stop', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo in; read x');
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '1', '-l', 'localhost'], [prog]);
  const a = createConnection(s.port);
  await a.ready;
  const kids = spawnSync('ps', ['--ppid', String(s.child.pid), '-o', 'pid=,args='], { encoding: 'utf8' }).stdout;
  const keeper = /^\s*(\d+) .*--svbox-tcpsvd-keeper/m.exec(kids);
  t.ok(keeper, 'a keeper process runs');
  process.kill(Number(keeper![1]), 'SIGKILL');
  t.same(await s.exited, { code: 111, signal: null }, 'exit 111');
  t.match(s.stderr(), /^tcpsvd: fatal: unable to accept connections: listening socket keeper died\n/m);
  a.end('x\n');
  await a.done;
});

t.test('-v log of a connection and of TERM, line by line as ipsvd', peerOpts('tcpsvd'), async (t) => {
  const dir = t.testdir();
  const logs: Record<Side, string[]> = { ours: [], ipsvd: [] };
  for (const side of SIDES) {
    const s = await startTcpsvd(t, side, dir, ['-l', 'localhost', '-C', '3'], ['/bin/echo', 'hi']);
    t.equal(await talk(s.port), 'hi\n');
    await waitFor('end logged', () => s.stdout().includes('status 0/30'), 20_000);
    s.child.kill('SIGTERM');
    await s.exited;
    logs[side] = stableLog(s.stdout());
  }
  t.same(logs.ours, logs.ipsvd, 'same lines in the same order');
  t.equal(logs.ours.length, 8, 'listening, status, pid, concurrency, start, end, status, sigterm');
});
