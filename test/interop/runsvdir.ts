// Our runsvdir: services added, renamed and removed; a runsv killed with -9 comes
// back within a scan; TERM and HUP leave what runit's runsvdir leaves, with its exit
// codes; -P sessions; the log argument in the process title (runit-compat.md §2).
import t, { type Test } from 'tap';
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts } from '../fixtures/peers.js';
import { start, waitFor, type Started } from '../fixtures/proc.js';
import { IMPLS, alive, childrenOf, killGroup, peer, pidOf, readText, stat, toolPath, waitStat, writeService, type Impl } from '../fixtures/runsv.js';

const SLEEPER = '#!/bin/sh\nexec sleep 1000\n';

function startRunsvdir(t: Test, impl: Impl, root: string, args: string[]): Started {
  const p = start(t, toolPath(impl, 'runsvdir', join(root, 'bin')), args, { detached: true, cwd: root });
  const pid = p.child.pid!;
  // runsv children outlive runsvdir on TERM; with -P each is its own group.
  const seen = new Set<number>();
  const timer = setInterval(() => { for (const c of childrenOf(pid)) seen.add(c); }, 100);
  t.teardown(() => {
    clearInterval(timer);
    for (const c of childrenOf(pid)) seen.add(c);
    for (const c of seen) killGroup(c);
    killGroup(pid);
  });
  return p;
}

/** The runsv child of runsvdir supervising NAME: its title is `runsv NAME`. */
function runsvFor(runsvdir: number, name: string): number {
  for (const c of childrenOf(runsvdir)) {
    // Our runsv sets its title (one string); runit's argv is NUL-separated.
    const argv = readText(`/proc/${c}/cmdline`).split(/[\0 ]/).filter(Boolean);
    if (argv.at(-1) === name && argv.some((a) => a.endsWith('runsv'))) return c;
  }
  return 0;
}

/** SIGKILL one pid; refuses 0 and negatives, which would hit a whole process group. */
function killPid(pid: number): void {
  if (!(pid > 0)) throw new Error(`refusing to kill pid ${pid}`);
  process.kill(pid, 'SIGKILL');
}

const svok = (d: string): number | null => peer('svok', [d]).code;

t.test('add, rename, remove; kill -9 of a runsv is repaired within a scan', peerOpts('svok'), async (t) => {
  const root = t.testdir();
  const sd = join(root, 'sd');
  for (const n of ['a', 'b']) writeService(join(sd, n), { run: SLEEPER });
  const p = startRunsvdir(t, 'ours', root, ['sd']);
  const rd = p.child.pid!;
  await waitStat(join(sd, 'a'), 'run\n');
  await waitStat(join(sd, 'b'), 'run\n');
  writeService(join(sd, 'c'), { run: SLEEPER });
  await waitStat(join(sd, 'c'), 'run\n', 10_000);
  t.pass('new service c picked up');
  const bRunsv = runsvFor(rd, 'b');
  t.ok(bRunsv > 0, 'runsv of b found');
  const bPid = pidOf(join(sd, 'b'));
  renameSync(join(sd, 'b'), join(sd, 'b2'));
  writeService(join(sd, '.hidden'), { run: SLEEPER });
  writeService(join(sd, 'd'), { run: SLEEPER });
  await waitStat(join(sd, 'd'), 'run\n', 10_000);
  t.equal(runsvFor(rd, 'b'), bRunsv, 'renamed: same runsv');
  t.equal(pidOf(join(sd, 'b2')), bPid, 'renamed: same service process');
  t.equal(runsvFor(rd, 'b2'), 0, 'no second runsv for the new name');
  t.equal(stat(join(sd, '.hidden')), '', 'dot entries are skipped');
  const aRunsv = runsvFor(rd, 'a');
  t.ok(aRunsv > 0, 'runsv of a found');
  renameSync(join(sd, 'a'), join(root, 'a-gone'));
  await waitFor('runsv of a gone', () => !alive(aRunsv), 15_000);
  await waitStat(join(root, 'a-gone'), 'down\n');
  t.equal(svok(join(root, 'a-gone')), 100, 'removed: its runsv got TERM, stopped the service and exited');
  const cRunsv = runsvFor(rd, 'c');
  killPid(cRunsv);
  const t0 = Date.now();
  await waitFor('a new runsv for c', () => { const n = runsvFor(rd, 'c'); return n && n !== cRunsv && svok(join(sd, 'c')) === 0; }, 8_000);
  t.ok(Date.now() - t0 < 6500, `killed runsv replaced within a scan (${Date.now() - t0} ms)`);
  t.equal(childrenOf(rd).length, 3, 'one runsv each for b2, c, d');
});

/**
 * Start runsvdir, then TERM or HUP it: exit code and what is left running. Each call
 * gets its own root: runsv processes left by a TERM phase must never see the next
 * phase's service directories.
 */
async function signalled(t: Test, impl: Impl, sig: 'SIGTERM' | 'SIGHUP', root: string): Promise<string[]> {
  const sd = join(root, 'sd');
  writeService(join(sd, 'a'), { run: '#!/bin/sh\nexec 2>&1\necho hello\nexec sleep 1000\n', 'log/run': '#!/bin/sh\nexec cat >> out\n' });
  writeService(join(sd, 'b'), { run: SLEEPER });
  const p = startRunsvdir(t, impl, root, ['sd']);
  await waitStat(join(sd, 'a'), 'run\n');
  await waitStat(join(sd, 'a', 'log'), 'run\n');
  await waitStat(join(sd, 'b'), 'run\n');
  await waitFor('log line', () => readText(join(sd, 'a', 'log', 'out')).includes('hello\n'), 20_000);
  process.kill(p.child.pid!, sig);
  const e = await p.exited;
  const out = [`exit ${e.code}`];
  if (sig === 'SIGHUP') {
    await waitFor('runsv gone', () => svok(join(sd, 'a')) === 100 && svok(join(sd, 'b')) === 100, 15_000);
  }
  for (const d of ['a', 'a/log', 'b']) out.push(`${d}: svok ${svok(join(sd, d))} stat ${stat(join(sd, d)).trim()}`);
  out.push(`log ${JSON.stringify(readText(join(sd, 'a', 'log', 'out')))}`);
  if (sig === 'SIGTERM') {
    // The runsv processes outlive runsvdir by design: stop them before the phase ends.
    for (const d of ['a', 'b']) peer('sv', ['exit', join(sd, d)]);
    await waitFor('left-over runsv gone', () => svok(join(sd, 'a')) === 100 && svok(join(sd, 'b')) === 100, 15_000);
  }
  return out;
}

t.test('TERM and HUP to runsvdir, as runit', peerOpts('runsvdir', 'runsv', 'sv', 'svok'), async (t) => {
  const base = t.testdir();
  for (const sig of ['SIGTERM', 'SIGHUP'] as const) {
    const res: Record<string, string[]> = {};
    for (const impl of IMPLS) res[impl] = await signalled(t, impl, sig, join(base, `${impl}-${sig}`));
    t.same(res.ours, res.runit, sig);
  }
});

t.test('-P: every runsv leads its own session, as runit', peerOpts('runsvdir', 'runsv'), async (t) => {
  for (const impl of IMPLS) {
    const root = t.testdir();
    writeService(join(root, 'sd', 'a'), { run: SLEEPER });
    const p = startRunsvdir(t, impl, root, ['-P', 'sd']);
    await waitStat(join(root, 'sd', 'a'), 'run\n');
    const r = childrenOf(p.child.pid!)[0]!;
    const f = readText(`/proc/${r}/stat`).replace(/^.*\) /, '').split(' ');
    t.same([Number(f[2]), Number(f[3])], [r, r], `${impl}: pgid and sid of runsv are its pid`);
    const svc = pidOf(join(root, 'sd', 'a'));
    const g = readText(`/proc/${svc}/stat`).replace(/^.*\) /, '').split(' ');
    t.equal(Number(g[2]), r, `${impl}: the service is in runsv's group`);
  }
});

t.test('log argument: errors scroll through the process title; too short disables it', peerOpts('runsvdir'), async (t) => {
  for (const impl of IMPLS) {
    const root = t.testdir();
    mkdirSync(join(root, 'sd'));
    symlinkSync('/nonexistent-target', join(root, 'sd', 'dangling'));
    const p = startRunsvdir(t, impl, root, ['sd', `log: ${'.'.repeat(80)}`]);
    await waitFor(`${impl}: warning in the title`, () => readText(`/proc/${p.child.pid}/cmdline`).includes('runsvdir sd: warning: unable to stat dangling: file does not exist\n'), 15_000);
    t.equal(p.stderr(), '', `${impl}: nothing on the real stderr`);
    const short = startRunsvdir(t, impl, root, ['sd', 'log:']);
    await waitFor('warnings', () => short.stderr().includes('unable to stat dangling'), 15_000);
    t.equal(short.stderr().split('\n').slice(0, 2).join('\n'), 'runsvdir sd: warning: log must have at least seven characters.\nrunsvdir sd: warning: log service disabled.', `${impl}: short log`);
  }
});
