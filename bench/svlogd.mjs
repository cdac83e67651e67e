// SPDX-License-Identifier: MIT
// svlogd throughput: 1,000,000 lines (about 74 MB) piped through `svlogd -tt` into a
// directory whose config is `s1000000` / `n10`, ours against runit's svlogd, same
// input, one run each, back to back. Goal: wall-time ratio <= 1.0. The input is a
// pipe (`cat FILE |`), as a logger under runsv reads a pipe.
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { appletLinks, report, tempDir } from './lib.mjs';

const LINES = 1_000_000;

function makeInput(file) {
  // 73 bytes and a newline per line: a syslog-ish message with a running number.
  const parts = [];
  for (let i = 0; i < LINES; i++) {
    parts.push(`daemon.info mysvcd[24242]: request ${String(i).padStart(7, '0')} served in 12 ms from 127.0.0.1\n`);
  }
  writeFileSync(file, parts.join(''));
  return statSync(file).size;
}

function run(svlogd, input, dir) {
  mkdirSync(dir);
  writeFileSync(join(dir, 'config'), 's1000000\nn10\n');
  const t0 = process.hrtime.bigint();
  const r = spawnSync('/bin/sh', ['-c', 'cat "$1" | "$2" -tt "$3"', 'sh', input, svlogd, dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${svlogd} exited ${r.status ?? r.signal}`);
  const files = readdirSync(dir);
  const bytes = files.filter((f) => f === 'current' || f.startsWith('@')).reduce((s, f) => s + statSync(join(dir, f)).size, 0);
  return { ms, files: files.length, bytes };
}

export default async function svlogd() {
  const tmp = tempDir('svbox-bench-svlogd-');
  const input = join(tmp, 'input');
  const size = makeInput(input);
  const { svlogd: ours } = appletLinks(tmp, ['svlogd']);
  const theirs = '/usr/bin/svlogd';
  // Warm the page cache for the input and both programs.
  spawnSync('/bin/sh', ['-c', 'cat "$1" >/dev/null', 'sh', input]);
  spawnSync(ours, ['--help'], { stdio: 'ignore' });
  const a = run(ours, input, join(tmp, 'ours'));
  const b = run(theirs, input, join(tmp, 'theirs'));
  console.log(`svlogd: ${LINES} lines, ${(size / 1e6).toFixed(1)} MB; files: svbox ${a.files} (${a.bytes} B kept), runit ${b.files} (${b.bytes} B kept)`);
  const ratio = report('svlogd -tt wall time, s1000000 n10', a.ms, b.ms, 'ms', 1.0);
  rmSync(tmp, { recursive: true, force: true });
  return { ratio };
}
