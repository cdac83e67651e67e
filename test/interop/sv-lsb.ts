// sv's LSB init-script mode (invoked as /etc/init.d/NAME -> sv) and its usage
// errors, ours against runit's: the service is the link's name looked up in SVDIR,
// status exits 0/3/4 (1 without runsv), other commands count failures, usage exits
// 2 with `usage: NAME [-w sec] command`; normal mode's usage exits 100.
import t, { type Test } from 'tap';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { normalise, runSv, SLEEPER, stat, superviseReal, svLinks, writeSpec } from '../fixtures/sv-compare.js';

async function same(t: Test, real: string, ours: string, args: string[], env: NodeJS.ProcessEnv, what = args.join(' ')): Promise<number | null> {
  const [a, b] = await Promise.all([runSv(real, args, { env }), runSv(ours, args, { env })]);
  t.equal(normalise(b.stdout), normalise(a.stdout), `${what}: stdout ${JSON.stringify(normalise(a.stdout))}`);
  t.equal(b.stderr, a.stderr, `${what}: stderr`);
  t.equal(b.code, a.code, `${what}: exit code ${a.code}`);
  return a.code;
}

t.test('LSB mode: status exit codes', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const svdir = join(base, 'service');
  const names = ['web', 'idle', 'withlog', 'deadlog', 'nosuper', 'gone', 'missing'];
  const bins = svLinks(base, p.sv, names);
  const env = { ...process.env, SVDIR: svdir };
  writeSpec(join(svdir, 'web'), { run: SLEEPER });
  writeSpec(join(svdir, 'idle'), { run: SLEEPER, down: '' });
  writeSpec(join(svdir, 'withlog'), { run: SLEEPER, down: '', 'log/run': SLEEPER });
  writeSpec(join(svdir, 'deadlog'), { run: SLEEPER, 'log/run': SLEEPER, 'log/down': '' });
  writeSpec(join(svdir, 'nosuper'), { run: SLEEPER });
  writeSpec(join(svdir, 'gone'), { run: SLEEPER, 'supervise/': '' });
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(svdir, 'gone', 'supervise', 'ok')]);
  await Promise.all(['web', 'idle', 'withlog', 'deadlog'].map((n) => superviseReal(t, p.runsv, svdir, n)));

  const expect: Record<string, number> = { web: 0, idle: 3, withlog: 0, deadlog: 3, nosuper: 4, gone: 1, missing: 1 };
  for (const [n, code] of Object.entries(expect)) {
    const got = await same(t, bins.realLsb(n), bins.oursLsb(n), ['status'], env, `${n} status`);
    t.equal(got, code, `${n}: runit's LSB status exit ${code}`);
  }
  // Options and the commands that wait.
  await same(t, bins.realLsb('idle'), bins.oursLsb('idle'), ['-w', '3', 'start'], env, 'idle -w 3 start');
  await waitFor('idle runs', () => stat(join(svdir, 'idle')) === 'run\n', 15_000);
  await same(t, bins.realLsb('idle'), bins.oursLsb('idle'), ['status', 'ignored', 'words'], env, 'extra words are ignored');
  // Both sv's run at once on one service here: only idempotent commands.
  await same(t, bins.realLsb('idle'), bins.oursLsb('idle'), ['-v', 'pause'], env, 'idle -v pause');
  await same(t, bins.realLsb('idle'), bins.oursLsb('idle'), ['-v', 'cont'], env, 'idle -v cont');
  await same(t, bins.realLsb('missing'), bins.oursLsb('missing'), ['stop'], env, 'missing stop');
  await same(t, bins.realLsb('gone'), bins.oursLsb('gone'), ['shutdown'], env, 'gone shutdown: ok, runsv not running');
  await same(t, bins.realLsb('gone'), bins.oursLsb('gone'), ['force-reload'], env, 'gone force-reload');
  await same(t, bins.realLsb('nosuper'), bins.oursLsb('nosuper'), ['restart'], env, 'nosuper restart');
  await same(t, bins.realLsb('web'), bins.oursLsb('web'), ['check'], env, 'web check');
});

t.test('LSB mode: usage errors exit 2', peerOpts('sv'), async (t) => {
  const p = peerPaths('sv');
  const base = t.testdir({});
  const bins = svLinks(base, p.sv, ['web']);
  const env = { ...process.env, SVDIR: join(base, 'nonexistent') };
  for (const args of [[], ['stat'], ['st'], ['bogus'], ['r'], ['reboot'], ['f'], ['force'], ['-x', 'status'], ['-w'], ['--', 'status'], ['-v']]) {
    await same(t, bins.realLsb('web'), bins.oursLsb('web'), args, env, `web ${args.join(' ')}`);
  }
});

t.test('normal mode: usage errors exit 100', peerOpts('sv'), async (t) => {
  const p = peerPaths('sv');
  const base = t.testdir({});
  const bins = svLinks(base, p.sv);
  const env = { ...process.env, SVDIR: join(base, 'nonexistent') };
  for (const args of [[], ['status'], ['-v'], ['-x'], ['-w'], ['-vx', 'up', 'a'], ['bogus', 'a'], ['r', 'a'], ['res', 'a'], ['f', 'a'], ['force-start', 'a'], ['-', 'status', 'a'], ['', 'a']]) {
    await same(t, bins.real, bins.ours, args, env, `sv ${JSON.stringify(args)}`);
  }
  // Not usage errors: options end at the first operand, `--` ends them, -w takes digits.
  for (const args of [['status', '-v', 'a'], ['--', 'status', 'a'], ['-w', 'x9', 'status', 'a'], ['-vw1', 's', 'a'], ['down', '']]) {
    await same(t, bins.real, bins.ours, args, env, `sv ${JSON.stringify(args)}`);
  }
  // The problem count stops at 99.
  const many = Array.from({ length: 120 }, (_, i) => `missing${i}`);
  t.equal(await same(t, bins.real, bins.ours, ['status', ...many], env, 'sv status with 120 missing services'), 99, 'capped at 99');
  // -V: our own version line, then the same usage and exit code.
  const [a, b] = await Promise.all([runSv(bins.real, ['-V'], { env }), runSv(bins.ours, ['-V'], { env })]);
  t.equal(b.code, a.code, '-V exit code');
  t.equal(b.stderr.replace(/^\$Id:[^\n]*\n/, ''), a.stderr.replace(/^\$Id:[^\n]*\n/, ''), '-V: usage after the version line');
  t.match(b.stderr, /^\$Id: svbox /, 'ours names itself');
});

t.test('LSB link in another directory, resolved through SVDIR only', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const svdir = join(base, 'service');
  writeSpec(join(svdir, 'web'), { run: SLEEPER });
  await superviseReal(t, p.runsv, svdir, 'web');
  // /etc/init.d/web -> ... -> sv: a chain of links ends at our sv applet.
  const initd = join(base, 'init.d');
  mkdirSync(initd);
  const bins = svLinks(base, p.sv);
  symlinkSync(bins.ours, join(initd, 'web'));
  symlinkSync(p.sv, join(initd, 'web-real'));
  const ours = await runSv(join(initd, 'web'), ['status'], { env: { ...process.env, SVDIR: svdir }, cwd: base });
  t.match(ours.stdout, /^run: web: \(pid \d+\) \d+s\n$/, 'status of SVDIR/web');
  t.equal(ours.code, 0);
  const real = await runSv(join(initd, 'web-real'), ['status'], { env: { ...process.env, SVDIR: svdir }, cwd: base });
  t.equal(real.stdout, 'fail: web-real: unable to change to service directory: file does not exist\n', 'runit uses the link name as the service name');
});

t.test('as an unprivileged user: access denied, and the fatal error', { ...peerOpts('sv'), skip: process.getuid?.() !== 0 ? 'needs root to switch to nobody' : peerOpts('sv').skip }, async (t) => {
  const p = peerPaths('sv');
  const base = t.testdir({});
  const { chmodSync } = await import('node:fs');
  chmodSync(base, 0o755);
  const bins = svLinks(base, p.sv, ['web']);
  const svdir = join(base, 'service');
  mkdirSync(join(svdir, 'closed'), { recursive: true });
  chmodSync(svdir, 0o755);
  chmodSync(join(svdir, 'closed'), 0o700);
  const locked = join(base, 'locked');
  mkdirSync(locked, { mode: 0o311 });
  chmodSync(locked, 0o311);
  const env = { ...process.env, SVDIR: svdir };
  const asNobody = async (bin: string, args: string[], cwd: string) => runSv('/usr/bin/setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', bin, ...args], { env, cwd });
  for (const [args, cwd, real, ours] of [
    [['status', 'closed', './service/closed'], base, bins.real, bins.ours],
    [['status', 'x'], locked, bins.real, bins.ours],
    [['status'], locked, bins.realLsb('web'), bins.oursLsb('web')],
  ] as [string[], string, string, string][]) {
    const [a, b] = await Promise.all([asNobody(real, args, cwd), asNobody(ours, args, cwd)]);
    t.equal(b.stdout, a.stdout, `${args.join(' ')} in ${cwd}: stdout ${JSON.stringify(a.stdout)}`);
    t.equal(b.stderr, a.stderr, `stderr ${JSON.stringify(a.stderr)}`);
    t.equal(b.code, a.code, `exit code ${a.code}`);
  }
});
