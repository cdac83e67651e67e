// SPDX-License-Identifier: MIT
// Shared bench helpers: svbox and the real peer are measured side by side in one
// run, alternating, and every figure is printed with its ratio to the peer.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
export const SEA = join(ROOT, 'dist', 'svbox');
export const MJS = join(ROOT, 'dist', 'svbox.mjs');
export const NODE = realpathSync(join(ROOT, 'node_modules', '.bin', 'node'));

export function ensureBuilt() {
  const r = spawnSync(NODE, [join(ROOT, 'build', 'build.mjs'), '--if-stale'], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error('build failed');
}

export function tempDir(prefix = 'svbox-bench-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** dir/NAME -> the single executable, for each name. */
export function appletLinks(dir, names) {
  for (const n of names) if (!existsSync(join(dir, n))) symlinkSync(SEA, join(dir, n));
  return Object.fromEntries(names.map((n) => [n, join(dir, n)]));
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Wall time in ms of one synchronous run. */
export function timeRun(file, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, args, { stdio: 'ignore', ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} exited ${r.status ?? r.signal}`);
  return ms;
}

/** Run a() and b() alternately n times each; returns both lists of figures. */
export async function alternate(n, a, b) {
  const xs = [];
  const ys = [];
  for (let i = 0; i < n; i++) {
    if (i % 2 === 0) { xs.push(await a()); ys.push(await b()); }
    else { ys.push(await b()); xs.push(await a()); }
  }
  return [xs, ys];
}

/** One result line: figure for svbox, for the peer, the ratio, and the goal verdict. */
export function report(what, ours, theirs, unit, goal) {
  const ratio = ours / theirs;
  const verdict = goal === undefined ? '' : ratio <= goal ? `  (goal <= ${goal}: met)` : `  (goal <= ${goal}: NOT met)`;
  const f = (x) => (Math.abs(x) >= 100 ? x.toFixed(0) : x.toFixed(2));
  console.log(`${what}: svbox ${f(ours)} ${unit}, peer ${f(theirs)} ${unit}, ratio ${ratio.toFixed(3)}${verdict}`);
  return ratio;
}
