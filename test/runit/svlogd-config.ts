// SPDX-License-Identifier: MIT
import t from 'tap';
import { defaultConfig, parseConfig, scanUlong } from '../../src/runit/svlogd-config.js';

const parse = (s: string) => parseConfig(Buffer.from(s, 'latin1'));

t.test('defaults: s1000000 n10 N10, no timer, no processor', async (t) => {
  t.same(parse('').config, defaultConfig());
  t.same(defaultConfig(), { sizemax: 1_000_000, nmax: 10, nmin: 10, tmax: 0, processor: '', udponly: false, prefix: Buffer.alloc(0), inst: [] });
});

t.test('values follow the letter at once; suffixes k m for s, m h for t', async (t) => {
  const c = parse('s100\nn3\nN2\nt5\n').config;
  t.same([c.sizemax, c.nmax, c.nmin, c.tmax], [100, 3, 2, 5]);
  t.equal(parse('s1k').config.sizemax, 1024);
  t.equal(parse('s2m').config.sizemax, 2 * 1024 * 1024);
  t.equal(parse('t2m').config.tmax, 120);
  t.equal(parse('t1h').config.tmax, 3600);
  t.equal(parse('s 100\n').config.sizemax, 0, 'a space makes the value 0 (runit: no size rotation)');
  t.equal(parse('sabc\n').config.sizemax, 0);
  t.equal(parse('s100').config.sizemax, 100, 'last line without newline honoured');
  t.equal(parse('n5\ns').config.sizemax, 1_000_000, 'a last one-character line without newline is never read');
});

t.test('processor, prefix, comments and unknown lines', async (t) => {
  const c = parse('# s5\n\n!gzip -9 \npPRE: x\nfoo\n!\np\n').config;
  t.equal(c.processor, 'gzip -9 ', 'rest of the line, verbatim');
  t.equal(c.prefix.toString(), 'PRE: x', '`p` alone keeps the earlier prefix');
  t.equal(c.sizemax, 1_000_000, 'comment ignored');
});

t.test('patterns keep file order and their letter', async (t) => {
  const c = parse('+a*\n-*b\ne*\nE*x\n').config;
  t.same(c.inst.map((i) => [String.fromCharCode(i.op), i.pattern.toString()]), [['+', 'a*'], ['-', '*b'], ['e', '*'], ['E', '*x']]);
});

t.test('u and U: address, port default 514, scan failures warn', async (t) => {
  t.same(parse('u127.0.0.1\n').config.udp, { host: '127.0.0.1', port: 514 });
  t.same(parse('u10.0.0.1:5140\n').config.udp, { host: '10.0.0.1', port: 5140 });
  const u = parse('U1.2.3.4:99\n').config;
  t.ok(u.udponly);
  t.same(u.udp, { host: '1.2.3.4', port: 99 });
  const bad = parse('ulocalhost\nu1.2.3.4:x\n');
  t.same(bad.config.udp, undefined);
  t.same(bad.warnings, [['unable to scan ip address', 'localhost'], ['unable to scan port number', 'x']]);
  t.ok(parse('Ubad\n').config.udponly, 'U sets udponly even when the address fails');
  t.same(parse('u1.2.3.4:65536\n').config.udp, undefined, 'a port that truncates to 0 switches UDP off');
});

t.test('scanUlong', async (t) => {
  t.same(scanUlong('123abc'), [123, 3]);
  t.same(scanUlong('x'), [0, 0]);
  t.same(scanUlong('a42', 1), [42, 2]);
});
