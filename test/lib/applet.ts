import t from 'tap';
import { PassThrough } from 'node:stream';
import { runApplet, type AppletModule, type Io } from '../../src/lib/applet.js';
import { Fatal, UsageError } from '../../src/lib/die.js';

function io(): Io & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    name: 'demo', invokedAs: 'demo', stdin: new PassThrough(), env: {},
    stdout: { write: (s) => { out.push(String(s)); } },
    stderr: { write: (s) => { err.push(String(s)); } },
    out, err,
  };
}

const mod = (main: AppletModule['main']): AppletModule => ({ usage: '[-v] dir', help: 'Help text.', exitCodes: { usage: 100, fatal: 111 }, main });

t.test('the boundary maps outcomes to exit codes and one-line messages', async (t) => {
  let x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => 7) }, [], x), 7, 'main decides');

  x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => 7) }, ['--help'], x), 0, '--help is 0');
  t.equal(x.out.join(''), 'usage: demo [-v] dir\n\nHelp text.\n');

  x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => { throw new UsageError('illegal option -- x'); }) }, ['-x'], x), 100);
  t.same(x.err, ['demo: illegal option -- x\n', 'usage: demo [-v] dir\n\n']);

  x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => { throw new Fatal('unable to x: y'); }) }, [], x), 111);
  t.same(x.err, ['demo: fatal: unable to x: y\n']);

  x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => { throw new Fatal('z', 5); }) }, [], x), 5, 'a Fatal may name its code');

  x = io();
  t.equal(await runApplet({ name: 'demo', load: async () => mod(async () => { throw new TypeError('oops'); }) }, [], x), 101, 'internal error');
  t.match(x.err[0], /^demo: fatal: BUG: TypeError: oops/);
});
