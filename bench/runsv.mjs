// SPDX-License-Identifier: MIT
// Supervision cost, svbox against runit in one run (issue 3):
// - private memory (Private_Dirty of smaps_rollup) per runsv under runsvdir, 20
//   services, without and with a logger (goal <= 8 MB per runsv);
// - time from a service's crash to its new pid: a long-running service killed with
//   SIGKILL (no throttle applies), and the start-to-start interval of a ./run that
//   exits at once (runit's 1 s throttle; goal: runit's + 50 ms);
// - CPU of runsvdir plus 20 idle runsv over SVBOX_BENCH_IDLE_S seconds (default 60;
//   goal: runit's + 1 percentage point). Both trees idle side by side in one window.
import { execFileSync } from 'node:child_process';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appletLinks, median, report, tempDir } from './lib.mjs';

const SERVICES = 20;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

const read = (p) => { try { return readFileSync(p, 'utf8'); } catch { return ''; } };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const children = (pid) => read(`/proc/${pid}/task/${pid}/children`).trim().split(/\s+/).filter(Boolean).map(Number);
const privateDirtyKb = (pid) => Number(/Private_Dirty:\s+(\d+)/.exec(read(`/proc/${pid}/smaps_rollup`))?.[1] ?? NaN);
const ticks = (pid) => {
  const f = read(`/proc/${pid}/stat`).replace(/^.*\) /, '').split(' ');
  return Number(f[11]) + Number(f[12]);
};

async function until(what, cond, ms = 60_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`bench: timed out waiting for ${what}`);
    await sleep(50);
  }
}

function script(path, text) {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, 0o755);
}

function serviceTree(root, n, withLog) {
  const sd = join(root, 'sd');
  for (let i = 0; i < n; i++) {
    script(join(sd, `s${i}`, 'run'), '#!/bin/sh\nexec sleep 100000\n');
    if (withLog) script(join(sd, `s${i}`, 'log', 'run'), '#!/bin/sh\nexec cat >/dev/null\n');
  }
  return sd;
}

/** runsvdir (its own process group) over n services; resolves once all are up. */
async function startTree(runsvdir, n, withLog) {
  const root = tempDir('svbox-bench-runsv-');
  const sd = serviceTree(root, n, withLog);
  const child = spawn(runsvdir, [sd], { stdio: 'ignore', detached: true });
  const up = () => Array.from({ length: n }, (_, i) => join(sd, `s${i}`)).every((d) =>
    read(join(d, 'supervise', 'stat')) === 'run\n' && (!withLog || read(join(d, 'log', 'supervise', 'stat')) === 'run\n'));
  await until(`${n} services up under ${runsvdir}`, up);
  const runsvs = children(child.pid);
  return {
    pid: child.pid,
    runsvs,
    async stop() {
      process.kill(child.pid, 'SIGHUP');
      await until('runsv processes gone', () => runsvs.every((p) => !read(`/proc/${p}/stat`) || / Z /.test(read(`/proc/${p}/stat`))), 30_000);
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* all gone */ }
    },
  };
}

async function memory(tools, withLog) {
  const trees = {};
  for (const [name, t] of Object.entries(tools)) trees[name] = await startTree(t.runsvdir, SERVICES, withLog);
  await sleep(1000);
  const per = {};
  for (const [name, tree] of Object.entries(trees)) {
    const kb = tree.runsvs.map(privateDirtyKb);
    per[name] = kb.reduce((a, b) => a + b, 0) / kb.length / 1024;
  }
  return { per, trees };
}

async function crashToNewPid(runsv, runs) {
  const root = tempDir('svbox-bench-crash-');
  const d = join(root, 'svc');
  script(join(d, 'run'), '#!/bin/sh\nexec sleep 100000\n');
  const child = spawn(runsv, [d], { stdio: 'ignore', detached: true });
  const pidOf = () => Number(read(join(d, 'supervise', 'pid')).trim() || 0);
  const out = [];
  try {
    await until('service up', () => pidOf() > 0);
    for (let i = 0; i < runs; i++) {
      await sleep(1100); // past the throttle: measure supervision, not the 1 s pause
      const old = pidOf();
      const t0 = performance.now();
      process.kill(old, 'SIGKILL');
      while (pidOf() === old || pidOf() === 0) await new Promise((r) => setImmediate(r));
      out.push(performance.now() - t0);
    }
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  return median(out);
}

async function crashLoopInterval(runsv, starts) {
  const root = tempDir('svbox-bench-loop-');
  const d = join(root, 'svc');
  script(join(d, 'run'), '#!/bin/sh\ndate +%s%N >> starts\nexit 1\n');
  const child = spawn(runsv, [d], { stdio: 'ignore', detached: true });
  const times = () => read(join(d, 'starts')).split('\n').filter(Boolean).map((s) => Number(s) / 1e6);
  try {
    await until(`${starts} starts`, () => times().length >= starts, 60_000);
  } finally {
    try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const t = times();
  return median(t.slice(1).map((x, i) => x - t[i]));
}

export default async function runsvBench({ idleSeconds = Number(process.env.SVBOX_BENCH_IDLE_S ?? 60), crashes = 7 } = {}) {
  const links = appletLinks(tempDir(), ['runsvdir', 'runsv']);
  const tools = { svbox: links, runit: { runsvdir: '/usr/bin/runsvdir', runsv: '/usr/bin/runsv' } };

  const plain = await memory(tools, false);
  report(`private memory per runsv, ${SERVICES} services, no logger`, plain.per.svbox, plain.per.runit, 'MB');
  console.log(`  goal <= 8 MB per runsv: svbox ${plain.per.svbox.toFixed(2)} MB ${plain.per.svbox <= 8 ? 'met' : 'NOT met'}`);

  const before = {};
  for (const [name, tree] of Object.entries(plain.trees)) before[name] = [tree.pid, ...tree.runsvs].reduce((a, p) => a + ticks(p), 0);
  await sleep(idleSeconds * 1000);
  const cpu = {};
  for (const [name, tree] of Object.entries(plain.trees)) {
    const after = [tree.pid, ...tree.runsvs].reduce((a, p) => a + ticks(p), 0);
    cpu[name] = ((after - before[name]) / CLK_TCK / idleSeconds) * 100;
  }
  for (const tree of Object.values(plain.trees)) await tree.stop();
  const diff = cpu.svbox - cpu.runit;
  console.log(`CPU of runsvdir + ${SERVICES} idle runsv over ${idleSeconds} s: svbox ${cpu.svbox.toFixed(3)} %, peer ${cpu.runit.toFixed(3)} %, difference ${diff.toFixed(3)} points (goal <= 1: ${diff <= 1 ? 'met' : 'NOT met'})`);

  const logged = await memory(tools, true);
  report(`private memory per runsv, ${SERVICES} services with logger`, logged.per.svbox, logged.per.runit, 'MB');
  console.log(`  goal <= 8 MB per runsv: svbox ${logged.per.svbox.toFixed(2)} MB ${logged.per.svbox <= 8 ? 'met' : 'NOT met'}`);
  for (const tree of Object.values(logged.trees)) await tree.stop();

  const crash = { svbox: await crashToNewPid(tools.svbox.runsv, crashes), runit: await crashToNewPid(tools.runit.runsv, crashes) };
  report(`crash (SIGKILL) to new pid, median of ${crashes}`, crash.svbox, crash.runit, 'ms');
  const loop = { svbox: await crashLoopInterval(tools.svbox.runsv, 6), runit: await crashLoopInterval(tools.runit.runsv, 6) };
  report('crash loop, start to start (1 s throttle)', loop.svbox, loop.runit, 'ms');
  console.log(`  goal <= runit + 50 ms: ${loop.svbox <= loop.runit + 50 ? 'met' : 'NOT met'} (${(loop.svbox - loop.runit).toFixed(1)} ms)`);
  return { memory: plain.per, memoryWithLog: logged.per, cpu, crash, loop };
}
