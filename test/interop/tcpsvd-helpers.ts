// SPDX-License-Identifier: MIT
// Shared pieces of the tcpsvd interop tests: start our tcpsvd or ipsvd's on a free
// loopback port and wait until it listens, talk to it as a client, and a tiny DNS
// responder so that ipsvd's -h (which asks DNS, never /etc/hosts) can be pointed
// at loopback with DNSCACHEIP and see the names /etc/hosts gives our tcpsvd.
import { createSocket } from 'node:dgram';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { DIST_SEA, linkApplets } from '../fixtures/bin.js';
import { peerPaths } from '../fixtures/peers.js';
import { freePort, start, waitFor, type Started, type Teardown } from '../fixtures/proc.js';

export type Side = 'ours' | 'ipsvd';
/** Our JS bundle (dist/svbox.mjs run by the pinned node) instead of the single executable. */
export type Runner = Side | 'ours-mjs';
export const SIDES: readonly Side[] = ['ours', 'ipsvd'];

export interface Running extends Started {
  port: number;
  host: string;
}

export function tcpsvdPath(side: Runner, dir: string): string {
  if (side === 'ipsvd') return peerPaths('tcpsvd').tcpsvd;
  const sub = join(dir, side === 'ours' ? 'sea' : 'mjs');
  mkdirSync(sub, { recursive: true });
  linkApplets(sub, side === 'ours' ? 'sea' : 'mjs', ['tcpsvd']);
  return join(sub, 'tcpsvd');
}

/** Start tcpsvd -v OPTS HOST PORT PROG... and wait for its `starting.` line. */
export async function startTcpsvd(t: Teardown, side: Runner, dir: string, opts: string[], prog: string[], o: { host?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Running> {
  const host = o.host ?? '127.0.0.1';
  const port = await freePort(host);
  const p = start(t, tcpsvdPath(side, dir), ['-v', ...opts, host, String(port), ...prog], { cwd: dir, env: o.env ?? { PATH: '/usr/bin:/bin' } });
  await waitFor(`${side} tcpsvd listening`, () => p.stdout().includes(', starting.') || p.child.exitCode !== null, 20_000);
  if (p.child.exitCode !== null) throw new Error(`${side} tcpsvd exited ${p.child.exitCode}: ${p.stderr()}`);
  return { ...p, port, host };
}

/** Connect (optionally from a given local address), send input, return all that comes back. */
export function talk(port: number, o: { host?: string; from?: string; input?: string; ms?: number } = {}): Promise<string> {
  return new Promise((res, rej) => {
    const c = connect({ port, host: o.host ?? '127.0.0.1', ...(o.from ? { localAddress: o.from } : {}) });
    let d = '';
    const timer = setTimeout(() => { c.destroy(); rej(new Error(`no end of connection after ${o.ms ?? 30_000} ms; got ${JSON.stringify(d)}`)); }, o.ms ?? 30_000);
    c.setEncoding('utf8');
    c.on('data', (b: string) => { d += b; });
    c.on('error', (e) => { clearTimeout(timer); rej(e); });
    c.on('close', () => { clearTimeout(timer); res(d); });
    if (o.input !== undefined) c.end(o.input);
  });
}

/** Instruction entries: [file name, content, mode]; the mode decides deny/exec/instructions. */
export function writeEntries(dir: string, entries: readonly [string, string, number][]): void {
  for (const [name, text, mode] of entries) {
    writeFileSync(join(dir, name), text);
    chmodSync(join(dir, name), mode);
  }
}

/** Environment lines without the fields that differ between any two runs. */
export function stableEnv(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !/^(TCPLOCALPORT|TCPREMOTEPORT)=/.test(l)).sort();
}

/** Log lines with pids and ports replaced, for comparing ours with ipsvd's. */
export function stableLog(text: string): string[] {
  return text.split('\n').filter((l) => l !== '')
    .map((l) => l.replace(/\b(pid|start|exec|deny|end|concurrency) \d+/, '$1 PID').replace(/:\d+(?=[ ,]|$)/g, ':PORT'));
}

/**
 * A DNS responder on udp HOST:53 that answers PTR queries (reverse name -> host
 * name) and A queries (name -> IPv4) for the names given, NXDOMAIN otherwise.
 * Needs root (port 53).
 */
export async function fakeDns(t: Teardown, host: string, ptr: Record<string, string>, a: Record<string, string> = {}): Promise<void> {
  const s = createSocket('udp4');
  await new Promise<void>((res, rej) => { s.once('error', rej); s.bind(53, host, () => res()); });
  t.teardown(() => new Promise<void>((res) => s.close(() => res())));
  s.on('message', (q, from) => {
    // header(12) question: labels, type(2), class(2)
    let i = 12;
    const labels: string[] = [];
    while (i < q.length && q[i] !== 0) { labels.push(q.subarray(i + 1, i + 1 + q[i]!).toString()); i += q[i]! + 1; }
    const qend = i + 5;
    const name = labels.join('.').toLowerCase();
    const qtype = q.readUInt16BE(i + 1);
    const target = qtype === 12 ? ptr[name] : qtype === 1 ? a[name] : undefined;
    const head = Buffer.from(q.subarray(0, 12));
    head.writeUInt16BE(0x8180 | (target ? 0 : 3), 2); // response, RD, RA, rcode
    head.writeUInt16BE(1, 4);
    head.writeUInt16BE(target ? 1 : 0, 6);
    head.writeUInt16BE(0, 8);
    head.writeUInt16BE(0, 10);
    const parts = [head, q.subarray(12, qend)];
    if (target) {
      const rdata = qtype === 1
        ? Buffer.from(target.split('.').map(Number))
        : Buffer.concat([...target.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0])]);
      const rr = Buffer.alloc(12);
      rr.writeUInt16BE(0xc00c, 0); rr.writeUInt16BE(qtype, 2); rr.writeUInt16BE(1, 4); rr.writeUInt32BE(60, 6); rr.writeUInt16BE(rdata.length, 10);
      parts.push(rr, rdata);
    }
    s.send(Buffer.concat(parts), from.port, from.address);
  });
}

export { DIST_SEA };
