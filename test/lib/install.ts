import t from 'tap';
import { lstatSync, readlinkSync, writeFileSync, symlinkSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { installLinks } from '../../src/lib/install.js';

t.test('creates links, replaces our own, refuses foreign files unless forced', async (t) => {
  const dir = realpathSync(t.testdir({ exe: 'x', other: 'y', sv: 'not a link' }));
  const target = join(dir, 'exe');
  t.throws(() => installLinks(["runsv", "sv"], dir, target, false), { exitCode: 1, message: /^refusing to replace / });
  t.equal(readlinkSync(join(dir, 'runsv')), target, 'names before the refused one are done');
  t.ok(lstatSync(join(dir, 'sv')).isFile(), 'the foreign file is untouched');
  const again = installLinks(['runsv'], dir, target, false);
  t.same(again.map((l) => l.replaced), [true], 'a link to us is replaced without -f');
  symlinkSync(join(dir, 'other'), join(dir, 'svlogd'));
  t.throws(() => installLinks(["svlogd"], dir, target, false), { exitCode: 1, message: /svlogd/ }, "a link elsewhere is foreign");
  installLinks(['sv', 'svlogd'], dir, target, true);
  t.equal(readlinkSync(join(dir, 'sv')), target);
  t.equal(readlinkSync(join(dir, 'svlogd')), target);
  writeFileSync(join(dir, 'keep'), '');
});
