import t from 'tap';
import { formatTai64n, tai64nFromMs, unpackTai64n, packTai64n } from '../../src/lib/tai64n.js';

t.test('labels as runit writes them', async (t) => {
  // runit-compat.md §0.3: @400000006b0257e90a31a45c = unix 1795315679.171025500
  t.equal(formatTai64n({ sec: 1795315679n, nsec: 171025500 }), '@400000006b0257e90a31a45c');
  const x = tai64nFromMs(1795315679171.025);
  t.equal(x.sec, 1795315679n);
  t.equal(x.nsec % 1000, 500, 'nanoseconds end in 500');
  t.same(unpackTai64n(packTai64n(x)), x);
});
