// SPDX-License-Identifier: MIT
import t from 'tap';
import { pmatch, selectLine, type Selection } from '../../src/runit/svlogd-match.js';
import type { Instruction } from '../../src/runit/svlogd-config.js';

const m = (p: string, s: string): boolean => pmatch(Buffer.from(p), Buffer.from(s), 0, s.length);

t.test('literal, *, + as runit pmatch', async (t) => {
  t.ok(m('abc', 'abc'));
  t.notOk(m('abc', 'abcd'), 'the whole line must be consumed');
  t.notOk(m('abcd', 'abc'));
  t.ok(m('', ''));
  t.notOk(m('', 'x'));
  t.ok(m('*', 'anything'));
  t.ok(m('*', ''));
  t.ok(m('a*', 'abc'));
  t.ok(m('*c', 'abc'));
  t.ok(m('*: *: pid *', 'tcpsvd: info: pid 1977 from 127.0.0.1'));
  t.notOk(m('*pid*', 'tcpsvd: info: pid 1977'), '* stops at the first p and does not backtrack');
  t.ok(m('+ab', 'aaab'));
  t.notOk(m('+ab', 'b'));
  t.ok(m('x+a', 'xaaa'), '+ returns true once the input is used up');
  t.ok(m('x+abc', 'xaa'), '... even with pattern left (runit)');
  t.notOk(m('*x', 'abc'));
});

t.test('+c past the end of the line reads the next byte of the buffer, as runit does', async (t) => {
  const stale = Buffer.from('debug');
  t.ok(pmatch(Buffer.from('+debugx'), stale, 0, 0), 'an empty line matches when the old line began with d');
  t.notOk(pmatch(Buffer.from('+x'), stale, 0, 0));
  t.ok(pmatch(Buffer.from('de+bzz'), stale, 0, 2), 'de then +b on the stale b');
  t.notOk(pmatch(Buffer.from('+d'), Buffer.alloc(0), 0, 0), 'nothing to read: no match');
});

t.test('matching a window of a buffer', async (t) => {
  const b = Buffer.from('XXhelloYY');
  t.ok(pmatch(Buffer.from('hel*'), b, 2, 5));
  t.notOk(pmatch(Buffer.from('hello*Y'), b, 2, 5));
});

t.test('selectLine: last matching line of each kind wins, defaults + and E', async (t) => {
  const inst: Instruction[] = [
    { op: 0x2d, pattern: Buffer.from('*') },
    { op: 0x2b, pattern: Buffer.from('keep*') },
    { op: 0x65, pattern: Buffer.from('*') },
    { op: 0x45, pattern: Buffer.from('*quiet') },
  ];
  const sel: Selection = { match: 0x2d, matcherr: 0x65 };
  const run = (s: string): string => {
    selectLine(inst, Buffer.from(s), 0, s.length, sel);
    return String.fromCharCode(sel.match, sel.matcherr);
  };
  t.equal(run('keep me'), '+e');
  t.equal(run('drop me'), '-e');
  t.equal(run('keep quiet'), '+E');
  selectLine([], Buffer.from('x'), 0, 1, sel);
  t.equal(String.fromCharCode(sel.match, sel.matcherr), '+E', 'no instructions: selected for the dir, not for stderr');
});
