// SPDX-License-Identifier: MIT
// svlogd must not lose or repeat a line: on a full disk (a size-limited tmpfs,
// ours and runit's side by side), across kill -9 during rotations and restarts on
// the same pipe, and at TERM in the middle of a line.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readSync, rmdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeFifo } from '../../src/lib/fifo.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { start, waitFor } from '../fixtures/proc.js';
import { ourSvlogd, snapshot, startLogger, storedLines, waitLines } from '../fixtures/svlogd.js';

const lines = (from: number, n: number): string => Array.from({ length: n }, (_, i) => `line ${String(from + i).padStart(6, '0')} ${'z'.repeat((from + i) % 50)}\n`).join('');
const expected = (n: number): string[] => lines(0, n).replace(/\n$/, '').split('\n');

/** Mount a tmpfs of `size` at dir; false when this machine does not let us. */
function mountTmpfs(dir: string, size: string): boolean {
  return spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' }).status === 0;
}

/** Can we mount a size-limited filesystem here (root, no container restriction)? */
function tmpfsAllowed(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'svlogd-tmpfs-probe-'));
  const ok = mountTmpfs(probe, '64k');
  if (ok) spawnSync('umount', [probe], { stdio: 'ignore' });
  rmdirSync(probe);
  return ok;
}

/** Fill the filesystem at dir with one file until write(2) reports ENOSPC. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) writeSync(fd, block);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  } finally {
    closeSync(fd);
  }
}

const fullDiskOpts = tmpfsAllowed()
  ? peerOpts('svlogd')
  : { skip: 'cannot mount a tmpfs here (needs root); test/runit/svlogd-dir.ts covers this path with an injected ENOSPC' };

t.test('full disk: pause, warn, retry; every line once, in order (ours and runit\'s)', fullDiskOpts, async (t) => {
  const base = t.testdir();
  const mnt = mkdtempSync(join(tmpdir(), 'svlogd-full-'));
  t.ok(mountTmpfs(mnt, '256k'), 'tmpfs of 256k mounted');
  t.teardown(() => {
    spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
    rmdirSync(mnt);
  });
  const results: Record<string, unknown> = {};
  for (const [side, bin] of [['runit', peerPaths('svlogd').svlogd], ['ours', ourSvlogd(base)]] as const) {
    const root = join(mnt, side);
    mkdirSync(join(root, 'log'), { recursive: true });
    writeFileSync(join(root, 'log', 'config'), 's100000\nn5\n');
    const log = startLogger(t, bin, ['log'], root);
    await log.write(lines(0, 100));
    await waitLines(join(root, 'log'), 100);
    fill(join(mnt, 'filler'));
    await log.write(lines(100, 100));
    await waitFor(`${side} pauses`, () => log.stderr().includes('svlogd: pausing: unable to write to current: log: out of disk space\n'), 30_000);
    rmSync(join(mnt, 'filler'));
    await log.write(lines(200, 100));
    await waitLines(join(root, 'log'), 300, 30_000);
    const ex = await log.end();
    t.equal(ex.code, 0, `${side} exits 0`);
    t.same(storedLines(join(root, 'log')), expected(300), `${side}: all 300 lines, once each, in order`);
    results[side] = snapshot(join(root, 'log'));
    rmSync(root, { recursive: true });
  }
  t.same(results.ours, results.runit, 'same directory as runit\'s after the full disk');
});

t.test('full disk with N < n: the oldest files make room, as runit does it', fullDiskOpts, async (t) => {
  const mnt = mkdtempSync(join(tmpdir(), 'svlogd-fullN-'));
  t.ok(mountTmpfs(mnt, '128k'), 'tmpfs of 128k mounted');
  t.teardown(() => {
    spawnSync('umount', ['-l', mnt], { stdio: 'ignore' });
    rmdirSync(mnt);
  });
  const base = t.testdir();
  const results: Record<string, unknown> = {};
  for (const [side, bin] of [['runit', peerPaths('svlogd').svlogd], ['ours', ourSvlogd(base)]] as const) {
    const root = join(mnt, side);
    mkdirSync(join(root, 'log'), { recursive: true });
    writeFileSync(join(root, 'log', 'config'), 's8000\nn40\nN3\n');
    const log = startLogger(t, bin, ['log'], root);
    await log.write(lines(0, 3000));
    const ex = await log.end();
    t.equal(ex.code, 0, `${side} exits 0`);
    const kept = storedLines(join(root, 'log'));
    t.same(kept, expected(3000).slice(3000 - kept.length), `${side}: what is kept is the newest lines, in order`);
    results[side] = { dir: snapshot(join(root, 'log')), stderr: log.stderr().replace(/@[0-9a-f]{24}/g, '@X') };
    rmSync(root, { recursive: true });
  }
  t.match((results.ours as { stderr: string }).stderr, /svlogd: warning: out of disk space, delete: log\/@X\.s\n/);
  t.same(results.ours, results.runit, 'same files and warnings as runit');
});

/** A FIFO the test keeps open for writing, so loggers can come and go on one pipe (as under runsv). */
function pipeFor(t: Test, dir: string): { path: string; write(s: string): void; readerFd(): number } {
  const path = join(dir, 'pipe');
  makeFifo(path, 0o600);
  const keep = openSync(path, constants.O_RDWR);
  const w = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  t.teardown(() => { closeSync(w); closeSync(keep); });
  return {
    path,
    write: (s) => {
      let b = Buffer.from(s);
      while (b.length) {
        try {
          b = b.subarray(writeSync(w, b));
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
        }
      }
    },
    readerFd: () => openSync(path, constants.O_RDONLY | constants.O_NONBLOCK),
  };
}

t.test('kill -9 during rotations, restart on the same pipe: no line lost or doubled', async (t) => {
  const base = t.testdir();
  const bin = ourSvlogd(base);
  mkdirSync(join(base, 'log'));
  writeFileSync(join(base, 'log', 'config'), 's300\nn0\n');
  const pipe = pipeFor(t, base);
  const startOne = () => {
    const fd = pipe.readerFd();
    const p = start(t, bin, ['-l', '100', 'log'], { cwd: base, stdio: [fd, 'ignore', 'pipe'] });
    closeSync(fd);
    return p;
  };
  let logger = startOne();
  let sent = 0;
  let kills = 0;
  for (let round = 0; round < 40; round++) {
    const n = 3 + (round % 7);
    pipe.write(lines(sent, n));
    sent += n;
    await waitLines(join(base, 'log'), sent);
    if (round % 4 === 3) {
      // The batch that crossed s300 makes svlogd rotate right after writing it: kill it at once or a moment later.
      await new Promise((r) => setTimeout(r, round % 3));
      logger.child.kill('SIGKILL');
      await logger.exited;
      kills++;
      logger = startOne();
    }
  }
  pipe.write(lines(sent, 5));
  sent += 5;
  await waitLines(join(base, 'log'), sent);
  logger.child.kill('SIGTERM');
  t.equal((await logger.exited).code, 0, 'TERM ends the last logger with 0');
  t.equal(kills, 10, 'ten kill -9');
  const names = readdirSync(join(base, 'log'));
  t.ok(names.some((f) => f.endsWith('.u')), 'an unclean current was kept as .u at a restart');
  t.notOk(names.some((f) => f.endsWith('.t')), 'no processor leftovers');
  t.same(storedLines(join(base, 'log')), expected(sent), `all ${sent} lines once, in order`);
});

t.test('TERM in the middle of a line: the line is finished and written, nothing after it is taken', async (t) => {
  const base = t.testdir();
  mkdirSync(join(base, 'log'));
  const pipe = pipeFor(t, base);
  const fd = pipe.readerFd();
  const p = start(t, ourSvlogd(base), ['-v', 'log'], { cwd: base, stdio: [fd, 'ignore', 'pipe'] });
  closeSync(fd);
  pipe.write('one\ntwo\npart');
  await waitLines(join(base, 'log'), 2);
  p.child.kill('SIGTERM');
  await waitFor('sigterm seen', () => p.stderr().includes('svlogd: info: sigterm received.\n'));
  pipe.write('ial\nnext line\n');
  const ex = await p.exited;
  t.equal(ex.code, 0);
  t.same(storedLines(join(base, 'log')), ['one', 'two', 'partial'], 'the interrupted line is complete in the log');
  const rest = Buffer.alloc(100);
  const rfd = pipe.readerFd();
  const n = readSync(rfd, rest);
  closeSync(rfd);
  t.equal(rest.subarray(0, n).toString(), 'next line\n', 'the following line stays in the pipe for the next logger');
  t.ok(existsSync(join(base, 'log', 'current')));
});
