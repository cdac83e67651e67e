// The log pipe of our runsv: a service writes 100,000 numbered lines while runit's
// sv restarts the logger five times and the service five times; the log must then
// hold every line exactly once, in order (issue 3, runit-compat.md §1.13). Writer and
// logger stop only between whole writes (TERM sets a flag), so any loss or
// duplication can only come from the pipe between them, which runsv owns.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE } from '../fixtures/bin.js';
import { peerOpts } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { peer, pidOf, readText, startRunsv, stat, writeService } from '../fixtures/runsv.js';

const TOTAL = 100_000;

const WRITER = `const fs = require('fs');
let stop = false;
process.on('SIGTERM', () => { stop = true; });
let i = Number(fs.readFileSync('n', 'utf8'));
function writeAll(buf) {
  for (let off = 0; off < buf.length;) {
    try { off += fs.writeSync(1, buf, off); } catch (e) { if (e.code !== 'EAGAIN') throw e; }
  }
}
function step() {
  if (stop) process.exit(0);
  if (i >= ${TOTAL}) { setInterval(() => { if (stop) process.exit(0); }, 50); return; }
  let s = '';
  const end = Math.min(${TOTAL}, i + 200);
  for (let k = i; k < end; k++) s += k + '\\n';
  writeAll(Buffer.from(s));
  i = end;
  fs.writeFileSync('n.new', String(i));
  fs.renameSync('n.new', 'n');
  setTimeout(step, 10);
}
step();
`;

const LOGGER = `const fs = require('fs');
let stop = false;
process.on('SIGTERM', () => { stop = true; });
const out = fs.openSync('out', 'a');
const buf = Buffer.alloc(65536);
function step() {
  if (stop) process.exit(0);
  let n;
  try { n = fs.readSync(0, buf, 0, buf.length, null); } catch (e) { if (e.code === 'EAGAIN') return setTimeout(step, 5); throw e; }
  if (n === 0) process.exit(0);
  for (let off = 0; off < n;) off += fs.writeSync(out, buf, off, n - off);
  setImmediate(step);
}
step();
`;

t.test('100,000 lines through 5 logger and 5 service restarts: each line once, in order', peerOpts('sv'), async (t) => {
  const root = t.testdir();
  const d = writeService(join(root, 'svc'), {
    run: `#!/bin/sh\nexec ${NODE} ./writer.cjs\n`,
    'writer.cjs': WRITER,
    n: '0',
    'log/run': `#!/bin/sh\nexec ${NODE} ./logger.cjs\n`,
    'log/logger.cjs': LOGGER,
  });
  const log = join(d, 'log');
  const progress = (): number => Number(readText(join(d, 'n')) || 0);
  const p = startRunsv(t, 'ours', d, join(root, 'bin'));
  await waitFor('service and logger up', () => stat(d) === 'run\n' && stat(log) === 'run\n' && pidOf(d) && pidOf(log), 30_000);
  const pids = { svc: new Set([pidOf(d)]), log: new Set([pidOf(log)]) };
  for (let r = 1; r <= 5; r++) {
    await waitFor(`writer past ${r * 15000}`, () => progress() >= r * 15000, 60_000);
    const oldLog = pidOf(log);
    peer('sv', ['term', log]);
    await waitFor('logger restarted', () => { const x = pidOf(log); return x && x !== oldLog && stat(log) === 'run\n'; }, 30_000);
    pids.log.add(pidOf(log));
    const oldSvc = pidOf(d);
    peer('sv', ['term', d]);
    await waitFor('service restarted', () => { const x = pidOf(d); return x && x !== oldSvc && stat(d) === 'run\n'; }, 30_000);
    pids.svc.add(pidOf(d));
  }
  t.ok(progress() < TOTAL, 'all restarts happened while the service was still writing');
  await waitFor('all lines written', () => progress() >= TOTAL, 120_000);
  t.equal(pids.svc.size, 6, 'service ran 6 times');
  t.equal(pids.log.size, 6, 'logger ran 6 times');
  peer('sv', ['exit', d]);
  const e = await p.exited;
  t.equal(e.code, 0, 'runsv exits 0 once the logger drained the pipe');
  const got = readFileSync(join(log, 'out'), 'utf8');
  const want = Array.from({ length: TOTAL }, (_, k) => `${k}\n`).join('');
  t.equal(got.length, want.length, 'log size');
  t.ok(got === want, 'every line exactly once, in order');
  if (got !== want) {
    const a = got.split('\n');
    const i = a.findIndex((l, k) => l !== String(k));
    writeFileSync(join(root, 'first-difference'), `${i}: ${a.slice(Math.max(0, i - 2), i + 3).join(' ')}`);
    t.comment(`first difference at line ${i}: ${a.slice(Math.max(0, i - 2), i + 3).join(' ')}`);
  }
});
