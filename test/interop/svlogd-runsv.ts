// SPDX-License-Identifier: MIT
// Our svlogd as the log service of a supervised service: the logger is restarted
// (TERM, then runsv starts a new one on the same pipe) five times while the service
// writes 100,000 lines; every line must be in the log exactly once, in order.
// The supervisor is our runsv when dist/svbox has one, runit's runsv until then.
import t from 'tap';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIST_SEA, linkApplets, runSync } from '../fixtures/bin.js';
import { findPeer, peerOpts } from '../fixtures/peers.js';
import { start, waitFor } from '../fixtures/proc.js';
import { ourSvlogd, storedLines } from '../fixtures/svlogd.js';

const LINES = 100_000;

/** Our runsv counts once it does more than say it is not implemented. */
function ourRunsvWorks(): boolean {
  const r = runSync(DIST_SEA, ['runsv']);
  return !`${r.stdout}${r.stderr}`.includes('not implemented yet');
}

const useOurs = ourRunsvWorks();
const opts = useOurs ? { skip: false as const } : peerOpts('runsv');

t.test(`restart svlogd 5 times during a ${LINES}-line stream under ${useOurs ? 'our' : 'runit\'s'} runsv`, opts, async (t) => {
  const base = t.testdir();
  const svlogd = ourSvlogd(base);
  const runsv = useOurs ? join(linkApplets(base, 'sea', ['runsv']), 'runsv') : findPeer('runsv')!;
  t.comment(`supervisor: ${runsv}`);
  const svc = join(base, 'svc');
  mkdirSync(join(svc, 'log', 'main'), { recursive: true });
  // Slow enough that the stream lasts ~8 s: 100 pauses of 80 ms; then stay up without writing.
  writeFileSync(join(svc, 'run'), `#!/bin/sh
exec perl -e '$| = 1; for my $i (0..${LINES - 1}) { print "line $i\\n"; select(undef, undef, undef, 0.08) if $i % 1000 == 999 } sleep 3600'
`);
  writeFileSync(join(svc, 'log', 'run'), `#!/bin/sh\nexec ${svlogd} ./main\n`);
  chmodSync(join(svc, 'run'), 0o755);
  chmodSync(join(svc, 'log', 'run'), 0o755);
  start(t, runsv, [svc], { detached: true, stdio: 'ignore' });
  const main = join(svc, 'log', 'main');
  const pidFile = join(svc, 'log', 'supervise', 'pid');
  const loggerPid = (): number => Number(readFileSync(pidFile, 'utf8').trim() || 0);
  await waitFor('logger running', () => loggerPid() > 0, 30_000);
  for (let i = 0; i < 5; i++) {
    const got = storedLines(main).length;
    await waitFor('stream progressing', () => storedLines(main).length > got + 1000, 60_000);
    const pid = loggerPid();
    process.kill(pid, 'SIGTERM');
    await waitFor(`logger ${i + 1} restarted`, () => { const p = loggerPid(); return p > 0 && p !== pid; }, 30_000);
  }
  t.ok(storedLines(main).length < LINES, 'the five restarts happened while the stream was still running');
  await waitFor('all lines logged', () => storedLines(main).length >= LINES, 120_000);
  const got = storedLines(main);
  t.equal(got.length, LINES, 'no line twice');
  let bad = -1;
  for (let i = 0; i < got.length; i++) {
    if (got[i] !== `line ${i}`) {
      bad = i;
      break;
    }
  }
  t.equal(bad, -1, 'every line present once, in order');
});
