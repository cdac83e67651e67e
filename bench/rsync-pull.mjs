// SPDX-License-Identifier: MIT
// Pull benchmark: a stock rsync client pulls the bench tree (bench/make-rsync-tree.mjs)
// from svbox's server and from the real rsync, alternating, in the same mode: rsync's
// remote-shell server mode (`rsync -e SCRIPT host:tree/ dst/`, the script runs
// `svbox rsyncd --server ...` or `rsync --server ...`), because that mode needs no
// daemon front end on either side. Three cases: full pull into an empty directory,
// no-change pull, and a pull after 1% of the big file and 10 small files changed.
// Goals: wall-time ratio <= 1.5 and bytes-received ratio <= 1.01 on each.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { alternate, median, report, SEA, tempDir } from './lib.mjs';
import { makeTree, makeChanged } from './make-rsync-tree.mjs';

function rsh(dir, name, command) {
  const p = join(dir, name);
  writeFileSync(p, `#!/bin/sh\nshift\nwhile [ "$1" != "rsync" ] && [ $# -gt 0 ]; do shift; done\nshift\ncd '${dir}' && eval "exec ${command} $*"\n`, { mode: 0o755 });
  return p;
}

function pull(shell, src, dst, env) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('rsync', ['-a', '--stats', '-e', shell, `host:${src}/`, `${dst}/`], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`rsync exited ${r.status}: ${r.stderr}`);
  const received = Number(/Total bytes received: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
  return { ms, received };
}

export default async function rsyncPull({ runs = 5 } = {}) {
  const dir = process.env.SVBOX_BENCH_DIR ?? tempDir('svbox-rsync-bench-');
  mkdirSync(dir, { recursive: true });
  makeTree(dir);
  makeChanged(dir);
  const ours = rsh(dir, 'rsh-svbox', `'${SEA}' rsyncd`);
  const theirs = rsh(dir, 'rsh-rsync', 'rsync');
  // Our server serves "tree" and "changed" as modules; the real one finds them in its cwd.
  const envTree = { SVBOX_RSYNC_MODULE: `tree=${join(dir, 'tree')}` };
  const envChanged = { SVBOX_RSYNC_MODULE: `changed=${join(dir, 'changed')}` };
  const dst = (who) => join(dir, `dst-${who}`);
  const figures = {};
  const measure = async (what, prepare, src, env) => {
    const run = (who, shell) => () => { prepare(dst(who)); return pull(shell, src, dst(who), env); };
    run('w', ours)(); // warm the page cache
    const [a, b] = await alternate(runs, run('ours', ours), run('theirs', theirs));
    figures[what] = {
      wall: report(`${what}: median wall`, median(a.map((x) => x.ms)), median(b.map((x) => x.ms)), 'ms', 1.5),
      bytes: report(`${what}: bytes received`, median(a.map((x) => x.received)), median(b.map((x) => x.received)), 'B', 1.01),
    };
  };
  console.log(`rsync-pull: ${runs} alternating runs each, remote-shell mode (svbox rsyncd --server vs rsync --server), tree in ${dir}`);
  await measure('full pull', (d) => rmSync(d, { recursive: true, force: true }), 'tree', envTree);
  await measure('no-change pull', () => {}, 'tree', envTree);
  await measure('1% changed pull', (d) => { rmSync(d, { recursive: true, force: true }); cpSync(join(dir, 'tree'), d, { recursive: true, preserveTimestamps: true }); }, 'changed', envChanged);
  return figures;
}
