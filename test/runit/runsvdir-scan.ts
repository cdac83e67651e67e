// runsvdir's scan as data (runsvdir.c: runsvdir) and the log-argument ring.
import t from 'tap';
import { MAXSERVICES, planScan, TitleRing, type Found } from '../../src/runit/runsvdir-scan.js';

const f = (name: string, ino: number, dev = 1): Found => ({ name, dev: BigInt(dev), ino: BigInt(ino) });

t.test('new entries start, known ones only when their runsv died', async (t) => {
  const p = planScan([], [f('a', 10), f('b', 11)]);
  t.same(p.start, [{ name: 'a', index: 0 }, { name: 'b', index: 1 }]);
  t.equal(p.changed, true);
  p.next[0]!.pid = 500;
  const q = planScan(p.next, [f('a', 10), f('b', 11)]);
  t.same(q.start, [{ name: 'b', index: 1 }], 'b has no runsv: started again');
  t.same(q.term, []);
  t.equal(q.changed, false);
});

t.test('identity is (dev, ino): rename keeps, removal TERMs, repointed link is remove + add', async (t) => {
  const known = [{ dev: 1n, ino: 10n, pid: 500 }, { dev: 1n, ino: 11n, pid: 501 }];
  const renamed = planScan(known, [f('a-new', 10), f('b', 11)]);
  t.same(renamed.start, []);
  t.same(renamed.term, []);
  const removed = planScan(known, [f('b', 11)]);
  t.same(removed.term, [500]);
  t.same(removed.next, [{ dev: 1n, ino: 11n, pid: 501 }]);
  const repointed = planScan(known, [f('a', 12), f('b', 11)]);
  t.same(repointed.term, [500]);
  t.same(repointed.start, [{ name: 'a', index: 1 }]);
  t.same(repointed.next.map((k) => k.ino), [11n, 12n]);
  const sameDev = planScan(known, [f('a', 10, 2), f('b', 11)]);
  t.same(sameDev.term, [500], 'another device is another directory');
});

t.test('two names for one directory: one runsv', async (t) => {
  const p = planScan([], [f('a', 10), f('link-to-a', 10)]);
  t.same(p.start, [{ name: 'a', index: 0 }]);
  t.equal(p.next.length, 1);
});

t.test('limit of 1000 services', async (t) => {
  const many = Array.from({ length: MAXSERVICES + 2 }, (_, i) => f(`s${i}`, i + 1));
  const p = planScan([], many);
  t.equal(p.next.length, MAXSERVICES);
  t.same(p.refused, [`s${MAXSERVICES}`, `s${MAXSERVICES + 1}`]);
});

t.test('title ring keeps five characters and scrolls the rest', async (t) => {
  const r = new TitleRing('log: ..........');
  t.equal(r.text(), 'log: ..........');
  r.feed('ab\0c');
  t.equal(r.text(), 'log: .......abc');
  r.feed('0123456789XYZ');
  t.equal(r.text(), 'log: 3456789XYZ');
});
