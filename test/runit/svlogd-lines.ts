// SPDX-License-Identifier: MIT
import t from 'tap';
import { LineEngine, type LineTarget } from '../../src/runit/svlogd-lines.js';
import { defaultConfig, parseConfig } from '../../src/runit/svlogd-config.js';

interface Fake extends LineTarget { out: string[]; udpOut: string[]; lines: number }

function target(config = ''): Fake {
  const cfg = config ? parseConfig(Buffer.from(config, 'latin1')).config : defaultConfig();
  const f: Fake = {
    active: true,
    cfg,
    sel: { match: 0x2b, matcherr: 0x45 },
    out: [],
    udpOut: [],
    lines: 0,
    put(src, a, b) { f.out.push(Buffer.from(src.subarray(a, b)).toString('latin1')); },
    lineDone() { f.lines++; },
    sendUdp(msg) { f.udpOut.push(msg.toString('latin1')); },
  };
  return f;
}

const S = Buffer.from('S ');
const text = (f: Fake): string => f.out.join('');

t.test('lines split across chunks keep the stamp of their first chunk', async (t) => {
  const a = target();
  const err: string[] = [];
  const e = new LineEngine({ linemax: 1000, repl: 0, replace: new Uint8Array(0) }, [a], (b) => err.push(b.toString()));
  e.feed(Buffer.from('one\ntw'), S);
  t.ok(e.midLine);
  e.feed(Buffer.from('o\nthree\n'), Buffer.from('T '));
  t.notOk(e.midLine);
  t.equal(text(a), 'S one\nS two\nT three\n');
  t.equal(a.lines, 3);
  t.same(err, []);
});

t.test('EOF: a short partial line is dropped, a line past -l gets its newline', async (t) => {
  const a = target();
  const e = new LineEngine({ linemax: 5, repl: 0, replace: new Uint8Array(0) }, [a], () => {});
  e.feed(Buffer.from('ab\ncd'), S);
  e.end();
  t.equal(text(a), 'S ab\n');
  const b = target();
  const e2 = new LineEngine({ linemax: 5, repl: 0, replace: new Uint8Array(0) }, [b], () => {});
  e2.feed(Buffer.from('abcdefg'), S);
  e2.feed(Buffer.from('hij'), S);
  e2.end();
  t.equal(text(b), 'S abcdefghij\n');
});

t.test('-l: patterns, stderr and UDP see the first len bytes, the dir gets all of it', async (t) => {
  const a = target('e*\n+abcde\nu127.0.0.1:9\npP:\n');
  const err: string[] = [];
  const e = new LineEngine({ linemax: 5, repl: 0, replace: new Uint8Array(0) }, [a], (b) => err.push(b.toString()));
  e.feed(Buffer.from('abcdefgh\nab\n'), S);
  t.equal(text(a), 'S P:abcdefgh\nS P:ab\n');
  t.equal(err.join(''), 'S P:abcde...\nS P:ab\n');
  t.same(a.udpOut, ['S P:abcde...\n', 'S P:ab\n']);
});

t.test('-r/-R replace in the head only; U writes nothing to the dir', async (t) => {
  const a = target('-*#*\n');
  const b = target('U127.0.0.1:9\n');
  const e = new LineEngine({ linemax: 6, repl: 0x23, replace: Buffer.from('x') }, [a, b], () => {});
  e.feed(Buffer.from('a\tb\u00ffcdef\tx\nclean\nxx\n', 'latin1'), Buffer.alloc(0));
  t.equal(text(a), 'clean\n', 'lines with a replaced byte deselected by -*#*');
  t.equal(text(b), '');
  t.same(b.udpOut, ['a#b#cd...\n', 'clean\n', '##\n']);
});

t.test('inactive targets are skipped', async (t) => {
  const a = target();
  a.active = false;
  const e = new LineEngine({ linemax: 10, repl: 0, replace: new Uint8Array(0) }, [a], () => {});
  e.feed(Buffer.from('x\n'), S);
  t.same(a.out, []);
});

t.test('an empty line sees the head of the previous line through +c (runit\'s stale line buffer)', async (t) => {
  const a = target('e+debugx\n');
  const err: string[] = [];
  const e = new LineEngine({ linemax: 10, repl: 0, replace: new Uint8Array(0) }, [a], (b) => err.push(b.toString()));
  e.feed(Buffer.from('\ndebug\n\nother\n\n'), S);
  t.equal(err.join(''), 'S \n', 'only the empty line after "debug" goes to stderr');
});
