// SPDX-License-Identifier: MIT
// Logdir against a real temporary directory, with write(2) replaced where a test
// needs ENOSPC, EIO or short writes (the machine-independent full-disk test).
import t from 'tap';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { writeSync } from 'node:fs';
import { join } from 'node:path';
import { Logdir, type DirEnv, type Level } from '../../src/runit/svlogd-dir.js';

function env(over: Partial<DirEnv> = {}): DirEnv & { msgs: string[]; exits: number[] } {
  const msgs: string[] = [];
  const exits: number[] = [];
  return {
    linemax: 1000,
    verbose: true,
    log: (level: Level, text: string) => { msgs.push(`${level}: ${text}`); },
    sleep: () => {},
    onProcessorExit: (_d, _p, code) => { exits.push(code); },
    onDeadline: () => {},
    msgs,
    exits,
    ...over,
  };
}

const put = (d: Logdir, s: string): void => {
  const b = Buffer.from(s);
  d.put(b, 0, b.length);
  if (s.endsWith('\n')) d.lineDone();
};
const rotated = (dir: string): string[] => readdirSync(dir).filter((f) => f.startsWith('@')).sort();
const mode = (p: string): number => statSync(p).mode & 0o777;

t.test('open, append, close: modes 0644 while open, 0744 after', async (t) => {
  const dir = t.testdir({});
  const e = env();
  const d = new Logdir(dir, e);
  t.ok(d.open(Date.now()));
  t.equal(mode(join(dir, 'current')), 0o644);
  t.equal(mode(join(dir, 'lock')), 0o600 & ~process.umask());
  put(d, 'a\n');
  d.flush();
  d.close();
  t.equal(mode(join(dir, 'current')), 0o744);
  const again = new Logdir(dir, e);
  t.ok(again.open(Date.now()));
  t.equal(again.size, 2, 'appended, size carried');
  again.close();
  t.same(e.msgs.filter((m) => m.includes('current')), [`info: new: ${dir}/current`, `info: append: ${dir}/current`]);
});

t.test('an unclean current becomes @….u at open and is never processed', async (t) => {
  const dir = t.testdir({ current: 'crashed\n', config: '!cat\n' });
  const d = new Logdir(dir, env());
  t.ok(d.open(Date.now()));
  const r = rotated(dir);
  t.equal(r.length, 1);
  t.match(r[0]!, /^@[0-9a-f]{24}\.u$/);
  t.equal(readFileSync(join(dir, r[0]!), 'utf8'), 'crashed\n');
  t.equal(d.ppid, 0, 'no processor started');
  d.close();
});

t.test('size rotation: clipped at s when s < -l, early by -l otherwise; n prunes one per rotation', async (t) => {
  const dir = t.testdir({ config: 's10\nn2\n' });
  const d = new Logdir(dir, env({ linemax: 1000 }));
  d.open(Date.now());
  put(d, '0123456789abcdefghij\n');
  d.flush();
  t.same(rotated(dir).map((f) => readFileSync(join(dir, f), 'utf8')), ['0123456789', 'abcdefghij']);
  t.equal(readFileSync(join(dir, 'current'), 'utf8'), '\n');
  put(d, 'klmnopqrst\n');
  d.flush();
  t.equal(rotated(dir).length, 2, 'n2 keeps two');
  d.close();

  const dir2 = t.testdir({ config: 's30\n' });
  const d2 = new Logdir(dir2, env({ linemax: 10 }));
  d2.open(Date.now());
  for (const l of ['aaaaaaaaa\n', 'bbbbbbbbb\n', 'ccccc\n', 'dd\n']) put(d2, l);
  d2.flush();
  t.same(rotated(dir2).map((f) => readFileSync(join(dir2, f), 'utf8')), ['aaaaaaaaa\nbbbbbbbbb\n'], 'rotated once 20 >= 30 - 10');
  t.equal(readFileSync(join(dir2, 'current'), 'utf8'), 'ccccc\ndd\n');
  t.equal(mode(join(dir2, rotated(dir2)[0]!)), 0o744);
  d2.close();
});

t.test('injected ENOSPC with N < n: delete the oldest and retry at once', async (t) => {
  const dir = t.testdir({ config: 'n5\nN1\n', '@400000000000000000000001.s': 'old1\n', '@400000000000000000000002.s': 'old2\n' });
  let fail = 1;
  const e = env({
    write: (fd, buf, off, len) => {
      if (fail-- > 0) throw Object.assign(new Error('full'), { code: 'ENOSPC' });
      return writeSync(fd, buf, off, len);
    },
  });
  const d = new Logdir(dir, e);
  d.open(Date.now());
  put(d, 'line\n');
  d.flush();
  t.same(rotated(dir), ['@400000000000000000000002.s']);
  t.same(e.msgs.filter((m) => !m.startsWith('info')), [`warning: out of disk space, delete: ${dir}/@400000000000000000000001.s`]);
  t.equal(readFileSync(join(dir, 'current'), 'utf8'), 'line\n');
  d.close();
});

t.test('injected ENOSPC/EIO and short writes: pause, warn, retry, no byte lost or doubled', async (t) => {
  const dir = t.testdir({});
  const errors = ['ENOSPC', 'EIO', 'ENOSPC'];
  let sleeps = 0;
  let calls = 0;
  const e = env({
    sleep: (ms) => { if (ms === 3000) sleeps++; },
    write: (fd, buf, off, len) => {
      calls++;
      if (calls % 2 === 0 && errors.length) throw Object.assign(new Error('x'), { code: errors.shift() });
      return writeSync(fd, buf, off, Math.max(1, len >> 1));
    },
  });
  const d = new Logdir(dir, e);
  d.open(Date.now());
  const want = Array.from({ length: 50 }, (_, i) => `line ${i}\n`).join('');
  put(d, want);
  d.flush();
  t.equal(readFileSync(join(dir, 'current'), 'utf8'), want);
  t.equal(sleeps, 3, 'paused three seconds per failure');
  t.same(e.msgs.filter((m) => m.startsWith('pausing')), [
    `pausing: unable to write to current: ${dir}: out of disk space`,
    `pausing: unable to write to current: ${dir}: input/output error`,
    `pausing: unable to write to current: ${dir}: out of disk space`,
  ]);
  d.close();
});

t.test('processor: the next rotation waits for it; failures restart it; state passed on', async (t) => {
  const dir = t.testdir({ config: 's5\nn0\n!sleep 0.2; read n <&4; echo $((${n:-0}+1)) >&5; tr a-z A-Z\n' });
  const e = env({ linemax: 5, sleep: (ms) => { Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms); } });
  const d = new Logdir(dir, e);
  d.open(Date.now());
  put(d, 'abcd\n');
  t.ok(d.ppid > 0, 'processor running after the first rotation');
  put(d, 'efgh\n');
  put(d, 'ijkl\n');
  while (d.ppid) d.processorStop(d.waitProcessor());
  t.same(rotated(dir).map((f) => [f.slice(-1), readFileSync(join(dir, f), 'utf8')]), [['s', 'ABCD\n'], ['s', 'EFGH\n'], ['s', 'IJKL\n']]);
  t.equal(readFileSync(join(dir, 'state'), 'utf8'), '3\n');
  d.close();

  const dir2 = t.testdir({ config: 's5\n!test -f again || { touch again; exit 3; }; cat\n' });
  const e2 = env({ linemax: 5 });
  const d2 = new Logdir(dir2, e2);
  d2.open(Date.now());
  put(d2, 'abcd\n');
  while (d2.ppid) d2.processorStop(d2.waitProcessor());
  t.same(e2.msgs.filter((m) => m.startsWith('warning')), [`warning: processor failed, restart: ${dir2}`]);
  t.same(rotated(dir2).map((f) => f.slice(-1)), ['s']);
  d2.close();
});

t.test('a busy lock and a missing dir are refused with runit\'s words', async (t) => {
  const dir = t.testdir({});
  const a = new Logdir(dir, env());
  t.ok(a.open(Date.now()));
  const e = env();
  t.notOk(new Logdir(dir, e).open(Date.now()));
  t.notOk(new Logdir(join(dir, 'nope'), e).open(Date.now()));
  writeFileSync(join(dir, 'file'), '');
  t.notOk(new Logdir(join(dir, 'file'), e).open(Date.now()));
  t.same(e.msgs, [
    `warning: unable to lock directory: ${dir}: temporary failure`,
    `warning: unable to open log directory: ${dir}/nope: file does not exist`,
    `warning: unable to change directory: ${dir}/file: not a directory`,
  ]);
  a.close();
});
