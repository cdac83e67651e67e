// SPDX-License-Identifier: MIT
// The process side of runsvdir (runsvdir.c: main, runsv): one runsv per
// subdirectory of DIR, started again when it dies, TERMed when its directory goes;
// DIR is looked at every 5 s (every 1 s while a rescan is pending) and at most once
// a second; TERM exits 0 leaving every runsv running, HUP TERMs them all and exits 111.
// compat: runit's Debian build polls only; we also watch DIR with fs.watch (inotify)
// so a change is seen within the second instead of within five.
// Node workarounds: runsv is started from this same executable (spawnApplet), never
// through PATH; -P is spawn's detached (setsid). runit makes its own fd 2 a pipe
// whose bytes scroll through the log argument in argv; Node cannot dup2 onto fd 2,
// so children get the pipe's write end as stderr, our own messages go straight
// into the ring, and the ring is shown through process.title.
import { constants, mkdtempSync, openSync, readdirSync, rmdirSync, statSync, unlinkSync, watch, type FSWatcher } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { unableText, type LineSink, type Messages } from '../lib/die.js';
import { makeFifo } from '../lib/fifo.js';
import { spawnApplet } from '../lib/self-exec.js';
import { errstr } from '../lib/errstr.js';
import { planScan, TitleRing, type Found, type Known } from './runsvdir-scan.js';

export interface RunsvdirOptions {
  dir: string;
  /** -P: every runsv in its own session. */
  session: boolean;
  /** The text before the log argument in the process title (`runsvdir -P DIR`). */
  title: string;
}

export class Runsvdir {
  private known: Known[] = [];
  private check = true;
  private stamp = { mtimeMs: -1, dev: -1n, ino: -1n };
  private exitsoon: 0 | 1 | 2 = 0;
  private poke: (() => void) | undefined;
  private watcher: FSWatcher | undefined;
  private ring: TitleRing | undefined;
  private logFds: { read: number; write: number } | undefined;
  private logSocket: Socket | undefined;

  constructor(private readonly opt: RunsvdirOptions, private msg: Messages) {}

  /** Once the log ring is set up, our own messages scroll through it instead of stderr. */
  setMessages(m: Messages): void {
    this.msg = m;
  }

  /** runsvdir.c: setup_log. Returns a sink for our own messages when the ring is on. */
  setupLog(log: string): LineSink | undefined {
    if (log.length < 7) {
      this.msg.warn('log must have at least seven characters.');
      return undefined;
    }
    let tmp: string | undefined;
    try {
      tmp = mkdtempSync(join(tmpdir(), 'runsvdir-'));
      const fifo = join(tmp, 'log');
      makeFifo(fifo, 0o600);
      // Reader first (non-blocking, so no writer is needed yet); the writer's open then
      // returns at once and stays blocking, like a pipe(2) end handed to children.
      const read = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
      const write = openSync(fifo, constants.O_WRONLY);
      this.logFds = { read, write };
    } catch {
      this.msg.warn('unable to create pipe for log.');
      return undefined;
    } finally {
      if (tmp) {
        try { unlinkSync(join(tmp, 'log')); } catch { /* never made */ }
        try { rmdirSync(tmp); } catch { /* nothing to clean */ }
      }
    }
    this.ring = new TitleRing(log);
    this.showTitle();
    this.logSocket = new Socket({ fd: this.logFds.read, readable: true, writable: false });
    this.logSocket.on('data', (b: Buffer) => this.feed(b.toString('latin1')));
    this.logSocket.on('error', () => {});
    return { write: (chunk) => this.feed(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1')) };
  }

  term(): void { this.exitsoon = 1; this.wake(); }
  hangup(): void { this.exitsoon = 2; this.wake(); }

  async run(): Promise<number> {
    this.watchDir();
    let nextCheck = Date.now();
    let nextDot = Date.now();
    for (;;) {
      let now = Date.now();
      if (now < nextCheck - 3000) {
        this.msg.warn('time warp: resetting time stamp.');
        nextCheck = now;
        nextDot = now;
      }
      if (now >= nextCheck) {
        nextCheck = now + 1000;
        this.maybeScan();
      }
      if (this.ring && now >= nextDot) {
        this.feed('.');
        nextDot = now + 900_000;
      }
      now = Date.now();
      let deadline = this.check ? Math.max(nextCheck, now) : now + 5000;
      if (this.ring && nextDot < deadline) deadline = nextDot;
      await this.waitUntil(deadline);
      if (this.exitsoon === 1) return 0;
      if (this.exitsoon === 2) {
        for (const k of this.known) if (k.pid) kill(k.pid);
        return 111;
      }
    }
  }

  /** Wake on any change in DIR; when DIR cannot be watched (gone, replaced) polling carries on. */
  private watchDir(): void {
    try {
      const w = watch(this.opt.dir, { persistent: false }, () => { this.check = true; this.wake(); });
      w.on('error', () => { w.close(); if (this.watcher === w) this.watcher = undefined; });
      this.watcher = w;
    } catch { /* retried after the next successful stat */ }
  }

  private maybeScan(): void {
    const dir = this.opt.dir;
    let st;
    try {
      st = statSync(dir, { bigint: true });
    } catch (e) {
      this.msg.warn(unableText(`stat ${dir}`, e));
      return;
    }
    const mtimeMs = Number(st.mtimeMs);
    if (!this.check && mtimeMs === this.stamp.mtimeMs && st.ino === this.stamp.ino && st.dev === this.stamp.dev) return;
    if (!this.watcher) this.watchDir();
    let names: string[];
    try {
      if (!st.isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
      names = readdirSync(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'EACCES' || code === 'ENOENT') this.msg.warn(unableText(`change directory to ${dir}`, e));
      else {
        this.msg.warn(unableText(`read directory ${dir}`, e));
        this.check = true;
      }
      return;
    }
    this.stamp = { mtimeMs, dev: st.dev, ino: st.ino };
    this.check = false;
    const found: Found[] = [];
    for (const name of names) {
      if (name.startsWith('.')) continue;
      try {
        const s = statSync(join(dir, name), { bigint: true });
        if (s.isDirectory()) found.push({ name, dev: s.dev, ino: s.ino });
      } catch (e) {
        this.msg.warn(unableText(`stat ${name}`, e));
      }
    }
    const plan = planScan(this.known, found);
    for (const n of plan.refused) this.msg.warn(`unable to start runsv ${n}: too many services.`);
    for (const pid of plan.term) kill(pid);
    this.known = plan.next;
    for (const s of plan.start) this.startRunsv(this.known[s.index]!, s.name);
    if (plan.changed) this.check = true;
  }

  // runsvdir.c: runsv
  private startRunsv(k: Known, name: string): void {
    const child = spawnApplet('runsv', [name], {
      cwd: this.opt.dir,
      stdio: [0, 1, this.logFds ? this.logFds.write : 2],
      detached: this.opt.session,
    });
    child.on('error', () => {});
    if (child.pid === undefined) {
      this.msg.fatal(`unable to start runsv ${name}: ${errstr('ENOENT')}`);
      this.check = true;
      return;
    }
    const pid = child.pid;
    k.pid = pid;
    child.on('exit', () => {
      for (const e of this.known) if (e.pid === pid) e.pid = 0;
      this.check = true;
      this.wake();
    });
  }

  private feed(text: string): void {
    if (!this.ring) return;
    this.ring.feed(text);
    this.showTitle();
  }

  private showTitle(): void {
    if (this.ring) process.title = `${this.opt.title} ${this.ring.text()}`;
  }

  private wake(): void {
    const p = this.poke;
    this.poke = undefined;
    p?.();
  }

  private waitUntil(at: number): Promise<void> {
    if (this.exitsoon) return Promise.resolve();
    return new Promise((res) => {
      const timer = setTimeout(() => { this.poke = undefined; res(); }, Math.max(0, at - Date.now()));
      this.poke = () => { clearTimeout(timer); res(); };
    });
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch { /* already gone */ }
}
