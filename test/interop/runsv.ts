// runit's sv and daemontools' svstat/svok against our runsv, every control command,
// the supervise/ files, ./finish arguments and the crash-loop throttle, each run
// the same way against runit's own runsv and compared after normalising pids,
// seconds and paths (runit-compat.md §1, §7).
import t, { type Test } from 'tap';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts } from '../fixtures/peers.js';
import { ownDir, waitFor } from '../fixtures/proc.js';
import { IMPLS, lines, normalise, peer, pidOf, readText, startRunsv, stat, waitDown, waitLines, waitStat, writeService, type Impl } from '../fixtures/runsv.js';

const TRAP_RUN = `#!/bin/sh
for s in HUP ALRM INT QUIT USR1 USR2; do trap "echo $s >> sig.log" $s; done
trap 'echo TERM >> sig.log; kill $P; exit 0' TERM
echo start >> sig.log
sleep 1000 & P=$!
while kill -0 $P 2>/dev/null; do wait $P; done
`;
const FINISH = `#!/bin/sh
echo "$#:$*" >> finish.log
`;

function modes(dir: string): string[] {
  return readdirSync(join(dir, 'supervise')).filter((n) => !n.endsWith('.new')).sort().map((n) => {
    const st = lstatSync(join(dir, 'supervise', n));
    const kind = st.isFIFO() ? 'p' : st.isFile() ? '-' : '?';
    return `${n} ${kind}${(st.mode & 0o777).toString(8)}`;
  });
}

/** Every command of runit's sv through one service; returns the transcript. */
async function commands(t: Test, impl: Impl): Promise<string[]> {
  const root = ownDir(t, `svbox-runsv-${impl}-`);
  const d = writeService(join(root, 'svc'), { run: TRAP_RUN, finish: FINISH });
  const out: string[] = [];
  const sv = (...a: string[]): string => {
    const r = peer('sv', [...a, d]);
    return normalise(`${r.code} ${r.out}${r.err}`, d);
  };
  const svstat = (): string => normalise(peer('svstat', [d]).out, d);
  const p = startRunsv(t, impl, d, join(root, 'bin'));
  await waitStat(d, 'run\n');
  await waitLines(join(d, 'sig.log'), 1);
  out.push(`status ${sv('status')}`, `svstat ${svstat()}`, `svok ${peer('svok', [d]).code}`);
  out.push(`pid file ${/^\d+\n$/.test(readText(join(d, 'supervise', 'pid')))}`);
  sv('pause');
  await waitStat(d, 'run, paused\n');
  out.push(`paused ${sv('status')}`, `svstat ${svstat()}`);
  sv('cont');
  await waitStat(d, 'run\n');
  let n = 1;
  for (const [cmd, sig] of [['hup', 'HUP'], ['alarm', 'ALRM'], ['interrupt', 'INT'], ['quit', 'QUIT'], ['1', 'USR1'], ['2', 'USR2']] as const) {
    sv(cmd);
    const got = await waitLines(join(d, 'sig.log'), ++n);
    out.push(`${cmd} -> ${got[n - 1]}`);
  }
  const first = pidOf(d);
  sv('term');
  await waitFor('restart after term', () => pidOf(d) !== first && pidOf(d) !== 0 && stat(d) === 'run\n', 20_000);
  out.push(`term -> finish ${(await waitLines(join(d, 'finish.log'), 1))[0]}`);
  sv('down');
  await waitStat(d, 'down\n');
  out.push(`down ${sv('status')}`, `svstat ${svstat()}`, `finish ${(await waitLines(join(d, 'finish.log'), 2))[1]}`);
  out.push(`pid file empty ${readText(join(d, 'supervise', 'pid')) === ''}`);
  sv('once');
  await waitStat(d, 'run, want down\n');
  out.push(`once ${sv('status')}`, `svstat ${svstat()}`);
  sv('kill');
  await waitStat(d, 'down\n');
  out.push(`kill -> finish ${(await waitLines(join(d, 'finish.log'), 3))[2]}`);
  sv('up');
  await waitStat(d, 'run\n');
  out.push(`up ${sv('status')}`);
  out.push(...modes(d));
  const x = sv('exit');
  const ex = await p.exited;
  out.push(`exit ${x} -> runsv ${ex.code}`, `after ${sv('status')}`, `svok ${peer('svok', [d]).code}`, `stat ${stat(d)}`);
  out.push(`sig.log ${lines(join(d, 'sig.log')).join(',')}`);
  return out;
}

t.test('runit sv commands against our runsv match runit runsv', peerOpts('runsv', 'sv', 'svstat', 'svok'), async (t) => {
  const [ours, theirs] = [await commands(t, 'ours'), await commands(t, 'runit')];
  t.same(ours, theirs);
  t.match(ours.join('\n'), /status 0 run: SVC: \(pid PID\) Ns\n/);
  t.match(ours.join('\n'), /svstat SVC: up \(pid PID\) N seconds, paused/);
  t.match(ours.join('\n'), /kill -> finish 2:-1 9/);
  t.match(ours.join('\n'), /exit 0  -> runsv 0/);
});

/** A ./run that exits at once, with ./finish: start times and finish arguments. */
async function crashLoop(t: Test, impl: Impl): Promise<{ gaps: number[]; finish: string[] }> {
  const root = ownDir(t, `svbox-runsv-${impl}-`);
  const d = writeService(join(root, 'svc'), {
    run: '#!/bin/sh\ndate +%s.%N >> starts\nexit 3\n',
    finish: FINISH,
  });
  const p = startRunsv(t, impl, d, join(root, 'bin'));
  const starts = (await waitLines(join(d, 'starts'), 4, 30_000)).map(Number);
  peer('sv', ['down', d]);
  await waitDown(d);
  peer('sv', ['exit', d]);
  await p.exited;
  return { gaps: starts.slice(1).map((s, i) => s - starts[i]!), finish: lines(join(d, 'finish.log')) };
}

t.test('crash loop: at most one start a second, ./finish CODE STATUS, as runit', peerOpts('runsv', 'sv'), async (t) => {
  for (const impl of IMPLS) {
    const r = await crashLoop(t, impl);
    for (const g of r.gaps) t.ok(g >= 0.95 && g < 3, `${impl}: ${g.toFixed(3)} s between starts`);
    t.same([...new Set(r.finish)], ['2:3 0'], `${impl}: finish args for exit 3`);
  }
});

t.test('./finish after a kill by signal, and after exec failure', peerOpts('runsv', 'sv'), async (t) => {
  const res: Record<string, string[]> = {};
  for (const impl of IMPLS) {
    const root = t.testdir();
    const d = writeService(join(root, 'svc'), { run: '#!/bin/sh\nkill -USR1 $$\n', finish: FINISH });
    const p = startRunsv(t, impl, d, join(root, 'bin'));
    await waitLines(join(d, 'finish.log'), 1);
    peer('sv', ['down', d]);
    await waitDown(d);
    writeService(d, { run: 'no shebang here\n' });
    peer('sv', ['up', d]);
    await waitLines(join(d, 'finish.log'), 2);
    peer('sv', ['down', d]);
    await waitDown(d);
    peer('sv', ['exit', d]);
    await p.exited;
    res[impl] = [lines(join(d, 'finish.log'))[0]!, lines(join(d, 'finish.log')).at(-1)!, normalise(p.stderr(), d).split('\n')[0]!];
  }
  t.same(res.ours, res.runit);
  t.same(res.ours, ['2:-1 10', '2:111 0', `runsv SVC: fatal: unable to start ./run: exec format error`]);
});
