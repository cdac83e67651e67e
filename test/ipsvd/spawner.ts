// SPDX-License-Identifier: MIT
// How many spawner processes tcpsvd starts (the processes themselves are tested
// through the built executable in test/interop/tcpsvd-spawner.ts).
import t from 'tap';
import { spawnerCount } from '../../src/ipsvd/spawner.js';

t.test('spawner count', async (t) => {
  t.equal(spawnerCount(30, undefined, 2), 3, 'one more than the cores');
  t.equal(spawnerCount(30, undefined, 3), 4);
  t.equal(spawnerCount(30, undefined, 16), 4, 'at most 4 by default');
  t.equal(spawnerCount(30, undefined, 1), 0, 'one core: programs run from the server itself');
  t.equal(spawnerCount(1, undefined, 8), 0, '-c 1: nothing runs in parallel, no spawner');
  t.equal(spawnerCount(3, undefined, 8), 3, 'never more than -c');
  t.equal(spawnerCount(2, undefined, 2), 2);
  t.equal(spawnerCount(30, '0', 8), 0, 'knob 0: none');
  t.equal(spawnerCount(30, '6', 1), 6, 'knob: that many, whatever the cores');
  t.equal(spawnerCount(2, '6', 1), 2, 'knob: still no more than -c');
  t.equal(spawnerCount(30, 'lots', 2), 3, 'a knob that is no number is ignored');
});
