// Every sv command, runit's sv and ours, each on one of two identical services under
// runit's REAL runsv: same stdout (pids and ages normalised), same stderr, same exit
// code, and the same state afterwards (supervise/stat of both twins). Covers -v and
// -w waits and their timeouts, the force-* kills, ./check, several services in one
// call, name spellings, and `sv o .` from inside ./run.
import t, { type Test } from 'tap';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { normalise, runSv, SLEEPER, stat, supervised, svLinks, TERM_IGNORER, twins, type Spec, type SvRun, type Twins } from '../fixtures/sv-compare.js';

interface Cmp { real: SvRun; ours: SvRun }

/** Run `args` (NAME stands for the service) with runit's sv on twin a and ours on twin b, at the same time. */
async function compare(t: Test, bins: { real: string; ours: string }, tw: Twins, args: string[], opts: { cwd?: (side: string) => string; env?: NodeJS.ProcessEnv } = {}): Promise<Cmp> {
  const argv = args.map((a) => a.replace('NAME', tw.name));
  const run = (bin: string, svdir: string) => runSv(bin, argv, { cwd: opts.cwd?.(svdir) ?? svdir, env: { ...process.env, SVDIR: svdir, ...opts.env } });
  const [real, ours] = await Promise.all([run(bins.real, tw.a), run(bins.ours, tw.b)]);
  const what = `sv ${argv.join(' ')}`;
  t.equal(normalise(ours.stdout), normalise(real.stdout), `${what}: stdout ${JSON.stringify(normalise(real.stdout))}`);
  t.equal(ours.stderr, real.stderr, `${what}: stderr`);
  t.equal(ours.code, real.code, `${what}: exit code ${real.code}`);
  return { real, ours };
}

/** Both twins end up in the same state (the state may pass through restarts first). */
async function sameState(t: Test, tw: Twins, sub = ''): Promise<void> {
  const a = join(tw.a, tw.name, sub);
  const b = join(tw.b, tw.name, sub);
  try {
    await waitFor('twins agree', () => stat(a) !== '' && stat(a) === stat(b) && supervised(a) === supervised(b), 15_000);
    t.pass(`same state afterwards: ${JSON.stringify(stat(a))}${supervised(a) ? '' : ', runsv gone'}`);
  } catch {
    t.equal(stat(b), stat(a), 'same state afterwards');
  }
}

interface Case {
  spec: Spec;
  /** Commands runit's sv applies to both twins first, and the stat to wait for. */
  prep?: { args: string[]; stat: string };
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/** Survives every signal sv can send but KILL and STOP, so a signal's effect is not a race with runsv's restart. */
const STOIC = "#!/bin/sh\ntrap '' HUP ALRM INT QUIT USR1 USR2 TERM\nexec sleep 1000\n";
const DOWNED: Spec = { run: SLEEPER, down: '' };
/** A logger that exits at EOF, as svlogd does, so `exit` completes. */
const LOGGED: Spec = { run: SLEEPER, 'log/run': '#!/bin/sh\nexec cat >/dev/null\n' };

const cases: Record<string, Case> = {
  'up': { spec: DOWNED, args: ['up', 'NAME'] },
  'up -v': { spec: DOWNED, args: ['-v', 'up', 'NAME'] },
  'up when up': { spec: LOGGED, args: ['-v', 'u', 'NAME', 'NAME/log'] },
  'down': { spec: LOGGED, args: ['down', 'NAME'] },
  'down -v': { spec: LOGGED, args: ['-v', 'down', 'NAME'] },
  'down -w': { spec: { run: SLEEPER }, args: ['-w', '3', 'd', 'NAME'] },
  'down when down': { spec: DOWNED, args: ['-v', 'down', 'NAME'] },
  'once': { spec: { run: SLEEPER }, args: ['-v', 'once', 'NAME'] },
  'once when down': { spec: { run: '#!/bin/sh\nexec sleep 3\n', down: '' }, args: ['-v', 'o', 'NAME'] },
  'pause': { spec: { run: SLEEPER }, args: ['-v', 'pause', 'NAME'] },
  'cont': { spec: { run: SLEEPER }, prep: { args: ['pause', 'NAME'], stat: 'run, paused\n' }, args: ['-v', 'cont', 'NAME'] },
  'pause when down': { spec: DOWNED, args: ['-v', 'p', 'NAME'] },
  'hup': { spec: { run: SLEEPER }, args: ['hup', 'NAME'] },
  'hup -v': { spec: { run: STOIC }, args: ['-v', 'hup', 'NAME'] },
  'alarm': { spec: { run: STOIC }, args: ['-v', 'alarm', 'NAME'] },
  'interrupt': { spec: { run: STOIC }, args: ['-v', 'interrupt', 'NAME'] },
  'quit': { spec: { run: STOIC }, args: ['-v', 'quit', 'NAME'] },
  '1': { spec: { run: STOIC }, args: ['-v', '1', 'NAME'] },
  '2': { spec: { run: STOIC }, args: ['-v', '2', 'NAME'] },
  'term': { spec: { run: SLEEPER }, args: ['term', 'NAME'] },
  'term -v': { spec: { run: SLEEPER }, args: ['-v', 'term', 'NAME'] },
  'kill -v': { spec: { run: TERM_IGNORER }, args: ['-v', 'kill', 'NAME'] },
  'exit': { spec: LOGGED, args: ['exit', 'NAME'] },
  'exit -v': { spec: LOGGED, args: ['-v', 'exit', 'NAME'] },
  'e': { spec: { run: SLEEPER }, args: ['-v', 'e', 'NAME'] },
  'exit the log': { spec: LOGGED, args: ['-w', '1', 'exit', 'NAME/log'] },
  'start': { spec: DOWNED, args: ['start', 'NAME'] },
  'stop': { spec: LOGGED, args: ['stop', 'NAME'] },
  'reload': { spec: { run: STOIC }, args: ['reload', 'NAME'] },
  'restart': { spec: { run: SLEEPER }, args: ['restart', 'NAME'] },
  'restart when down': { spec: DOWNED, args: ['restart', 'NAME'] },
  'try-restart': { spec: { run: SLEEPER }, args: ['try-restart', 'NAME'] },
  'shutdown': { spec: LOGGED, args: ['shutdown', 'NAME'] },
  'force-stop': { spec: { run: SLEEPER }, args: ['force-stop', 'NAME'] },
  'force-stop kills': { spec: { run: TERM_IGNORER }, args: ['-w', '1', 'force-stop', 'NAME'] },
  'D kills': { spec: { run: TERM_IGNORER }, args: ['-w', '1', 'Down', 'NAME'] },
  'force-reload kills': { spec: { run: TERM_IGNORER }, args: ['force-reload', 'NAME'], env: { SVWAIT: '1' } },
  'force-restart': { spec: { run: SLEEPER }, args: ['force-restart', 'NAME'] },
  'force-shutdown kills': { spec: { run: TERM_IGNORER }, args: ['-w1', 'force-shutdown', 'NAME'] },
  'X': { spec: { run: SLEEPER }, args: ['X', 'NAME'] },
  'timeout': { spec: { run: TERM_IGNORER }, args: ['-w', '1', 'down', 'NAME'] },
  'timeout -w0': { spec: { run: TERM_IGNORER }, args: ['-w0', 'term', 'NAME'] },
  'SVWAIT': { spec: { run: TERM_IGNORER }, args: ['stop', 'NAME'], env: { SVWAIT: '1' } },
  '-w beats SVWAIT': { spec: { run: TERM_IGNORER }, args: ['-w', '1', 'stop', 'NAME'], env: { SVWAIT: '30' } },
  'check down': { spec: DOWNED, args: ['check', 'NAME'] },
  'check up': { spec: { run: SLEEPER }, args: ['check', 'NAME'] },
  'check failing': { spec: { run: SLEEPER, check: '#!/bin/sh\nexit 1\n' }, args: ['-w', '1', 'check', 'NAME'] },
  'check on up': { spec: { run: SLEEPER, down: '', check: '#!/bin/sh\nexit 1\n' }, args: ['-w', '1', 'up', 'NAME'] },
  'check passing': { spec: { run: SLEEPER, down: '', check: '#!/bin/sh\ntest -d supervise\n' }, args: ['-v', 'start', 'NAME'] },
  'check writes to stdout': { spec: { run: SLEEPER, check: '#!/bin/sh\necho to stdout 2>/dev/null || exit 3\n' }, args: ['-w', '1', 'check', 'NAME'] },
  'check killed by a signal passes': { spec: { run: SLEEPER, check: '#!/bin/sh\nkill -9 $$\n' }, args: ['check', 'NAME'] },
  'check not executable': { spec: { run: SLEEPER, check: 'exit 1\n' }, args: ['check', 'NAME'] },
  'check without #!': { spec: { run: SLEEPER, check: 'exit 1\n' }, args: ['check', 'NAME'] },
  'check is a directory': { spec: { run: SLEEPER, 'check/': '' }, args: ['check', 'NAME'] },
  'check sees sv environment': { spec: { run: SLEEPER, check: '#!/bin/sh\ntest "$CHECKME" = yes\n' }, args: ['-w', '1', 'check', 'NAME'], env: { CHECKME: 'no' } },
  'several services': { spec: { run: STOIC, 'log/run': STOIC }, args: ['-v', 'hup', 'NAME', 'nosuch', 'NAME/log', './NAME'] },
  'several with one timeout': { spec: { run: TERM_IGNORER, 'log/run': SLEEPER }, args: ['-w', '1', 'down', 'NAME/log', 'NAME'] },
  'bare word prefixes': { spec: { run: SLEEPER }, args: ['-v', 'hello', 'NAME'] },
};

t.test('commands, ours against runit\'s, on the real runsv', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const bins = svLinks(base, p.sv);
  const names = Object.keys(cases);
  // Four cases at a time: they wait on runsv's 1-second restart throttle and on sv's
  // polls, not on CPU.
  const PARALLEL = 4;
  for (let i = 0; i < names.length; i += PARALLEL) {
    await Promise.all(names.slice(i, i + PARALLEL).map((label, j) => t.test(label, async (t) => {
      const c = cases[label]!;
      const spec = { ...c.spec };
      const tw = await twins(t, p.runsv, base, `s${i + j}`, spec);
      if (label === 'check not executable') for (const d of [tw.a, tw.b]) chmodSync(join(d, tw.name, 'check'), 0o644);
      if (label === 'check without #!') for (const d of [tw.a, tw.b]) chmodSync(join(d, tw.name, 'check'), 0o755);
      if (c.prep) {
        for (const d of [tw.a, tw.b]) await runSv(p.sv, c.prep.args.map((a) => a.replace('NAME', tw.name)), { env: { ...process.env, SVDIR: d } });
        for (const d of [tw.a, tw.b]) await waitFor(`prep ${c.prep.stat.trim()}`, () => stat(join(d, tw.name)) === c.prep!.stat, 15_000);
      }
      await compare(t, bins, tw, c.args, c.env ? { env: c.env } : {});
      await sameState(t, tw);
      if (spec['log/run']) await sameState(t, tw, 'log');
    })));
  }
});

t.test('a trailing slash: sent from the cwd, waited on in SVDIR', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const bins = svLinks(base, p.sv);
  const tw = await twins(t, p.runsv, base, 'ts', DOWNED);
  await compare(t, bins, tw, ['-v', 'up', 'NAME/'], { env: { SVDIR: join(base, 'nonexistent') } });
  await sameState(t, tw);
  await compare(t, bins, tw, ['-v', 'down', '.'], { cwd: (d) => join(d, tw.name) });
  await sameState(t, tw);
});

t.test('sv o . from inside ./run: a one-shot service', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const bins = svLinks(base, p.sv);
  const spec = (side: 'a' | 'b'): Spec => ({
    run: `#!/bin/sh\n${side === 'a' ? bins.real : bins.ours} o . || exit 7\necho ran >> runs\nexec sleep 0.2\n`,
  });
  const tw = await twins(t, p.runsv, base, 'oneshot', spec, (s) => s.startsWith('down'));
  const runs = (d: string): number => {
    try { return readFileSync(join(d, tw.name, 'runs'), 'utf8').split('\n').length - 1; } catch { return 0; }
  };
  for (const d of [tw.a, tw.b]) await waitFor(`${d}: ran once and stays down`, () => runs(d) === 1 && stat(join(d, tw.name)) === 'down\n', 20_000);
  // Not restarted: watch both for longer than runsv's 1-second throttle.
  const until = Date.now() + 2500;
  await waitFor('2.5 s without a restart', () => {
    if (runs(tw.a) !== 1 || runs(tw.b) !== 1) throw new Error(`restarted: ${runs(tw.a)} ${runs(tw.b)}`);
    return Date.now() > until;
  }, 10_000, 100);
  t.equal(runs(tw.b), 1, 'ours: ran exactly once');
  // `sv u` makes it run exactly once more.
  await compare(t, bins, tw, ['-v', 'up', 'NAME']);
  for (const d of [tw.a, tw.b]) await waitFor(`${d}: ran twice`, () => runs(d) === 2 && stat(join(d, tw.name)) === 'down\n', 20_000);
  const until2 = Date.now() + 2000;
  await waitFor('still twice', () => {
    if (runs(tw.a) !== 2 || runs(tw.b) !== 2) throw new Error(`restarted again: ${runs(tw.a)} ${runs(tw.b)}`);
    return Date.now() > until2;
  }, 10_000, 100);
  t.equal(runs(tw.b), 2, 'ours: ran exactly once more');
  writeFileSync(join(base, 'done'), '');
});
