// SPDX-License-Identifier: MIT
// tcpsvd throughput: connections per second when every connection spawns
// /bin/echo, 16 clients at once, 2,000 connections, against ipsvd's
// `tcpsvd -l localhost` on loopback, measured side by side in one run (ours, then
// the peer, then ours and the peer again; the better run of each counts).
// Goal: ratio >= 0.8 (ours / ipsvd's connections per second).
// Also printed: how many spawner processes our tcpsvd ran (src/ipsvd/spawner.ts)
// on how many cores, and the raw Node floor below.
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { availableParallelism } from 'node:os';
import { appletLinks, NODE, tempDir } from './lib.mjs';

const CLIENTS = 16;
const TOTAL = 2000;

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
  });
}

function one(port) {
  return new Promise((res, rej) => {
    const c = connect(port, '127.0.0.1');
    let d = '';
    c.setEncoding('utf8');
    c.on('data', (b) => { d += b; });
    c.on('close', () => (d === 'hi\n' ? res() : rej(new Error(`bad reply ${JSON.stringify(d)}`))));
    c.on('error', rej);
  });
}

async function waitListening(port) {
  for (let i = 0; i < 500; i++) {
    try {
      await new Promise((res, rej) => { const c = connect(port, '127.0.0.1'); c.on('connect', () => { c.destroy(); res(); }); c.on('error', rej); });
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error('server did not start');
}

// The floor of any Node server here: accept, spawn /bin/echo on the socket, close
// our copy; no accounting, no environment, no logging. Shows how much of the gap
// to ipsvd is Node's spawn() (a fork of the whole Node process) and how much is ours.
const RAW = `const net = require('node:net'); const { spawn } = require('node:child_process');
net.createServer({ pauseOnConnect: true }, (c) => { const fd = c._handle.fd;
  spawn('/bin/echo', ['hi'], { stdio: [fd, fd, 'inherit'] }); c.destroy(); })
  .listen(Number(process.argv[1]), '127.0.0.1', 20);`;

/** Our spawner processes: children of pid running in spawner mode. */
function spawnersOf(pid) {
  let n = 0;
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) !== pid) continue;
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('--svbox-tcpsvd-spawner')) n++;
    } catch { /* gone */ }
  }
  return n;
}

let spawners = 0;

/** Connections per second through the tcpsvd at file (or the raw Node floor). */
async function measure(file, ours = false) {
  const port = await freePort();
  const p = file === 'raw'
    ? spawn(NODE, ['-e', RAW, String(port)], { stdio: 'ignore' })
    : spawn(file, ['-c', '30', '-l', 'localhost', '127.0.0.1', String(port), '/bin/echo', 'hi'], { stdio: 'ignore' });
  try {
    await waitListening(port);
    // Warm-up, then the measured run.
    for (let i = 0; i < 50; i++) await one(port);
    if (ours) spawners = spawnersOf(p.pid);
    let next = 0;
    const t0 = process.hrtime.bigint();
    await Promise.all(Array.from({ length: CLIENTS }, async () => {
      while (next < TOTAL) { next++; await one(port); }
    }));
    const s = Number(process.hrtime.bigint() - t0) / 1e9;
    return TOTAL / s;
  } finally {
    p.kill('SIGTERM');
    await new Promise((r) => (p.exitCode !== null ? r() : p.once('exit', r)));
  }
}

export default async function tcpsvd() {
  const peer = spawnSync('sh', ['-c', 'command -v tcpsvd || ls /usr/bin/tcpsvd'], { encoding: 'utf8' }).stdout.trim().split('\n')[0];
  if (!peer) throw new Error('ipsvd tcpsvd not installed');
  const { tcpsvd: ours } = appletLinks(tempDir(), ['tcpsvd']);
  const o = [];
  const p = [];
  o.push(await measure(ours, true));
  p.push(await measure(peer));
  p.push(await measure(peer));
  o.push(await measure(ours, true));
  const raw = await measure('raw');
  const a = Math.max(...o);
  const b = Math.max(...p);
  const ratio = a / b;
  console.log(`tcpsvd: ${TOTAL} connections, ${CLIENTS} clients at once, each spawning /bin/echo`);
  console.log(`  runs: svbox ${o.map((x) => x.toFixed(0)).join(', ')} /s; ipsvd ${p.map((x) => x.toFixed(0)).join(', ')} /s`);
  console.log(`  svbox ran ${spawners} spawner processes on ${availableParallelism()} cores`);
  console.log(`  plain Node accept+spawn floor: ${raw.toFixed(0)} /s (${(raw / b).toFixed(3)} of ipsvd)`);
  console.log(`connections per second: svbox ${a.toFixed(0)}, peer ${b.toFixed(0)}, ratio ${ratio.toFixed(3)}  (goal >= 0.8: ${ratio >= 0.8 ? 'met' : 'NOT met'})`);
  return { ratio };
}
