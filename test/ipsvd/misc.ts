// SPDX-License-Identifier: MIT
// The small pure pieces of tcpsvd: log sanitising and line shapes, the UCSPI
// environment, -u parsing, port names, per-host counting.
import t from 'tap';
import { buildEnv, ucspiOps } from '../../src/ipsvd/env.js';
import { PerHost } from '../../src/ipsvd/limits.js';
import { logLine, outfix, outinst, startLine } from '../../src/ipsvd/log.js';
import { scanPort, servicePort } from '../../src/ipsvd/services.js';
import { parseUidGid } from '../../src/ipsvd/uidgid.js';

t.test('outfix and outinst', async (t) => {
  t.equal(outfix('a b:c\x7f\u00e9'), 'a?b?c???', 'space, colon, DEL and each UTF-8 byte shown as ?');
  t.equal(outfix('x'.repeat(101)), `${'x'.repeat(100)}...(truncate)`);
  t.equal(outfix('x'.repeat(100)), `${'x'.repeat(100)}...(truncate)`, 'exactly 100 bytes is marked too, as ipsvd 1.0.0 does');
  t.equal(outfix('x'.repeat(99)), 'x'.repeat(99));
  t.equal(outfix(undefined), '');
  t.equal(outinst('+A=1\0+B\0\0'), '+A=1,+B', 'NUL as comma, trailing NULs dropped');
  t.equal(outinst('a\tb c'), 'a?b c');
  t.equal(outinst('y'.repeat(141)), `${'y'.repeat(140)}...(truncate)`);
  t.equal(outinst('y'.repeat(140)), `${'y'.repeat(140)}...(truncate)`, 'exactly 140 bytes is marked too');
  t.equal(outinst('y'.repeat(139)), 'y'.repeat(139));
});

t.test('log lines', async (t) => {
  t.equal(logLine.listening('127.0.0.1', '80'), 'tcpsvd: info: listening on 127.0.0.1:80, starting.\n');
  t.equal(logLine.listening('0.0.0.0', '80', { uid: 65534, gid: 65534 }), 'tcpsvd: info: listening on 0.0.0.0:80, uid 65534, gid 65534, starting.\n');
  t.equal(logLine.end(12, 100), 'tcpsvd: info: end 12 exit 100\n');
  t.equal(startLine({ verb: 'start', pid: 7, localHost: 'h', localIp: '127.0.0.1', remoteIp: '127.0.0.1', remotePort: 5 }),
    'tcpsvd: info: start 7 h:127.0.0.1 ::127.0.0.1:5\n');
  t.equal(startLine({ verb: 'deny', pid: 7, localIp: '127.0.0.1', remoteHost: 'r', remoteIp: '127.0.0.1', remotePort: 5, match: 'k', matchPrefix: '/x.cdb/' }),
    'tcpsvd: info: deny 7 :127.0.0.1 :r:127.0.0.1:5 /x.cdb/k\n');
  t.equal(startLine({ verb: 'start', pid: 7, localIp: 'l', remoteIp: 'r', remotePort: 5, match: '/d/0', inst: '+A=1\0+B' }),
    'tcpsvd: info: start 7 :l ::r:5 /d/0: +A=1,+B\n');
});

t.test('UCSPI environment', async (t) => {
  const base = { KEEP: '1', TCPREMOTEHOST: 'pre', TCPREMOTEINFO: 'pre', TCPLOCALHOST: 'pre' };
  const c = { localIp: '127.0.0.1', localPort: '80', remoteIp: '127.0.0.2', remotePort: 999, concurrency: 0 };
  t.same(buildEnv(base, ucspiOps(c)), {
    KEEP: '1', PROTO: 'TCP', TCPLOCALIP: '127.0.0.1', TCPLOCALPORT: '80', TCPREMOTEIP: '127.0.0.2', TCPREMOTEPORT: '999',
  }, 'unknown names and TCPREMOTEINFO removed');
  t.same(buildEnv({}, ucspiOps({ ...c, localHost: 'l', remoteHost: 'r', concurrency: 2 }), [['X', '1'], ['TCPLOCALIP', undefined]]), {
    PROTO: 'TCP', TCPLOCALPORT: '80', TCPLOCALHOST: 'l', TCPREMOTEIP: '127.0.0.2', TCPREMOTEPORT: '999', TCPREMOTEHOST: 'r',
    TCPCONCURRENCY: '2', X: '1',
  }, 'names, TCPCONCURRENCY, instruction changes last');
  t.same(base.TCPREMOTEHOST, 'pre', 'base not modified');
});

t.test('-u user[:group]', async (t) => {
  const passwd = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n';
  const group = 'root:x:0:\nnogroup:x:65534:\nstaff:x:50:\n';
  t.same(parseUidGid('nobody', passwd, group), { uid: 65534, gids: [65534] });
  t.same(parseUidGid('nobody:staff:root', passwd, group), { uid: 65534, gids: [50, 0] });
  t.same(parseUidGid(':1000:1000:27', passwd, group), { uid: 1000, gids: [1000, 27] });
  t.equal(parseUidGid('nosuch', passwd, group), undefined);
  t.equal(parseUidGid('nobody:nosuch', passwd, group), undefined);
  t.equal(parseUidGid(':1000', passwd, group), undefined, 'numeric form needs a gid');
  t.equal(parseUidGid(':10x0:1', passwd, group), undefined);
});

t.test('ports', async (t) => {
  const services = '# c\nhttp\t\t80/tcp\t\twww # WorldWideWeb\nntp 123/udp\n';
  t.equal(servicePort('http', services), 80);
  t.equal(servicePort('www', services), 80, 'alias');
  t.equal(servicePort('ntp', services), undefined, 'udp only');
  t.equal(scanPort('8080', services), 8080);
  t.equal(scanPort('www', services), 80);
  t.equal(scanPort('12x', services), undefined);
  t.equal(scanPort('', services), undefined);
});

t.test('per-host counts', async (t) => {
  const p = new PerHost();
  t.equal(p.add('a'), 1);
  t.equal(p.add('a'), 2);
  t.equal(p.add('b'), 1);
  p.bind(100, 'a');
  p.remove(100);
  t.equal(p.count('a'), 1);
  p.release('a');
  t.equal(p.count('a'), 0);
  p.remove(999);
  t.equal(p.count('b'), 1, 'unknown id changes nothing');
});
