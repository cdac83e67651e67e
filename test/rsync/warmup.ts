// The warm-up a waiting connection process runs: it lists the file-system root without
// recursing (a few dozen entries, never the whole tree) and writes nothing.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { warmFileList } from '../../src/rsync/warmup.js';

t.test('warmFileList lists / without recursion', async (t) => {
  const top = readdirSync('/').length;
  const n = warmFileList();
  // The entries of / plus "." (a recursive walk would list the whole system).
  t.equal(n, top + 1, `${n} entries for ${top} names in /`);
});
