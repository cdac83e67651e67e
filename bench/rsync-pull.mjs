// SPDX-License-Identifier: MIT
// Pull benchmark: a stock rsync client pulls the bench tree (bench/make-rsync-tree.mjs)
// from svbox and from the real rsync, alternating, in two modes: daemon mode (our
// `rsyncd --daemon` against `rsync --daemon`, same modules, loopback) and rsync's
// remote-shell server mode (`rsync -e SCRIPT host:tree/ dst/`, the script runs
// `svbox rsyncd --server ...` or `rsync --server ...`). Three cases: full pull into an
// empty directory, no-change pull, and a pull after 1% of the big file and 10 small
// files changed. Goals: wall-time ratio <= 1.5 and bytes-received ratio <= 1.01 on each.
import { spawn, spawnSync } from 'node:child_process';
import { rmSync, writeFileSync, cpSync, mkdirSync, symlinkSync, existsSync } from 'node:fs';
import { createServer, connect } from 'node:net';
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
  const from = shell.startsWith('rsync://') ? [`${shell}${src}/`] : ['-e', shell, `host:${src}/`];
  const r = spawnSync('rsync', ['-a', '--stats', ...from, `${dst}/`], { encoding: 'utf8', env: { ...process.env, ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`rsync exited ${r.status}: ${r.stderr}`);
  const received = Number(/Total bytes received: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
  return { ms, received };
}

function freePort() {
  return new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
}

async function daemon(dir, name, file, args, port) {
  const conf = join(dir, `${name}.conf`);
  writeFileSync(conf, `use chroot = no\nreverse lookup = no\nport = ${port}\naddress = 127.0.0.1\n[tree]\npath = ${join(dir, 'tree')}\nuid = root\ngid = root\n[changed]\npath = ${join(dir, 'changed')}\nuid = root\ngid = root\n`);
  const child = spawn(file, [...args, `--config=${conf}`], { stdio: 'ignore' });
  for (let i = 0; i < 200; i++) {
    const ok = await new Promise((res) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });
    if (ok) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${name} daemon did not start`);
}

export default async function rsyncPull({ runs = 5 } = {}) {
  const dir = process.env.SVBOX_BENCH_DIR ?? tempDir('svbox-rsync-bench-');
  mkdirSync(dir, { recursive: true });
  makeTree(dir);
  makeChanged(dir);
  const rshOurs = rsh(dir, 'rsh-svbox', `'${SEA}' rsyncd`);
  const rshTheirs = rsh(dir, 'rsh-rsync', 'rsync');
  const exe = join(dir, 'rsyncd');
  if (!existsSync(exe)) symlinkSync(SEA, exe);
  const [p1, p2] = [await freePort(), await freePort()];
  const children = [
    await daemon(dir, 'svbox', exe, ['--daemon', '--no-detach'], p1),
    await daemon(dir, 'rsync', 'rsync', ['--daemon', '--no-detach'], p2),
  ];
  // Our server serves "tree" and "changed" as modules; the real one finds them in its cwd.
  const envTree = { SVBOX_RSYNC_MODULE: `tree=${join(dir, 'tree')}` };
  const envChanged = { SVBOX_RSYNC_MODULE: `changed=${join(dir, 'changed')}` };
  const dst = (who) => join(dir, `dst-${who}`);
  const figures = {};
  let ours;
  let theirs;
  const measure = async (what, prepare, src, env) => {
    const run = (who, shell) => () => { prepare(dst(who)); return pull(shell, src, dst(who), env); };
    run('w', ours)(); // warm the page cache
    const [a, b] = await alternate(runs, run('ours', ours), run('theirs', theirs));
    figures[what] = {
      wall: report(`${what}: median wall`, median(a.map((x) => x.ms)), median(b.map((x) => x.ms)), 'ms', 1.5),
      bytes: report(`${what}: bytes received`, median(a.map((x) => x.received)), median(b.map((x) => x.received)), 'B', 1.01),
    };
  };
  const cases = async (mode) => {
    await measure(`${mode} full pull`, (d) => rmSync(d, { recursive: true, force: true }), 'tree', envTree);
    await measure(`${mode} no-change pull`, () => {}, 'tree', envTree);
    await measure(`${mode} 1% changed pull`, (d) => { rmSync(d, { recursive: true, force: true }); cpSync(join(dir, 'tree'), d, { recursive: true, preserveTimestamps: true }); }, 'changed', envChanged);
  };
  try {
    console.log(`rsync-pull: ${runs} alternating runs each; tree in ${dir}`);
    [ours, theirs] = [`rsync://127.0.0.1:${p1}/`, `rsync://127.0.0.1:${p2}/`];
    await cases('daemon');
    [ours, theirs] = [rshOurs, rshTheirs];
    await cases('remote-shell');
  } finally {
    for (const c of children) c.kill('SIGTERM');
  }
  return figures;
}
