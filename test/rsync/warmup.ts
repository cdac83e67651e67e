// The warm-up a waiting connection process runs: it lists /proc/self without recursing
// (a few dozen entries, never the whole tree; never a real, possibly networked, directory).
import t from 'tap';
import { readdirSync } from 'node:fs';
import { warmDir, warmFileList } from '../../src/rsync/warmup.js';

t.test('warmFileList lists /proc/self without recursion', async (t) => {
  const top = readdirSync(warmDir()).length;
  const n = warmFileList();
  // Its entries plus "." (a recursive walk would also list task/, fd/, ns/ ...).
  t.equal(n, top + 1, `${n} entries for ${top} names in ${warmDir()}`);
});
