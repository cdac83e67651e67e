// The warm-up a waiting connection process runs: it builds a file list of a scratch
// tree and leaves nothing behind in the temporary directory.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { warmFileList } from '../../src/rsync/warmup.js';

t.test('warmFileList leaves no scratch tree behind', async (t) => {
  const mine = (): string[] => readdirSync(tmpdir()).filter((n) => n.startsWith('svbox-rsyncd-warm-'));
  const before = new Set(mine());
  const t0 = performance.now();
  warmFileList();
  const ms = performance.now() - t0;
  t.same(mine().filter((n) => !before.has(n)), [], 'no new scratch directory');
  t.ok(ms < 5000, `finished (${ms.toFixed(0)} ms)`);
});
