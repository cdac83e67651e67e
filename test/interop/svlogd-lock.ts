// SPDX-License-Identifier: MIT
// One logger per directory, whichever implementation holds it: our svlogd and
// runit's refuse each other's directories with runit's words. Also the start-up
// failures (missing dir, usage) as runit prints them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { runSync } from '../fixtures/bin.js';
import { waitFor } from '../fixtures/proc.js';
import { ourSvlogd, startLogger, storedLines } from '../fixtures/svlogd.js';

const REFUSED = 'svlogd: warning: unable to lock directory: log: temporary failure\nsvlogd: fatal: no functional log directories.\n';

t.test('a second logger is refused, ours or runit\'s, in either order', peerOpts('svlogd'), async (t) => {
  const base = t.testdir();
  const ours = ourSvlogd(base);
  const { svlogd: theirs } = peerPaths('svlogd');
  for (const [holder, second] of [[theirs, ours], [ours, theirs], [ours, ours]] as const) {
    const dir = join(base, `d${Math.random().toString(36).slice(2)}`);
    mkdirSync(join(dir, 'log'), { recursive: true });
    const held = startLogger(t, holder, ['log'], dir);
    await waitFor('first logger up', () => existsSync(join(dir, 'log', 'current')));
    const r = runSync(second, ['log'], { cwd: dir, input: 'refused line\n' });
    t.equal(r.status, 111, `${second === ours ? 'ours' : 'runit'} exits 111 while ${holder === ours ? 'ours' : 'runit'} holds the lock`);
    t.equal(r.stderr, REFUSED);
    await held.write('kept\n');
    await held.end();
    t.same(storedLines(join(dir, 'log')), ['kept'], 'only the holder wrote');
    // Released at exit: the other one can now take the directory.
    const again = runSync(second, ['log'], { cwd: dir, input: 'after\n' });
    t.equal(again.status, 0, 'lock free after the holder exited');
  }
});

t.test('two dirs, one locked elsewhere: logging goes on in the other', peerOpts('svlogd'), async (t) => {
  const base = t.testdir();
  mkdirSync(join(base, 'log'));
  mkdirSync(join(base, 'free'));
  const held = startLogger(t, peerPaths('svlogd').svlogd, ['log'], base);
  await waitFor('runit logger up', () => existsSync(join(base, 'log', 'current')));
  const r = runSync(ourSvlogd(base), ['log', 'free'], { cwd: base, input: 'one\ntwo\n' });
  t.equal(r.status, 0);
  t.equal(r.stderr, 'svlogd: warning: unable to lock directory: log: temporary failure\n');
  t.same(storedLines(join(base, 'free')), ['one', 'two']);
  await held.end();
});

t.test('start-up failures read as runit\'s', peerOpts('svlogd'), async (t) => {
  const base = t.testdir();
  writeFileSync(join(base, 'plain'), '');
  const ours = ourSvlogd(base);
  const { svlogd: theirs } = peerPaths('svlogd');
  for (const args of [['missing'], ['plain'], ['missing', 'plain']]) {
    const a = runSync(ours, args, { cwd: base, input: '' });
    const b = runSync(theirs, args, { cwd: base, input: '' });
    t.equal(a.stderr, b.stderr, `stderr for ${args.join(' ')}`);
    t.equal(a.status, b.status, `exit code for ${args.join(' ')}`);
  }
  const usage = 'usage: svlogd [-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...\n\n';
  for (const args of [[], ['-r', 'ab', 'x'], ['-r', '', 'x'], ['-l', '1024', 'x'], ['-b', '10', '-l', '10', 'x']]) {
    const a = runSync(ours, args, { cwd: base, input: '' });
    const b = runSync(theirs, args, { cwd: base, input: '' });
    t.equal(a.stderr, usage, `usage for [${args.join(' ')}]`);
    t.equal(b.stderr, usage.replace('svlogd', theirs), 'runit prints the same (with its argv[0])');
    t.equal(a.status, 111);
    t.equal(b.status, 111);
  }
  const bad = runSync(ours, ['-x', 'log'], { cwd: base, input: '' });
  t.equal(bad.stderr, `svlogd: illegal option -- x\n${usage}`);
  t.equal(bad.status, 111);
});

t.test('standard input a regular file, /dev/null or a directory: as runit', peerOpts('svlogd'), async (t) => {
  const base = t.testdir();
  const input = join(base, 'input');
  writeFileSync(input, Array.from({ length: 3000 }, (_, i) => `file line ${i}\n`).join('') + 'partial');
  const ours = ourSvlogd(base);
  const { svlogd: theirs } = peerPaths('svlogd');
  for (const [what, path] of [['file', input], ['/dev/null', '/dev/null'], ['directory', base]] as const) {
    const got: Record<string, unknown> = {};
    for (const [side, bin] of [['ours', ours], ['runit', theirs]] as const) {
      const dir = join(base, `${side}-${what.replace(/\W/g, '')}`);
      mkdirSync(dir);
      writeFileSync(join(dir, 'config'), 's10000\nn100\n');
      const fd = openSync(path, 'r');
      const r = spawnSync(bin, [dir], { stdio: [fd, 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
      closeSync(fd);
      got[side] = { status: r.status, stderr: r.stderr.replaceAll(dir, 'DIR'), lines: storedLines(dir) };
    }
    t.same(got.ours, got.runit, what);
  }
});
