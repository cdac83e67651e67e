// SPDX-License-Identifier: MIT
// 10,000 connections in a row through our tcpsvd leave nothing behind: the same
// number of open descriptors in the server and in each of its spawner processes
// (/proc/PID/fd), the same helper processes (socket keeper, spawners: none died or
// was replaced), no other process below the server, and no zombies. Clients run 8
// at a time to keep the test short.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { spawnerCount } from '../../src/ipsvd/spawner.js';
import { waitFor } from '../fixtures/proc.js';
import { descendants, isHelper, isSpawner, startTcpsvd, talk } from '../fixtures/tcpsvd.js';

const TOTAL = Number(process.env.SVBOX_TCPSVD_LEAK_N ?? 10_000);
const PARALLEL = 8;

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Open descriptors of the server and of each helper, by pid. */
function fdCounts(pid: number): Record<number, number> {
  const out: Record<number, number> = { [pid]: fds(pid) };
  for (const p of descendants(pid).filter(isHelper)) out[p.pid] = fds(p.pid);
  return out;
}

// The default starts the spawners with the first overlap, as many as spawnerCount says.
const lazy = spawnerCount(16, undefined);

for (const knob of ['2', '0', undefined]) {
  const spawners = knob ?? String(lazy);
  t.test(`${TOTAL} connections leave no fd, child or zombie behind (${knob === undefined ? `default: ${lazy}` : spawners} spawners)`, async (t) => {
    const dir = t.testdir();
    const env = { PATH: '/usr/bin:/bin', ...(knob !== undefined ? { SVBOX_TCPSVD_SPAWNERS: knob } : {}) };
    const s = await startTcpsvd(t, 'ours', dir, ['-c', '16', '-l', 'localhost'], ['/bin/echo', 'ok'], { env });
    const pid = s.child.pid!;
    // By default the spawners start with the first clients that overlap.
    if (knob === undefined) await Promise.all(Array.from({ length: 32 }, () => talk(s.port)));
    // Helpers start while the server already serves: wait for all of them.
    await waitFor('helpers running', () => descendants(pid).filter(isSpawner).length === Number(spawners), 20_000);
    await talk(s.port);
    // Ended as last logged (a warm-up burst logs 0/16 between connections too).
    await waitFor('first connection ended', () => s.stdout().endsWith('status 0/16\n'), 20_000);
    const before = descendants(pid);
    t.equal(before.filter(isHelper).length, 1 + Number(spawners), 'the socket keeper and the spawners are running');
    t.same(before.filter((p) => !isHelper(p)), [], 'nothing else below the server before');
    const fdsBefore = fdCounts(pid);
    let next = 0;
    let bad = 0;
    await Promise.all(Array.from({ length: PARALLEL }, async () => {
      while (next < TOTAL) {
        next++;
        if ((await talk(s.port)) !== 'ok\n') bad++;
      }
    }));
    t.equal(bad, 0, `all ${TOTAL} clients got the program's output`);
    await waitFor('all programs ended', () => descendants(pid).every(isHelper), 60_000);
    await waitFor('all ends logged', () => s.stdout().endsWith('status 0/16\n'), 60_000);
    const after = descendants(pid);
    t.same(after.map((p) => [p.pid, p.state === 'Z']), before.map((p) => [p.pid, p.state === 'Z']), 'the same helpers, no zombie, nothing else');
    t.same(fdCounts(pid), fdsBefore, 'the same number of open descriptors in the server and in each helper');
    t.equal(s.child.exitCode, null, 'server still running');
    s.child.kill('SIGTERM');
    await s.exited;
  });
}
