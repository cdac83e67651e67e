// SPDX-License-Identifier: MIT
import t from 'tap';
import { formatPtime, formatStamp } from '../../src/runit/svlogd-stamp.js';

// 2026-11-22 02:47:59.171025500 UTC, the example in runit-compat.md §0.3 (as runit labels it).
const at = { sec: 1795315679n, nsec: 171025500 };

t.test('the three formats, 25 characters and a space', async (t) => {
  t.equal(formatStamp(0, at), '');
  t.equal(formatStamp(1, at), '@400000006b0257e90a31a45c ');
  t.equal(formatStamp(2, at), '2026-11-22_02:47:59.17102 ');
  t.equal(formatStamp(3, at), '2026-11-22T02:47:59.17102 ');
  for (const k of [1, 2, 3] as const) t.equal(formatStamp(k, at).length, 26);
});

t.test('fraction digits are truncated, zero-padded', async (t) => {
  t.equal(formatPtime({ sec: 0n, nsec: 999999500 }, '_'), '1970-01-01_00:00:00.99999');
  t.equal(formatPtime({ sec: 86399n, nsec: 500 }, 'T'), '1970-01-01T23:59:59.00000');
  t.equal(formatPtime({ sec: 951782400n, nsec: 10000500 }, '_'), '2000-02-29_00:00:00.01000');
});
