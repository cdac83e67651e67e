// The client side of a service directory (src/runit/control.ts): name resolution
// as sv's chdir sequence walks it, the supervise/ok probe, status reads, control
// writes and ./check, on temp dirs with FIFOs held open by the test itself.
import t from 'tap';
import { chmodSync, closeSync, constants, mkdirSync, openSync, readSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { downFile, enterable, probeOk, readStatusBytes, runCheck, serviceDir, within, writeControl } from '../../src/runit/control.js';
import { makeFifo } from '../../src/lib/fifo.js';

t.test('service names', async (t) => {
  t.equal(serviceDir('web', '/var/service'), '/var/service/web');
  t.equal(serviceDir('web', '/etc/service/'), '/etc/service/web', 'no doubled slash needed');
  t.equal(serviceDir('./web', '/var/service'), './web');
  t.equal(serviceDir('/srv/web', '/var/service'), '/srv/web');
  t.equal(serviceDir('.hidden', '/var/service'), '.hidden', 'a leading dot is cwd-relative');
  t.equal(serviceDir('web/', '/var/service'), 'web/', 'trailing slash: cwd-relative when sending');
  t.equal(serviceDir('web/', '/var/service', true), '/var/service/web/', 'but SVDIR-relative while waiting');
  t.equal(serviceDir('a/../b', '/s'), '/s/a/../b', 'never normalised: the kernel resolves .. as chdir would');
  t.equal(serviceDir('', '/s'), '', 'empty name');
  t.equal(serviceDir('web', ''), '', 'empty SVDIR: chdir("") fails');
  t.equal(within('', 'x'), '');
});

t.test('enterable: the errno chdir would give', async (t) => {
  const d = t.testdir({ svc: { run: 'x' }, file: 'x' });
  symlinkSync(join(d, 'svc'), join(d, 'link'));
  symlinkSync(join(d, 'nowhere'), join(d, 'dangling'));
  t.equal(enterable(join(d, 'svc')), undefined);
  t.equal(enterable(join(d, 'link')), undefined, 'links are followed');
  t.equal(enterable(join(d, 'dangling')), 'ENOENT');
  t.equal(enterable(join(d, 'file')), 'ENOTDIR');
  t.equal(enterable(join(d, 'file', 'x')), 'ENOTDIR');
  t.equal(enterable(join(d, 'nope')), 'ENOENT');
  t.equal(enterable(''), 'ENOENT');
});

t.test('probe, status, control against FIFOs the test holds', async (t) => {
  const d = t.testdir({ svc: { supervise: {} }, bare: {} });
  const sup = join(d, 'svc', 'supervise');
  t.same(probeOk(join(d, 'bare')), { kind: 'error', errno: 'ENOENT' }, 'no supervise/');
  makeFifo(join(sup, 'ok'));
  makeFifo(join(sup, 'control'));
  t.same(probeOk(join(d, 'svc')), { kind: 'not-running' }, 'ENXIO: nobody reads ok');
  t.same(writeControl(join(d, 'svc'), 'u'), { kind: 'not-running' });
  const ok = openSync(join(sup, 'ok'), constants.O_RDONLY | constants.O_NONBLOCK);
  const ctl = openSync(join(sup, 'control'), constants.O_RDONLY | constants.O_NONBLOCK);
  t.teardown(() => { closeSync(ok); closeSync(ctl); });
  t.same(probeOk(join(d, 'svc')), { kind: 'running' });

  t.equal(readStatusBytes(join(d, 'svc')).kind, 'open-error');
  writeFileSync(join(sup, 'status'), Buffer.alloc(18, 7));
  const short = readStatusBytes(join(d, 'svc'));
  t.equal(short.kind, 'bad-format');
  t.equal(short.kind === 'bad-format' && short.bytes.length, 18, 'the short read is returned');
  writeFileSync(join(sup, 'status'), Buffer.alloc(25, 1));
  const long = readStatusBytes(join(d, 'svc'));
  t.equal(long.kind === 'ok' && long.bytes.length, 20, 'longer than 20: the first 20 count, as in sv');

  t.same(writeControl(join(d, 'svc'), 'tcu'), { kind: 'sent' });
  const b = Buffer.alloc(10);
  t.equal(b.subarray(0, readSync(ctl, b)).toString(), 'tcu', 'one write, all letters');
  t.same(writeControl(join(d, 'bare'), 'u'), { kind: 'open-error', errno: 'ENOENT' });
});

t.test('down file', async (t) => {
  const d = t.testdir({ up: {}, down: { down: '' }, file: 'x' });
  t.same(downFile(join(d, 'up')), { normallyUp: true });
  t.same(downFile(join(d, 'down')), { normallyUp: false });
  t.same(downFile(join(d, 'file')), { errno: 'ENOTDIR' });
});

t.test('./check', async (t) => {
  const d = t.testdir({});
  const svc = (name: string, check?: string, mode = 0o755): string => {
    const p = join(d, name);
    mkdirSync(p);
    if (check !== undefined) {
      writeFileSync(join(p, 'check'), check);
      chmodSync(join(p, 'check'), mode);
    }
    return p;
  };
  t.same(runCheck(svc('none'), process.env), { pass: true }, 'no ./check passes');
  t.same(runCheck(svc('ok', '#!/bin/sh\nexit 0\n'), process.env), { pass: true });
  t.same(runCheck(svc('no', '#!/bin/sh\nexit 1\n'), process.env), { pass: false });
  t.same(runCheck(svc('cwd', '#!/bin/sh\ntest -f ./check && test "$0" = ./check\n'), process.env), { pass: true }, 'runs in the service dir');
  t.same(runCheck(svc('env', '#!/bin/sh\ntest "$X" = 1\n'), { ...process.env, X: '1' }), { pass: true }, "sv's environment");
  t.same(runCheck(svc('stdout', '#!/bin/sh\necho hi 2>/dev/null\n'), process.env), { pass: false }, 'stdout is not writable (closed in runit)');
  t.same(runCheck(svc('sig', '#!/bin/sh\nkill -9 $$\n'), process.env), { pass: true }, 'killed by a signal: exit code 0, passes');
  t.same(runCheck(svc('noexec', '#!/bin/sh\nexit 1\n', 0o644), process.env), { pass: true, problem: { verb: 'run', errno: 'EACCES' } }, 'cannot run: passes with a warning');
  t.same(runCheck(svc('noshebang', 'exit 1\n'), process.env), { pass: true, problem: { verb: 'run', errno: 'ENOEXEC' } }, 'no #!: exec format error as execve says');
  const dir = svc('dir');
  mkdirSync(join(dir, 'check'));
  t.same(runCheck(dir, process.env), { pass: true, problem: { verb: 'run', errno: 'EACCES' } }, 'a directory');
  const bad = svc('bad');
  writeFileSync(join(bad, 'x'), '');
  symlinkSync('check', join(bad, 'loop'));
  symlinkSync('loop', join(bad, 'check'));
  t.same(runCheck(bad, process.env), { pass: false, problem: { verb: 'stat', errno: 'ELOOP' } }, 'stat errors other than ENOENT fail');
});
