// Our runsv next to runit's on bad input (missing or broken ./run, a directory that
// cannot be used, garbage on the control FIFO, a truncated status file), a second
// runsv on the same directory in both orders, a one-shot service that runs
// `sv o .` itself, and the orderly shutdown of a service before its logger.
import t from 'tap';
import { chmodSync, closeSync, constants, existsSync, mkdirSync, openSync, readFileSync, statSync, symlinkSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { runSync } from '../fixtures/bin.js';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { IMPLS, alive, lines, normalise, peer, pidOf, startRunsv, stat, toolPath, waitDown, waitLines, waitStat, writeService, type Impl } from '../fixtures/runsv.js';

const SLEEPER = '#!/bin/sh\nexec sleep 1000\n';
const firstLine = (s: string, d: string): string => normalise(s, d).split('\n')[0]!;

t.test('a missing or non-executable ./run: a message every second, runsv keeps running', peerOpts('runsv', 'svok'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const missing = writeService(join(root, 'missing'), { 'README': 'no run here\n' });
    const noexec = writeService(join(root, 'noexec'), { 'notrun': SLEEPER });
    writeFileSync(join(noexec, 'run'), SLEEPER, { mode: 0o644 });
    const out: string[] = [];
    for (const d of [missing, noexec]) {
      const p = startRunsv(t, impl, d, join(root, 'bin'));
      await waitFor('two failures', () => p.stderr().split('\n').filter(Boolean).length >= 2, 20_000);
      out.push(firstLine(p.stderr(), d), `svok ${peer('svok', [d]).code}`, `alive ${p.child.exitCode === null}`);
      writeService(d, { run: SLEEPER });
      await waitStat(d, 'run\n');
      out.push(`fixed ${stat(d).trim()}`);
    }
    res[impl] = out;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours, [
    'runsv SVC: fatal: unable to start ./run: file does not exist', 'svok 0', 'alive true', 'fixed run',
    'runsv SVC: fatal: unable to start ./run: access denied', 'svok 0', 'alive true', 'fixed run',
  ]);
});

t.test('a directory runsv cannot use: fatal, exit 111, as runit', peerOpts('runsv'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const file = join(root, 'plainfile');
    writeFileSync(file, 'x');
    const supFile = writeService(join(root, 'supfile'), { run: SLEEPER, supervise: 'not a dir\n' });
    const logFile = writeService(join(root, 'logfile'), { run: SLEEPER, log: 'not a dir\n' });
    const out: string[] = [];
    for (const d of [join(root, 'nonexistent'), file, supFile]) {
      const p = startRunsv(t, impl, d, join(root, 'bin'));
      const e = await p.exited;
      out.push(`${e.code} ${normalise(p.stderr(), d)}`);
    }
    const p = startRunsv(t, impl, logFile, join(root, 'bin'));
    await waitStat(logFile, 'run\n');
    await waitFor('warning', () => p.stderr().length > 0);
    out.push(normalise(p.stderr(), logFile));
    res[impl] = out;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours, [
    '111 runsv SVC: fatal: unable to change to directory: file does not exist\n',
    '111 runsv SVC: fatal: unable to change to directory: not a directory\n',
    '111 runsv SVC: fatal: unable to open supervise/lock: not a directory\n',
    'runsv SVC: warning: ./log: not a directory.\n',
  ]);
});

/** Write raw bytes into supervise/control as any client would. */
function control(d: string, bytes: Buffer | string): void {
  const fd = openSync(join(d, 'supervise', 'control'), constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    writeSync(fd, typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  } finally {
    closeSync(fd);
  }
}

t.test('garbage on control and a truncated status file', peerOpts('runsv', 'sv', 'svstat'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: SLEEPER });
    const p = startRunsv(t, impl, d, join(root, 'bin'));
    await waitStat(d, 'run\n');
    const pid = pidOf(d);
    control(d, Buffer.from([0, 0xff, 0x3f, 0x7a, 0x5a, 0x0a, 0x65, 0x80, 0x20]));
    control(d, 'p');
    await waitStat(d, 'run, paused\n');
    control(d, 'c');
    // stat is written before status: wait for the record itself before truncating it.
    await waitFor('status not paused', () => stat(d) === 'run\n' && readFileSync(join(d, 'supervise', 'status'))[16] === 0);
    const out = [`same pid ${pidOf(d) === pid}`, `stderr ${JSON.stringify(p.stderr())}`];
    truncateSync(join(d, 'supervise', 'status'), 7);
    const sv = peer('sv', ['status', d]);
    out.push(`sv ${sv.code} ${normalise(sv.out, d)}`, `svstat ${normalise(peer('svstat', [d]).out, d)}`);
    control(d, 'p');
    await waitStat(d, 'run, paused\n');
    const again = peer('sv', ['status', d]);
    out.push(`rewritten ${again.code} ${normalise(again.out, d)}`, `alive ${alive(p.child.pid!)}`);
    res[impl] = out;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours?.slice(0, 3), ['same pid true', 'stderr ""', 'sv 1 warning: SVC: unable to read supervise/status: bad format\n']);
});

t.test('a second runsv on the same directory is refused, whichever came first', peerOpts('runsv'), async (t) => {
  const orders: [Impl, Impl][] = [['ours', 'runit'], ['runit', 'ours'], ['ours', 'ours']];
  for (const [first, second] of orders) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: SLEEPER });
    const a = startRunsv(t, first, d, join(root, 'bin'));
    await waitStat(d, 'run\n');
    const b = startRunsv(t, second, d, join(root, 'bin'));
    const e = await b.exited;
    t.equal(e.code, 111, `${second} after ${first}: exit 111`);
    t.equal(b.stderr(), `runsv ${d}: fatal: unable to lock supervise/lock: temporary failure\n`, `${second} after ${first}: runit's message`);
    t.equal(a.child.exitCode, null, `${first} still supervising`);
  }
});

t.test('one-shot: ./run calls sv o . ; sv u during its run gives exactly one more run', peerOpts('runsv', 'sv'), async (t) => {
  const sv = peerPaths('sv').sv;
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: `#!/bin/sh\n${sv} o .\necho ran >> ran.log\nexec sleep 1.5\n` });
    const p = startRunsv(t, impl, d, join(root, 'bin'));
    await waitLines(join(d, 'ran.log'), 1);
    await waitStat(d, 'run, want down\n');
    peer('sv', ['up', d]);
    await waitLines(join(d, 'ran.log'), 2);
    await waitDown(d);
    res[impl] = [`runs ${lines(join(d, 'ran.log')).length}`, `status ${normalise(peer('sv', ['status', d]).out, d)}`];
    peer('sv', ['exit', d]);
    await p.exited;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours, ['runs 2', 'status down: SVC: Ns, normally up\n']);
});

const TALKER = `#!/bin/sh
exec 2>&1
trap 'kill $P; echo "got TERM, flushing"; echo "last words"; exit 0' TERM
echo started
sleep 1000 >/dev/null & P=$!
wait $P
`;

t.test('orderly shutdown: the service stops before its logger, nothing it wrote is lost', peerOpts('sv'), async (t) => {
  for (const how of ['force-stop + exit', 'sv x', 'TERM to runsv'] as const) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: TALKER, 'log/run': '#!/bin/sh\nexec cat >> out\n' });
    const p = startRunsv(t, 'ours', d, join(root, 'bin'));
    await waitLines(join(d, 'log', 'out'), 1);
    if (how === 'force-stop + exit') {
      t.equal(peer('sv', ['force-stop', d]).code, 0, 'force-stop ok');
      t.match(stat(join(d, 'log')), /^run\n$/, 'logger still running after force-stop');
      peer('sv', ['exit', d]);
    } else if (how === 'sv x') {
      peer('sv', ['x', d]);
    } else {
      process.kill(p.child.pid!, 'SIGTERM');
    }
    const e = await p.exited;
    t.equal(e.code, 0, `${how}: runsv exits 0`);
    t.same(lines(join(d, 'log', 'out')), ['started', 'got TERM, flushing', 'last words'], `${how}: every line in the log`);
    t.equal(stat(join(d, 'log')), 'down\n', `${how}: logger down`);
    t.equal(stat(d), 'down\n', `${how}: service down`);
  }
});

t.test('an unreadable service directory, as an unprivileged user', peerOpts('runsv'), async (t) => {
  const setpriv = '/usr/bin/setpriv';
  if (process.getuid?.() !== 0 || !existsSync(setpriv)) {
    t.pass('skipped: needs root and setpriv to drop to an unprivileged user');
    return;
  }
  const root = t.testdir();
  const d = join(root, 'locked');
  mkdirSync(d, { mode: 0o000 });
  chmodSync(d, 0o000);
  const res: string[] = [];
  for (const impl of IMPLS) {
    const r = runSync(setpriv, ['--reuid=65534', '--regid=65534', '--clear-groups', toolPath(impl, 'runsv', join(root, 'bin')), d]);
    res.push(`${impl} ${r.status} ${normalise(r.stderr, d)}`);
  }
  t.same(res, ['ours 111 runsv SVC: fatal: unable to change to directory: access denied\n', 'runit 111 runsv SVC: fatal: unable to change to directory: access denied\n']);
});

t.test('signals runit leaves unhandled kill runsv; the service keeps running', peerOpts('runsv'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const out: string[] = [];
    for (const sig of ['SIGHUP', 'SIGINT', 'SIGUSR1'] as const) {
      const root = t.testdir();
      const d = writeService(join(root, 'svc'), { run: SLEEPER });
      const p = startRunsv(t, impl, d, join(root, 'bin'));
      await waitStat(d, 'run\n');
      process.kill(p.child.pid!, sig);
      const e = await p.exited;
      out.push(`${sig}: ${e.signal} service alive ${alive(pidOf(d))} stat ${stat(d).trim()}`);
    }
    res[impl] = out;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours?.[0], 'SIGHUP: SIGHUP service alive true stat run');
});

t.test('control/ scripts: u before each start, t handled means no TERM, d after CONT', peerOpts('runsv', 'sv'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), {
      run: '#!/bin/sh\nexec 2>&1\necho run started\nexec sleep 1000\n',
      'control/u': '#!/bin/sh\necho "control/u $#"\n',
      'control/t': '#!/bin/sh\necho "control/t $#"\nexit 0\n',
      'control/d': '#!/bin/sh\necho "control/d $#"\nexit 1\n',
      'control/h': '#!/bin/sh\necho "control/h $#"\nexit 1\n',
      'log/run': '#!/bin/sh\nexec cat >> out\n',
    });
    const p = startRunsv(t, impl, d, join(root, 'bin'));
    await waitLines(join(d, 'log', 'out'), 2);
    peer('sv', ['down', d]);
    await waitStat(d, 'run, want down\n');
    await waitLines(join(d, 'log', 'out'), 4);
    const down = `stat ${stat(d).trim()}`;
    peer('sv', ['hup', d]);
    await waitLines(join(d, 'log', 'out'), 5);
    const out = [...lines(join(d, 'log', 'out')), down];
    peer('sv', ['kill', d]);
    await waitStat(d, 'down\n');
    peer('sv', ['exit', d]);
    await p.exited;
    res[impl] = out;
  }
  t.same(res.ours, res.runit);
  t.same(res.ours, ['control/u 0', 'run started', 'control/t 0', 'control/d 0', 'control/h 0', 'stat run, want down']);
});

t.test('supervise as a dangling symlink: runsv makes its target', peerOpts('runsv'), async (t) => {
  for (const impl of IMPLS) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: SLEEPER });
    symlinkSync(join(root, 'elsewhere'), join(d, 'supervise'));
    const p = startRunsv(t, impl, d, join(root, 'bin'));
    await waitStat(d, 'run\n');
    t.ok(statSync(join(root, 'elsewhere')).isDirectory(), `${impl}: target made`);
    t.equal(statSync(join(root, 'elsewhere')).mode & 0o777, 0o700, `${impl}: mode 0700`);
    peer('sv', ['exit', d]);
    await p.exited;
  }
});

t.test('the JS bundle supervises like the single executable', peerOpts('sv'), async (t) => {
  const root = t.testdir();
  const d = writeService(join(root, 'svc'), { run: SLEEPER });
  const p = startRunsv(t, 'ours', d, join(root, 'bin'), 'mjs');
  await waitStat(d, 'run\n');
  t.match(peer('sv', ['status', d]).out, /^run: .*: \(pid \d+\) \d+s\n$/);
  t.equal(peer('sv', ['exit', d]).code, 0);
  t.equal((await p.exited).code, 0);
});
