// SPDX-License-Identifier: MIT
// Our listening rsyncd keeps connection processes started ahead of need at a lower
// priority than its own, and gives a process the daemon's own priority back when it
// hands it a connection (src/rsync/listener.ts). Relative to the daemon: one started
// under `nice -n 3` serves at nice 3, its spares wait at 13. Only root may raise a
// priority again, so only then are spares niced.
import t from 'tap';
import { chmodSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { statFields } from '../../src/lib/procstat.js';
import { linkApplets } from '../fixtures/bin.js';
import { freePort, start, waitFor } from '../fixtures/proc.js';
import { canConnect, holdModule, writeTree } from '../fixtures/rsyncd.js';
import { descendants } from '../fixtures/tcpsvd.js';

/** The nice value of every thread of pid (field 19 of /proc/PID/task/TID/stat). */
function nices(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => Number(statFields(`/proc/${pid}/task/${tid}/stat`)[16]));
}

t.test('spares wait 10 nicer than the daemon and serve at its priority', { skip: process.getuid?.() === 0 ? false : 'needs root (only root renices)' }, async (t) => {
  const dir = t.testdir();
  chmodSync(dir, 0o755);
  const conf = writeTree(dir);
  const port = await freePort();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  linkApplets(bin, 'sea', ['rsyncd']);
  const d = start(t, '/usr/bin/nice', ['-n', '3', join(bin, 'rsyncd'), '--daemon', '--no-detach', `--port=${port}`, `--config=${conf}`, `--dparam=lockfile=${dir}/ours.lock`]);
  await waitFor('daemon listening', () => canConnect(port), 30_000, 50);
  t.same([...new Set(nices(d.child.pid!))], [3], 'the daemon runs at nice 3');
  const spares = await waitFor('spares at nice 13', () => {
    const kids = descendants(d.child.pid!).filter((p) => p.ppid === d.child.pid);
    return kids.length > 0 && kids.every((p) => nices(p.pid).every((n) => n === 13)) ? kids.map((p) => p.pid) : undefined;
  }, 30_000);
  t.ok(spares.length >= 1, `${spares.length} spares, every thread at nice 13`);
  const c = await holdModule(port, 'pub');
  t.match(c.got(), /@RSYNCD: OK/);
  const serving = await waitFor('one process back at nice 3', () => {
    const kids = descendants(d.child.pid!).filter((p) => p.ppid === d.child.pid);
    return kids.find((p) => nices(p.pid).every((n) => n === 3));
  }, 30_000);
  // Every child starts at 13 (set right after it is started), so one at 3 has been
  // given the daemon's priority back: the one handed the connection.
  t.equal(serving.ppid, d.child.pid, `a connection process (${serving.pid}) of the daemon serves at nice 3, every thread`);
  c.sock.destroy();
});
