import t from 'tap';
import { readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DaemonLog, formatLog, logLine } from '../../src/rsync/daemon-log.js';

t.test('rsync log lines', async (t) => {
  const d = new Date(2026, 0, 2, 3, 4, 5);
  t.equal(logLine('connect from x (1.2.3.4)\n', 42, d), '2026/01/02 03:04:05 [42] connect from x (1.2.3.4)\n');
  const dir = t.testdir({});
  const lines: string[] = [];
  const log = new DaemonLog(join(dir, 'log'), { write: (s) => { lines.push(String(s)); } }, 7, () => d);
  log.log('one');
  renameSync(join(dir, 'log'), join(dir, 'log.1'));
  log.log('two');
  log.reopen();
  log.log('three');
  log.close();
  t.equal(readFileSync(join(dir, 'log.1'), 'utf8'), '2026/01/02 03:04:05 [7] one\n2026/01/02 03:04:05 [7] two\n');
  t.equal(readFileSync(join(dir, 'log'), 'utf8'), '2026/01/02 03:04:05 [7] three\n', 'reopen after a rotation');
  t.same(lines, []);
  const bad = new DaemonLog(join(dir, 'no', 'such', 'log'), { write: (s) => { lines.push(String(s)); } }, 7, () => d);
  t.match(bad.openError, /failed to open log-file .*: ENOENT/);
  bad.log('to stderr');
  t.same(lines, ['2026/01/02 03:04:05 [7] to stderr\n'], 'falls back to the stderr sink');
});

t.test('log format escapes', async (t) => {
  t.equal(formatLog('%o %h [%a] %m (%u) %f %l', { op: 'send', host: 'h', addr: '1.2.3.4', module: 'm', user: 'u', file: 'm/x', length: 12 }), 'send h [1.2.3.4] m (u) m/x 12');
  t.equal(formatLog('%10l|%-6o|%%|%q', { length: 5, op: 'recv' }), '         5|recv  |%|%q');
});
