// SPDX-License-Identifier: MIT
// Our tcpsvd's spawner processes (src/ipsvd/spawner.ts): programs run from them,
// the -c limit holds across them, and losing one costs no client and no count:
// the next connection is served by the server itself, the spawner is started
// again, and the programs it had started are counted until they end. The
// number of spawners is forced with SVBOX_TCPSVD_SPAWNERS so that these tests
// do the same on a machine with one core.
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { spawnerCount } from '../../src/ipsvd/spawner.js';
import { waitFor } from '../fixtures/proc.js';
import { descendants, isSpawner, stableLog, startTcpsvd, talk, tcpsvdPath, writeEntries, type Running } from '../fixtures/tcpsvd.js';

function script(dir: string, name: string, body: string): string {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\n${body}\n`);
  chmodSync(p, 0o755);
  return p;
}

const env = (spawners: number): NodeJS.ProcessEnv => ({ PATH: '/usr/bin:/bin', SVBOX_TCPSVD_SPAWNERS: String(spawners) });

const spawnerPids = (s: Running): number[] => descendants(s.child.pid!).filter(isSpawner).map((p) => p.pid);

/** A client that reads until the program has printed its first line, and can end later. */
function holdingClient(port: number): { first: Promise<string>; done: Promise<string>; end(s: string): void } {
  const c = connect({ port, host: '127.0.0.1' });
  let d = '';
  let gotLine: (l: string) => void = () => {};
  const first = new Promise<string>((r) => { gotLine = r; });
  const done = new Promise<string>((res, rej) => {
    c.on('data', (b: Buffer) => { d += b.toString(); if (d.includes('\n')) gotLine(d.slice(0, d.indexOf('\n'))); });
    c.on('close', () => { gotLine(d); res(d); });
    c.on('error', (e) => { gotLine(d); rej(e); });
  });
  return { first, done, end: (s) => c.end(s) };
}

t.test('programs run from the spawners, the socket as fd 0 and 1', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$PPID"; read x; echo "got $x"');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { env: env(2) });
  const pids = await waitFor('two spawners', () => { const p = spawnerPids(s); return p.length === 2 ? p : undefined; }, 20_000);
  // The spawners take jobs once they have said they run: poll until one has.
  const seen = new Set<number>();
  await waitFor('a program started by a spawner', async () => {
    const out = await talk(s.port, { input: 'x\n' });
    const m = /^(\d+)\ngot x\n$/.exec(out);
    if (!m) throw new Error(`unexpected output ${JSON.stringify(out)}`);
    seen.add(Number(m[1]));
    return pids.includes(Number(m[1]));
  }, 20_000);
  t.ok([...seen].every((p) => p === s.child.pid || pids.includes(p)), `parents ${[...seen].join(' ')}: the server (until the spawners run) or a spawner`);
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('a killed spawner: the next client is served by the server, the spawner is started again', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$PPID"');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { env: env(1) });
  const [old] = await waitFor('one spawner', () => { const p = spawnerPids(s); return p.length === 1 ? p : undefined; }, 20_000);
  await waitFor('the spawner serves', async () => (await talk(s.port)) === `${old}\n`, 20_000);
  process.kill(old!, 'SIGKILL');
  // By the server itself, unless (under load) the restarted spawner already runs.
  const next = await talk(s.port);
  t.match(next, /^\d+\n$/, 'the next client is served');
  t.not(Number(next), old, 'not by the dead spawner');
  const [fresh] = await waitFor('a new spawner', () => { const p = spawnerPids(s); return p.length === 1 && p[0] !== old ? p : undefined; }, 20_000);
  await waitFor('the new spawner serves', async () => (await talk(s.port)) === `${fresh}\n`, 20_000);
  t.equal(s.child.exitCode, null, 'server still running');
  t.equal(s.stderr(), '', 'nothing on stderr');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('a spawner killed while its program runs: the program keeps its client and still counts against -c', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$$ $PPID"; read x; echo bye');
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '2', '-l', 'localhost'], [prog], { env: env(1) });
  const [sp] = await waitFor('one spawner', () => { const p = spawnerPids(s); return p.length === 1 ? p : undefined; }, 20_000);
  // Until the spawner is up, programs run in the server: retry until one runs in the spawner.
  const a = await waitFor('a program under the spawner', async () => {
    const c = holdingClient(s.port);
    const [pid, ppid] = (await c.first).split(' ').map(Number);
    if (ppid === sp) return { c, pid: pid! };
    c.end('x\n');
    await c.done;
    await waitFor('its end', () => s.stdout().endsWith('status 0/2\n'), 20_000);
    return undefined;
  }, 20_000);
  // Once the server knows the program (its start line), losing the spawner loses nothing.
  await waitFor('start logged', () => s.stdout().includes(`start ${a.pid} `), 20_000);
  process.kill(sp!, 'SIGKILL');
  const b = holdingClient(s.port);
  // By the server itself, unless (under load) the restarted spawner already runs.
  const parent = Number(/^\d+ (\d+)$/.exec(await b.first)?.[1]);
  t.ok(parent > 0 && parent !== sp, `next client served (parent ${parent}), not by the dead spawner`);
  await waitFor('two counted', () => s.stdout().includes('status 2/2\n'), 20_000);
  a.c.end('x\n');
  t.match(await a.c.done, /bye\n$/, 'the orphaned program finished with its client');
  await waitFor('its end logged', () => s.stdout().includes(`end ${a.pid} exit 111\n`), 20_000);
  t.match(s.stdout(), new RegExp(`end ${a.pid} exit 111\\ntcpsvd: info: status 1/2\\n`), 'an orphan\'s end: exit code unknown (111), count down');
  b.end('x\n');
  await b.done;
  await waitFor('all ended', () => s.stdout().endsWith('status 0/2\n'), 20_000);
  t.notMatch(s.stdout(), /status 3\/2/, 'never above the limit');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('a spawner killed amid a burst of clients: none gets two programs, at most one is given up', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$$"; sleep 0.05');
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { env: env(1) });
  const [sp] = await waitFor('one spawner', () => { const p = spawnerPids(s); return p.length === 1 ? p : undefined; }, 20_000);
  await waitFor('the spawner serves', async () => (await talk(s.port)) !== `${s.child.pid}\n` && (await talk(s.port)).length > 0, 20_000);
  const outs = Array.from({ length: 30 }, () => talk(s.port, { ms: 60_000 }));
  // Kill it once the server has seen a few of the burst's programs start.
  const mark = (s.stdout().match(/ start /g) ?? []).length;
  await waitFor('some started', () => (s.stdout().match(/ start /g) ?? []).length >= mark + 3, 20_000);
  process.kill(sp!, 'SIGKILL');
  const got = await Promise.all(outs);
  t.ok(got.every((o) => /^(\d+\n)?$/.test(o)), 'every client got one program or none');
  const none = got.filter((o) => o === '').length;
  t.ok(none <= 1, `at most one client given up (${none})`);
  t.equal(new Set(got.filter((o) => o !== '')).size, got.length - none, 'each by a program of its own');
  await waitFor('all ended', () => s.stdout().endsWith('status 0/30\n'), 20_000);
  t.equal(s.stderr().replace(/^tcpsvd: drop: lost with its spawner process\n/, ''), '', 'no other message');
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('-c 4 across 3 spawners: 50 concurrent clients, never more than 4 programs, all served', async (t) => {
  const dir = t.testdir();
  const log = join(dir, 'log');
  writeFileSync(log, '');
  const prog = script(dir, 'slow.sh', `echo "+" >> ${log}; sleep 0.1; echo "-" >> ${log}; echo "served $PPID"`);
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '4', '-b', '64', '-l', 'localhost'], [prog], { env: env(3) });
  const pids = await waitFor('three spawners', () => { const p = spawnerPids(s); return p.length === 3 ? p : undefined; }, 20_000);
  // Until a spawner has said it runs, the server spawns itself: wait until each has served.
  const seen = new Set<number>();
  let warm = 0;
  await waitFor('each spawner serves', async () => {
    warm++;
    seen.add(Number(/^served (\d+)\n$/.exec(await talk(s.port, { ms: 120_000 }))?.[1]));
    return pids.every((p) => seen.has(p));
  }, 60_000);
  const outs = await Promise.all(Array.from({ length: 50 }, () => talk(s.port, { ms: 120_000 })));
  const parents = outs.map((o) => Number(/^served (\d+)\n$/.exec(o)?.[1]));
  t.equal(parents.filter((p) => p > 0).length, 50, 'all 50 clients served');
  const bySpawner = parents.filter((p) => pids.includes(p)).length;
  t.equal(bySpawner, 50, 'every program started by a spawner');
  let cur = 0;
  let max = 0;
  for (const c of readFileSync(log, 'utf8')) {
    if (c === '+') max = Math.max(max, ++cur);
    if (c === '-') cur--;
  }
  t.ok(max <= 4 && max >= 2, `at most 4 programs ran at once (recorded ${max})`);
  t.notMatch(s.stdout(), /status 5\/4/, 'status never above 4/4');
  await waitFor('all ended', () => s.stdout().endsWith('status 0/4\n'), 20_000);
  t.equal((s.stdout().match(/ end \d+ exit 0\n/g) ?? []).length, 50 + warm, `50 ends logged (and ${warm} before), all exit 0`);
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('a missing program through a spawner: the same message and log as in the server', async (t) => {
  const dir = t.testdir();
  // 127.0.0.2 runs a shell command that shows who started it (to know when the
  // spawners take jobs); 127.0.0.1 runs the missing program.
  const inst = join(dir, 'inst');
  mkdirSync(inst);
  writeEntries(inst, [['127.0.0.2', 'echo "$PPID"', 0o755]]);
  const got: string[][] = [];
  for (const n of [2, 0]) {
    const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost', '-i', inst], [join(dir, 'missing')], { env: env(n) });
    if (n) {
      const pids = await waitFor('spawners', () => { const p = spawnerPids(s); return p.length === n ? p : undefined; }, 20_000);
      await waitFor('both spawners take jobs', async () => {
        const ppids = await Promise.all([1, 2].map(() => talk(s.port, { from: '127.0.0.2' })));
        return ppids.every((p) => pids.includes(Number(p)));
      }, 20_000);
      await waitFor('quiet', () => s.stdout().endsWith('status 0/30\n'), 20_000);
    }
    const mark = s.stdout().length;
    t.equal(await talk(s.port), '', `${n} spawners: client closed with nothing`);
    await waitFor('end logged', () => s.stdout().endsWith('status 0/30\n'), 20_000);
    got.push(stableLog(s.stdout().slice(mark)));
    t.match(s.stderr(), /^tcpsvd: drop: unable to run: .*\/missing: file does not exist\n$/, `${n} spawners: drop message`);
    s.child.kill('SIGTERM');
    await s.exited;
  }
  t.same(got[0], got[1], 'spawner and server log it alike');
  t.ok(got[0]!.some((l) => l.endsWith('end PID exit 111')), 'the end is logged with 111');
});

t.test('no helper outlives the server, killed or terminated; the programs do', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$$"; read x; echo bye');
  for (const sig of ['SIGTERM', 'SIGKILL'] as const) {
    const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { env: env(2) });
    const helpers = await waitFor('keeper and spawners', () => {
      const h = descendants(s.child.pid!).filter((p) => / --svbox-tcpsvd-/.test(` ${p.args}`));
      return h.length === 3 ? h.map((p) => p.pid) : undefined;
    }, 20_000);
    const c = holdingClient(s.port);
    const pid = Number(await c.first);
    s.child.kill(sig);
    await s.exited;
    await waitFor(`helpers gone after ${sig}`, () => helpers.every((p) => { try { process.kill(p, 0); return false; } catch { return true; } }), 20_000);
    t.pass(`${sig}: keeper and spawners ended with the server`);
    t.doesNotThrow(() => process.kill(pid, 0), `${sig}: the program still runs`);
    c.end('x\n');
    t.match(await c.done, /bye\n$/, `${sig}: and finishes with its client`);
  }
});

t.test('by default the spawners start only when a connection finds another one served', async (t) => {
  const dir = t.testdir();
  const prog = script(dir, 'p.sh', 'echo "$PPID"; read x; echo bye');
  const want = spawnerCount(30, undefined); // -c 30, the default
  const s = await startTcpsvd(t, 'ours', dir, ['-l', 'localhost'], [prog], { env: { PATH: '/usr/bin:/bin' } });
  // One client at a time: served by the server itself, no spawner is started.
  for (let i = 0; i < 3; i++) {
    const c = holdingClient(s.port);
    t.equal(Number(await c.first), s.child.pid, `client ${i + 1} alone: its program is the server's child`);
    c.end('x\n');
    t.match(await c.done, /bye\n$/);
    await waitFor('the program ended in the log', () => s.stdout().split('\n').filter((l) => / end \d+ exit 0$/.test(l)).length === i + 1, 20_000);
  }
  t.equal(spawnerPids(s).length, 0, 'no spawner after clients one at a time');
  // Two at once: the second finds the first served, and the spawners start.
  const a = holdingClient(s.port);
  await a.first;
  const b = holdingClient(s.port);
  await b.first;
  const pids = await waitFor(`${want} spawners`, () => { const p = spawnerPids(s); return p.length === want ? p : undefined; }, 20_000);
  t.equal(pids.length, want, `${want} spawners once two clients overlapped`);
  a.end('x\n');
  b.end('x\n');
  await Promise.all([a.done, b.done]);
  s.child.kill('SIGTERM');
  await s.exited;
});

t.test('TERM amid a burst: every client accepted gets its program (none is closed unserved)', async (t) => {
  const dir = t.testdir();
  // One spawner: connections queue on its channel, one socket at a time.
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '100', '-b', '200', '-l', 'localhost'], ['/bin/echo', 'hi'], { env: env(1) });
  await waitFor('the spawner', () => spawnerPids(s).length === 1, 20_000);
  let served = 0;
  let closedEmpty = 0;
  let refused = 0;
  let termSent = false;
  await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((res) => {
    const c = connect({ port: s.port, host: '127.0.0.1' });
    let d = '';
    let failed = false;
    c.on('data', (b: Buffer) => {
      d += b.toString();
      if (!termSent) { termSent = true; s.child.kill('SIGTERM'); }
    });
    c.on('error', () => { failed = true; });
    c.on('close', () => {
      // Not accepted before the end: reset with the listening socket (as with ipsvd).
      if (failed) refused++;
      else if (d === 'hi\n') served++;
      else closedEmpty++;
      res();
    });
  })));
  await s.exited;
  t.ok(served >= 1, `${served} served, ${refused} reset unaccepted`);
  t.equal(closedEmpty, 0, 'no client closed without its program');
});

t.test('a spawner refuses another version\'s server: it ends (111) without saying it runs', async (t) => {
  const dir = t.testdir();
  const msgs: unknown[] = [];
  const c = spawn(tcpsvdPath('ours', dir), ['--svbox-tcpsvd-spawner'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: '/usr/bin:/bin' } });
  t.teardown(() => { if (c.exitCode === null) c.kill('SIGKILL'); });
  c.on('message', (m) => msgs.push(m));
  const code = new Promise<number | null>((res) => c.once('close', res));
  c.send({ t: 'init', v: 0, env: {} });
  t.equal(await code, 111, 'exit 111');
  t.same(msgs, [], 'no ready report');
  // And the version the server speaks is taken.
  const ok = spawn(tcpsvdPath('ours', dir), ['--svbox-tcpsvd-spawner'], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], env: { PATH: '/usr/bin:/bin' } });
  t.teardown(() => { if (ok.exitCode === null) ok.kill('SIGKILL'); });
  const ready = new Promise((res) => ok.once('message', res));
  ok.send({ t: 'init', v: 1, env: {} });
  t.same(await ready, [{ ready: true }], 'the current version: ready');
  ok.disconnect();
});
