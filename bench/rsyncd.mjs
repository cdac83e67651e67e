// SPDX-License-Identifier: MIT
// The daemon front end's cost per connection: a real rsync client asking for the
// module list (greeting, motd, listing) and logging in to a password module
// (greeting, auth, argument list, an empty-directory pull), against our rsyncd
// (standalone: one process started per connection) and `rsync --daemon` (one fork
// per connection), same config, alternating; median wall time of the client.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { join } from 'node:path';
import { alternate, appletLinks, ensureBuilt, median, report, tempDir, timeRun } from './lib.mjs';

const freePort = () => new Promise((res) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)); }); });
const up = (port) => new Promise((res) => { const s = connect(port, '127.0.0.1'); s.on('connect', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); });

export default async function rsyncd({ runs = 20 } = {}) {
  ensureBuilt();
  const dir = tempDir('svbox-bench-rsyncd-');
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, 'priv'), { mode: 0o755 });
  writeFileSync(join(dir, 'secrets'), 'alice:secret123\n', { mode: 0o600 });
  writeFileSync(join(dir, 'motd'), 'bench\n');
  const conf = join(dir, 'rsyncd.conf');
  writeFileSync(conf, `reverse lookup = no\nuse chroot = no\nmotd file = ${dir}/motd\n[pub]\n  path = ${dir}/priv\n[priv]\n  path = ${dir}/priv\n  auth users = alice\n  secrets file = ${dir}/secrets\n`);
  const { rsyncd: ours } = appletLinks(dir, ['rsyncd']);
  const po = await freePort();
  const pr = await freePort();
  const a = spawn(ours, [`--port=${po}`, `--config=${conf}`, `--log-file=${dir}/ours.log`], { stdio: 'ignore', detached: true });
  const b = spawn('/usr/bin/rsync', ['--daemon', '--no-detach', `--port=${pr}`, `--config=${conf}`, `--log-file=${dir}/real.log`], { stdio: 'ignore', detached: true });
  try {
    for (let i = 0; i < 300 && !((await up(po)) && (await up(pr))); i++) await new Promise((r) => setTimeout(r, 50));
    const env = { ...process.env, RSYNC_PASSWORD: 'secret123', USER: 'alice' };
    const list = (p) => () => timeRun('/usr/bin/rsync', [`rsync://127.0.0.1:${p}/`]);
    const login = (p) => () => timeRun('/usr/bin/rsync', ['-a', `rsync://alice@127.0.0.1:${p}/priv/`, join(dir, `dst-${p}`)], { env });
    list(po)(); list(pr)(); login(po)(); login(pr)();
    const [l1, l2] = await alternate(runs, list(po), list(pr));
    const [a1, a2] = await alternate(runs, login(po), login(pr));
    console.log(`rsyncd: ${runs} alternating runs each`);
    return {
      listing: report('module list (greeting + motd + listing), client wall', median(l1), median(l2), 'ms'),
      login: report('auth + args + empty pull, client wall', median(a1), median(a2), 'ms'),
    };
  } finally {
    for (const c of [a, b]) try { process.kill(-c.pid, 'SIGKILL'); } catch { /* gone */ }
    spawnSync('true');
  }
}
