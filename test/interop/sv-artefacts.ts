// Both artefacts (the single executable and the JS bundle run by node) behave as
// runit's sv: a quick pass over status, a control write, LSB mode and usage, on
// records held by the test (no runsv needed, so it stays fast).
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ARTEFACTS, artefactPath } from '../fixtures/bin.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { fakeSupervise, runSv, svLinks } from '../fixtures/sv-compare.js';
import { packTai64n } from '../../src/lib/tai64n.js';

for (const kind of ARTEFACTS) {
  t.test(`${kind}: same as runit's sv`, peerOpts('sv'), async (t) => {
    const p = peerPaths('sv');
    const base = t.testdir({});
    const svdir = join(base, 'service');
    const bins = svLinks(base, p.sv, ['web'], artefactPath(kind));
    const status = Buffer.alloc(20);
    packTai64n({ sec: BigInt(Math.floor(Date.now() / 1000) - 1000), nsec: 500 }, status, 0);
    status.writeUInt32LE(1234, 12);
    status[17] = 0x75;
    status[19] = 1;
    mkdirSync(join(svdir, 'web'), { recursive: true });
    fakeSupervise(t, join(svdir, 'web'), status);
    const env = { ...process.env, SVDIR: svdir };
    for (const [real, ours, args] of [
      [bins.real, bins.ours, ['status', 'web', 'nosuch']],
      [bins.real, bins.ours, ['-v', 'hup', 'web']],
      [bins.real, bins.ours, ['-w0', 'down', 'web']],
      [bins.real, bins.ours, []],
      [bins.realLsb('web'), bins.oursLsb('web'), ['status']],
      [bins.realLsb('web'), bins.oursLsb('web'), ['bogus']],
    ] as [string, string, string[]][]) {
      const [a, b] = await Promise.all([runSv(real, args, { env }), runSv(ours, args, { env })]);
      // The fake record is 1000 s old: ages may tick by a second between the two runs.
      const age = (s: string) => s.replace(/ 100\ds/g, ' 100Xs');
      t.equal(age(b.stdout), age(a.stdout), `${args.join(' ')}: stdout ${JSON.stringify(a.stdout)}`);
      t.equal(b.stderr, a.stderr, `${args.join(' ')}: stderr`);
      t.equal(b.code, a.code, `${args.join(' ')}: exit code ${a.code}`);
    }
  });
}
