// Transcripts of every `sv status` shape, runit's sv and ours on the same service
// under runit's REAL runsv (status only reads, so both look at one service):
// up, down, normally up/down, want up/down, paused, got TERM, finish, with and
// without a log service, and the broken shapes (log not a directory, log never
// supervised, no runsv, no supervise/, records runsv never writes).
import t, { type Test } from 'tap';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { fakeSupervise, normalise, runSv, SLEEPER, stat, superviseReal, svLinks, TERM_IGNORER, writeSpec, type Spec } from '../fixtures/sv-compare.js';
import { packTai64n } from '../../src/lib/tai64n.js';

/** Run both sv's with the same arguments; same stdout (normalised), stderr and exit code. */
async function same(t: Test, real: string, ours: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}, what = args.join(' ')): Promise<string> {
  const [a, b] = await Promise.all([runSv(real, args, opts), runSv(ours, args, opts)]);
  t.equal(normalise(b.stdout), normalise(a.stdout), `${what}: stdout`);
  t.equal(b.stderr, a.stderr, `${what}: stderr`);
  t.equal(b.code, a.code, `${what}: exit code ${a.code}`);
  return normalise(a.stdout);
}

t.test('status shapes against the real runsv', peerOpts('runsv', 'sv'), async (t) => {
  const p = peerPaths('runsv', 'sv');
  const base = t.testdir({});
  const svdir = join(base, 'service');
  const { real, ours } = svLinks(base, p.sv);
  const env = { ...process.env, SVDIR: svdir };
  const specs: Record<string, Spec> = {
    up: { run: SLEEPER },
    uplog: { run: SLEEPER, 'log/run': SLEEPER },
    normdown: { run: SLEEPER, down: '' },
    normdownlog: { run: SLEEPER, down: '', 'log/run': SLEEPER, 'log/down': '' },
    down: { run: SLEEPER },
    once: { run: SLEEPER },
    paused: { run: SLEEPER, 'log/run': SLEEPER },
    term: { run: TERM_IGNORER },
    finish: { run: SLEEPER, finish: '#!/bin/sh\nexec sleep 1000\n' },
    wantup: { 'log/run': SLEEPER },
    logdown: { run: SLEEPER, 'log/run': SLEEPER },
    lognotdir: { run: SLEEPER, log: 'not a directory\n' },
  };
  for (const [name, spec] of Object.entries(specs)) writeSpec(join(svdir, name), spec);
  await Promise.all(Object.keys(specs).map((n) =>
    superviseReal(t, p.runsv, svdir, n, n === 'wantup' ? (s) => s.startsWith('down') || s.startsWith('run') : undefined)));

  // Bring each into its shape with runit's own sv, then wait until runsv shows it.
  const runit = (args: string[]) => runSv(p.sv, args, { env });
  await runit(['down', 'down']);
  await runit(['up', 'normdown', 'normdownlog']);
  await runit(['once', 'once']);
  await runit(['pause', 'paused', 'paused/log']);
  await runit(['down', 'term']);
  await runit(['down', 'finish']);
  await runit(['down', 'logdown/log']);
  const settled: Record<string, string> = {
    down: 'down\n', normdown: 'run\n', normdownlog: 'run\n', once: 'run, want down\n', paused: 'run, paused\n',
    term: 'run, got TERM, want down\n', finish: 'finish, want down\n', 'logdown/log': 'down\n',
  };
  for (const [n, s] of Object.entries(settled)) await waitFor(`${n}: ${s.trim()}`, () => stat(join(svdir, n)) === s, 20_000);
  await waitFor('paused/log paused', () => stat(join(svdir, 'paused', 'log')) === 'run, paused\n', 20_000);

  const expected: Record<string, string> = {
    up: 'run: up: (pid P) Ns\n',
    uplog: 'run: uplog: (pid P) Ns; run: log: (pid P) Ns\n',
    normdown: 'run: normdown: (pid P) Ns, normally down\n',
    normdownlog: 'run: normdownlog: (pid P) Ns, normally down; down: log: Ns\n',
    down: 'down: down: Ns, normally up\n',
    once: 'run: once: (pid P) Ns, want down\n',
    paused: 'run: paused: (pid P) Ns, paused; run: log: (pid P) Ns, paused\n',
    term: 'run: term: (pid P) Ns, want down, got TERM\n',
    finish: 'finish: finish: (pid P) Ns, want down\n',
    logdown: 'run: logdown: (pid P) Ns; down: log: Ns, normally up\n',
    lognotdir: 'run: lognotdir: (pid P) Ns; warning: lognotdir/log: unable to change directory: not a directory\n',
  };
  for (const [n, line] of Object.entries(expected)) {
    const out = await same(t, real, ours, ['status', n], { env });
    t.equal(out, line, `${n}: the shape runit prints`);
  }
  // want up: no ./run, so runsv retries every second; between retries it is down, want up.
  await waitFor('wantup shows want up', async () => (await runSv(p.sv, ['status', 'wantup'], { env })).stdout.includes('want up'), 20_000);
  await same(t, real, ours, ['status', 'wantup'], { env });

  // Several services in one call, as the names are given; spelled ./NAME, /abs/NAME, NAME/.
  await same(t, real, ours, ['status', 'up', './service/uplog', join(svdir, 'down'), 'paused/', 'nosuch', 'term'], { env, cwd: base });
  await same(t, real, ours, ['s', 'up'], { env }, 'any word starting with s is status');
  await same(t, real, ours, ['stat', 'up', 'uplog/log'], { env });

  // A log dir that runsv never supervised: runit warns, then prints "log" from the main record.
  mkdirSync(join(svdir, 'up', 'log'));
  await same(t, real, ours, ['status', 'up'], { env }, 'log without supervise/');
  rmSync(join(svdir, 'up', 'log'), { recursive: true });
});

t.test('records runsv never writes, and no supervisor at all', peerOpts('sv'), async (t) => {
  const p = peerPaths('sv');
  const base = t.testdir({});
  const svdir = join(base, 'service');
  const { real, ours } = svLinks(base, p.sv);
  const env = { ...process.env, SVDIR: svdir };
  const rec = (ago: number, pid: number, paused: number, want: number, term: number, state: number): Buffer => {
    const b = Buffer.alloc(20);
    const ms = Date.now() - ago * 1000;
    packTai64n({ sec: BigInt(Math.floor(ms / 1000)), nsec: 500 }, b, 0);
    b.writeUInt32LE(pid >>> 0, 12);
    b[16] = paused; b[17] = want; b[18] = term; b[19] = state;
    return b;
  };
  const u = 0x75;
  const d = 0x64;
  const fakes: Record<string, Buffer> = {
    allflags: rec(3, 4242, 1, d, 1, 1),
    downpaused: rec(3, 0, 1, d, 0, 0),
    finishwantup: rec(3, 77, 0, u, 0, 2),
    badstate: rec(3, 12, 0, u, 0, 7),
    badwant: rec(3, 0, 0, 0x78, 0, 0),
    bigpid: rec(3, 0x80000001, 0, u, 0, 1),
    future: rec(-100, 9, 0, u, 0, 1),
    term2: rec(3, 9, 0, d, 2, 1),
  };
  for (const [name, b] of Object.entries(fakes)) {
    mkdirSync(join(svdir, name), { recursive: true });
    fakeSupervise(t, join(svdir, name), b);
  }
  writeFileSync(join(svdir, 'allflags', 'down'), '');
  for (const name of Object.keys(fakes)) await same(t, real, ours, ['status', name], { env });
  await same(t, real, ours, ['status', ...Object.keys(fakes)], { env }, 'all fakes at once');
  // `d` is skipped only when want is down and TERM is exactly 1: term2 gets it.
  await same(t, real, ours, ['down', 'term2', 'allflags'], { env });

  // Short, missing and unreadable status files; supervise/ missing; runsv gone.
  mkdirSync(join(svdir, 'short'));
  fakeSupervise(t, join(svdir, 'short'), rec(1, 5, 0, u, 0, 1).subarray(0, 18));
  mkdirSync(join(svdir, 'nostatus'));
  fakeSupervise(t, join(svdir, 'nostatus'), Buffer.alloc(0));
  rmSync(join(svdir, 'nostatus', 'supervise', 'status'));
  mkdirSync(join(svdir, 'dirstatus'));
  fakeSupervise(t, join(svdir, 'dirstatus'), Buffer.alloc(0));
  rmSync(join(svdir, 'dirstatus', 'supervise', 'status'));
  mkdirSync(join(svdir, 'dirstatus', 'supervise', 'status'));
  writeSpec(join(svdir, 'bare'), { run: SLEEPER });
  writeSpec(join(svdir, 'gone'), { run: SLEEPER, 'supervise/': '' });
  const { execFileSync } = await import('node:child_process');
  execFileSync('mkfifo', [join(svdir, 'gone', 'supervise', 'ok')]);
  writeFileSync(join(svdir, 'notdir'), 'x');
  for (const n of ['short', 'nostatus', 'dirstatus', 'bare', 'gone', 'notdir', 'nosuch']) {
    for (const cmd of ['status', 'up', 'exit', '-v exit', '-w0 term', 'check']) await same(t, real, ours, [...cmd.split(' '), n], { env });
  }
  await same(t, real, ours, ['status', 'short', 'bare', 'gone', 'up'], { env }, 'problems counted');
  // A daemontools-style record under a log: the short read lands in sv's buffer.
  writeSpec(join(svdir, 'shortlog'), { 'log/': '' });
  fakeSupervise(t, join(svdir, 'shortlog'), rec(3, 33, 0, u, 0, 1));
  fakeSupervise(t, join(svdir, 'shortlog', 'log'), rec(9, 44, 0, d, 0, 0).subarray(0, 18));
  await same(t, real, ours, ['status', 'shortlog'], { env });
  // Empty SVDIR, and an SVDIR that is a file.
  await same(t, real, ours, ['status', 'allflags'], { env: { ...env, SVDIR: '' } }, 'SVDIR empty');
  await same(t, real, ours, ['status', 'allflags'], { env: { ...env, SVDIR: join(svdir, 'notdir') } }, 'SVDIR a file');
  await same(t, real, ours, ['status', 'allflags'], { env: { ...env, SVDIR: `${svdir}/` } }, 'SVDIR with a trailing slash');
});
