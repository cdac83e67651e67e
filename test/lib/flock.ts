import t from 'tap';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { lockFile } from '../../src/lib/flock.js';
import { makeFifo } from '../../src/lib/fifo.js';
import { lstatSync } from 'node:fs';

t.test('an flock taken through the system flock stays ours and excludes others', async (t) => {
  const dir = t.testdir({});
  const path = join(dir, 'lock');
  const a = lockFile(path);
  t.ok(a.ok, 'first lock');
  const b = lockFile(path);
  t.same(b, { ok: false, code: 'EAGAIN' }, 'second lock in the same process is refused');
  // Another process's flock(1) on the same file must fail too: the lock is real.
  const other = spawnSync('flock', ['-n', path, 'true']);
  t.equal(other.status, 1, 'flock(1) from another process is excluded');
  if (a.ok) closeSync(a.fd);
  t.equal(spawnSync('flock', ['-n', path, 'true']).status, 0, 'closing the fd releases it');
});

t.test('makeFifo', async (t) => {
  const dir = t.testdir({});
  const p = join(dir, 'control');
  makeFifo(p, 0o600);
  t.ok(lstatSync(p).isFIFO());
  t.equal(lstatSync(p).mode & 0o777, 0o600);
  makeFifo(p, 0o600);
  t.pass('an existing FIFO is kept');
  t.throws(() => makeFifo(join(dir, 'no', 'such'), 0o600), { code: 'ENOENT' });
});
