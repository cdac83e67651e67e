import t from 'tap';
import { closeSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { claimConnection } from '../../src/rsync/connlimit.js';
import { waitFor } from '../fixtures/proc.js';

t.test('slots in the lock file', async (t) => {
  const lock = join(t.testdir({}), 'lock');
  t.same(claimConnection(lock, 0), { ok: true, fd: undefined, slot: -1 }, 'max 0: unlimited, no lock file');
  const a = claimConnection(lock, 2);
  const b = claimConnection(lock, 2);
  t.match(a, { ok: true, slot: 0 });
  t.match(b, { ok: true, slot: 1 });
  t.same(claimConnection(lock, 2), { ok: false, full: true }, 'third of two is refused');
  if (b.ok && b.fd !== undefined) closeSync(b.fd);
  const c = claimConnection(lock, 2);
  t.match(c, { ok: true, slot: 1 }, 'closing frees the slot');
  t.same(claimConnection(lock, -1), { ok: false, full: true }, 'negative: module disabled');
  t.match(claimConnection(join(lock, 'not-a-dir', 'x'), 1), { ok: false, full: false, code: 'ENOTDIR' });
  for (const r of [a, c]) if (r.ok && r.fd !== undefined) closeSync(r.fd);
});

t.test('a dead holder frees its slot; a live one in another process counts', async (t) => {
  const lock = join(t.testdir({}), 'lock');
  // Another process holding slot 0 with a POSIX record lock (what rsync itself takes).
  const holder = spawn('/usr/bin/perl', ['-e', `$| = 1; use Fcntl; open(my $f, '+>>', '${lock}') or die; my $fl = pack('ssx4qqix4', F_WRLCK, 0, 0, 4, 0); fcntl($f, F_SETLK, $fl) or die "lock: $!"; print "locked\\n"; sleep 60;`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.teardown(() => { holder.kill('SIGKILL'); });
  let out = '';
  holder.stdout.on('data', (b: Buffer) => { out += b.toString(); });
  await waitFor('holder locked', () => out.includes('locked'), 20_000);
  t.same(claimConnection(lock, 1), { ok: false, full: true }, 'rsync-style record lock excludes us');
  holder.kill('SIGKILL');
  await waitFor('slot freed by the holder dying', () => {
    const r = claimConnection(lock, 1);
    if (r.ok && r.fd !== undefined) closeSync(r.fd);
    return r.ok;
  }, 20_000);
});
