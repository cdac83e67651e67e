// SPDX-License-Identifier: MIT
// 10,000 connections in a row through our tcpsvd leave nothing behind: the same
// number of open descriptors in the server (/proc/PID/fd), no children but the
// socket keeper, and no zombies. Clients run 8 at a time to keep the test short.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { waitFor } from '../fixtures/proc.js';
import { startTcpsvd, talk } from '../fixtures/tcpsvd.js';

const TOTAL = Number(process.env.SVBOX_TCPSVD_LEAK_N ?? 10_000);
const PARALLEL = 8;

function fds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Children of pid as [pid, state] from /proc (state Z = zombie). */
function children(pid: number): [number, string][] {
  const out: [number, string][] = [];
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${e}/stat`, 'utf8');
    } catch {
      continue;
    }
    // pid (comm) state ppid ...; comm may contain spaces: parse from the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (Number(rest[1]) === pid) out.push([Number(e), rest[0]!]);
  }
  return out;
}

t.test(`${TOTAL} connections leave no fd, child or zombie behind`, async (t) => {
  const dir = t.testdir();
  const s = await startTcpsvd(t, 'ours', dir, ['-c', '16', '-l', 'localhost'], ['/bin/echo', 'ok']);
  const pid = s.child.pid!;
  await talk(s.port);
  await waitFor('first connection ended', () => s.stdout().includes('status 0/16'), 20_000);
  const fdsBefore = fds(pid);
  const kidsBefore = children(pid);
  t.equal(kidsBefore.length, 1, 'only the socket keeper is a child before');
  let next = 0;
  let bad = 0;
  await Promise.all(Array.from({ length: PARALLEL }, async () => {
    while (next < TOTAL) {
      next++;
      if ((await talk(s.port)) !== 'ok\n') bad++;
    }
  }));
  t.equal(bad, 0, `all ${TOTAL} clients got the program's output`);
  await waitFor('all children ended', () => children(pid).length === kidsBefore.length, 60_000);
  t.same(children(pid), kidsBefore, 'no child left but the keeper, no zombie');
  t.equal(fds(pid), fdsBefore, `same number of open descriptors (${fdsBefore})`);
  t.equal(s.child.exitCode, null, 'server still running');
  s.child.kill('SIGTERM');
  await s.exited;
});
