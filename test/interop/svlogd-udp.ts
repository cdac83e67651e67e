// SPDX-License-Identifier: MIT
// u/U config lines (copies of selected lines by UDP, on loopback) against runit's
// svlogd, and the `t` timer rotating a non-empty current.
import t from 'tap';
import { createSocket, type Socket } from 'node:dgram';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { normalise, ourSvlogd, snapshot, startLogger } from '../fixtures/svlogd.js';

async function listen(t: { teardown(fn: () => unknown): void }): Promise<{ sock: Socket; port: number; got: string[] }> {
  const sock = createSocket('udp4');
  const got: string[] = [];
  sock.on('message', (m) => got.push(m.toString('latin1')));
  await new Promise<void>((res) => sock.bind(0, '127.0.0.1', () => res()));
  t.teardown(() => sock.close());
  return { sock, port: sock.address().port, got };
}

t.test('u and U send selected lines by UDP as runit does', peerOpts('svlogd'), async (t) => {
  const base = t.testdir();
  const input = 'short\nthis is a long line that goes past twenty bytes\nskip me\n\nlast\n';
  const out: Record<string, unknown> = {};
  for (const [side, bin] of [['runit', peerPaths('svlogd').svlogd], ['ours', ourSvlogd(base)]] as const) {
    const a = await listen(t);
    const b = await listen(t);
    const root = join(base, side);
    mkdirSync(join(root, 'copy'), { recursive: true });
    mkdirSync(join(root, 'only'), { recursive: true });
    writeFileSync(join(root, 'copy', 'config'), `u127.0.0.1:${a.port}\npP: \n-skip*\n`);
    writeFileSync(join(root, 'only', 'config'), `U127.0.0.1:${b.port}\n`);
    const log = startLogger(t, bin, ['-t', '-l', '20', '-b', '30', 'copy', 'only'], root);
    await log.write(input);
    await waitFor('datagrams', () => a.got.length === 4 && b.got.length === 5);
    await log.end();
    out[side] = {
      copy: a.got.map(normalise),
      only: b.got.map(normalise),
      dirs: [snapshot(join(root, 'copy')), snapshot(join(root, 'only'))].map((d) => d.filter((f) => f.name !== 'config')),
      stderr: log.stderr(),
    };
  }
  t.same(out.ours, out.runit, 'same datagrams and directories');
  t.same((out.ours as { copy: string[] }).copy[1], 'STAMP P: this is a long line ...\n', 'datagram: stamp, prefix, -l bytes, ...');
});

t.test('t rotates a non-empty current when its time is up, never an empty one', async (t) => {
  const base = t.testdir();
  mkdirSync(join(base, 'log'));
  writeFileSync(join(base, 'log', 'config'), 't1\n');
  const log = startLogger(t, ourSvlogd(base), ['-v', 'log'], base);
  const rotated = (): string[] => readdirSync(join(base, 'log')).filter((f) => f.startsWith('@')).sort();
  await log.write('first\n');
  await waitFor('timed rotation', () => rotated().length === 1, 10_000);
  await log.write('second\n');
  await waitFor('second timed rotation', () => rotated().length === 2, 10_000);
  // A third deadline passes with current empty: nothing is rotated, as the messages show.
  await waitFor('an idle deadline', () => log.stderr().split('rename:').length === 3 && Date.now() - statSync(join(base, 'log', rotated()[1]!)).mtimeMs > 2500, 10_000);
  t.equal(rotated().length, 2, 'no rotation of an empty current');
  t.same(rotated().map((f) => readFileSync(join(base, 'log', f), 'utf8')), ['first\n', 'second\n']);
  await log.end();
});
