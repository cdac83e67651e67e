// Black-box dispatch rules, for both artefacts (the single executable and the bundle).
import t from 'tap';
import { mkdirSync, readlinkSync, symlinkSync, writeFileSync, copyFileSync, chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTEFACTS, artefactPath, runSync } from './fixtures/bin.js';
import { start, waitFor } from './fixtures/proc.js';

const APPLETS = ['rsyncd', 'runsv', 'runsvdir', 'sv', 'svlogd', 'tcpsvd'];

for (const kind of ARTEFACTS) {
  const exe = artefactPath(kind);
  t.test(`${kind}: front end`, async (t) => {
    let r = runSync(exe, ['--list']);
    t.equal(r.status, 0);
    t.equal(r.stdout, `${APPLETS.join('\n')}\n`);

    r = runSync(exe, []);
    t.equal(r.status, 0, 'no arguments: overview');
    t.match(r.stdout, /Applets: rsyncd runsv runsvdir sv svlogd tcpsvd/);

    r = runSync(exe, ['--help']);
    t.equal(r.status, 0);
    r = runSync(exe, ['--help', 'sv']);
    t.equal(r.status, 0);
    t.match(r.stdout, /^usage: sv \[-v\] \[-w sec\] command service \.\.\.\n/);
    r = runSync(exe, ['--help', 'nope']);
    t.equal(r.status, 127);

    r = runSync(exe, ['sv', '--help']);
    t.equal(r.status, 0, 'svbox APPLET --help');
    t.match(r.stdout, /^usage: sv /);
    r = runSync(exe, ['/any/path/to/svlogd', '--help']);
    t.equal(r.status, 0, 'svbox /path/APPLET takes the base name');
    t.match(r.stdout, /^usage: svlogd /);

    r = runSync(exe, ['nope', 'x']);
    t.equal(r.status, 127);
    t.equal(r.stderr, 'svbox: applet not found: nope\n');
    t.equal(r.stdout, '');

    r = runSync(exe, ['--bogus']);
    t.equal(r.status, 1, 'unknown front-end option');
  });

  t.test(`${kind}: invoked through links`, async (t) => {
    const dir = t.testdir({});
    for (const a of APPLETS) {
      symlinkSync(exe, join(dir, a));
      const r = runSync(join(dir, a), ['--help']);
      t.equal(r.status, 0, `${a} --help`);
      t.match(r.stdout, new RegExp(`^usage: ${a} `), `${a} prints its own usage`);
    }
    symlinkSync(exe, join(dir, '-sv'));
    let r = runSync(join(dir, '-sv'), ['--help']);
    t.equal(r.status, 0, 'a leading - is stripped (login shells)');
    t.match(r.stdout, /^usage: sv /);

    symlinkSync(exe, join(dir, 'unknown'));
    r = runSync(join(dir, 'unknown'), []);
    t.equal(r.status, 127);
    t.equal(r.stderr, 'svbox: applet not found: unknown\n');

    // /etc/init.d/NAME -> sv: the link chain names the applet (sv's LSB mode).
    mkdirSync(join(dir, 'init.d'));
    symlinkSync(join(dir, 'sv'), join(dir, 'init.d', 'foo'));
    r = runSync(join(dir, 'init.d', 'foo'), ['--help']);
    t.equal(r.status, 0, 'a link to an applet link runs that applet');
    t.match(r.stdout, /^usage: sv /);
  });

  t.test(`${kind}: --install`, async (t) => {
    const dir = t.testdir({ sv: 'somebody else' });
    let r = runSync(exe, ['--install', dir]);
    t.equal(r.status, 1, 'refuses to replace a foreign file');
    t.match(r.stderr, /^svbox: fatal: refusing to replace .*\/sv: not a link to .* \(use -f\)\n$/);
    r = runSync(exe, ['--install', '-f', dir]);
    t.equal(r.status, 0, r.stderr);
    for (const a of APPLETS) {
      t.equal(readlinkSync(join(dir, a)), exe, `${a} links to the executable`);
      const h = runSync(join(dir, a), ['--help']);
      t.equal(h.status, 0, `${a} --help through the installed link`);
    }
    r = runSync(exe, ['--install', dir]);
    t.equal(r.status, 0, 'installing again over our own links needs no -f');
    r = runSync(exe, ['--install', dir, 'extra']);
    t.equal(r.status, 1);
  });
}

t.test('sea: a copied (not linked) executable installs links next to itself', async (t) => {
  const dir = t.testdir({});
  const exe = join(dir, 'svbox');
  copyFileSync(artefactPath('sea'), exe);
  chmodSync(exe, 0o755);
  const r = runSync(exe, ['--install']);
  t.equal(r.status, 0, r.stderr);
  t.equal(readlinkSync(join(dir, 'sv')), exe);
  writeFileSync(join(dir, 'marker'), '');
});

// Node's default SIGUSR1 action opens an inspector on 127.0.0.1:9229 that any local
// user can attach to. Every applet must instead die of it, as the C tools do.
for (const kind of ARTEFACTS) {
  t.test(`${kind}: SIGUSR1 terminates an applet and opens no debugger`, async (t) => {
    const dir = t.testdir({ log: {} });
    symlinkSync(artefactPath(kind), join(dir, 'svlogd'));
    const p = start(t, join(dir, 'svlogd'), [join(dir, 'log')], { stdio: ['pipe', 'pipe', 'pipe'] });
    p.child.stdin?.write('ready\n');
    await waitFor('svlogd to write its first line', () => existsSync(join(dir, 'log', 'current')) && readFileSync(join(dir, 'log', 'current'), 'utf8') === 'ready\n');
    p.child.kill('SIGUSR1');
    const end = await Promise.race([p.exited, new Promise<'alive'>((r) => setTimeout(() => r('alive'), 10_000))]);
    t.same(end, { code: null, signal: 'SIGUSR1' }, 'killed by SIGUSR1');
    t.notMatch(p.stderr(), /Debugger listening/);
  });
}
