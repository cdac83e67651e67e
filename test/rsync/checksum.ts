// The strong block sums: hashing a block in the matcher's window (blockIn) gives the
// same digest as hashing a copy (block), for every checksum and every length, short
// blocks included (those go through hash-wasm).
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { makeChecksums, CHECKSUM_OFFER } from '../../src/rsync/checksum.js';
import { sumWindow } from '../../src/rsync/rollsum.js';

t.test('blockIn equals block', async (t) => {
  const w = sumWindow(200_000);
  w.buf.set(randomBytes(200_000));
  for (const name of CHECKSUM_OFFER) {
    for (const seed of [0, 777, -5]) {
      const c = await makeChecksums(name, seed, true);
      let bad = 0;
      for (const len of [1, 16, 240, 241, 700, 8192, 8195, 131_072]) {
        const start = Math.floor(Math.random() * 1000);
        const a = Buffer.from(c.blockIn(w, start, start + len));
        const b = Buffer.from(c.block(w.buf.slice(start, start + len)));
        if (!a.equals(b) || a.length !== c.len) bad++;
      }
      t.equal(bad, 0, `${name} seed ${seed}`);
    }
  }
});
