// SPDX-License-Identifier: MIT
// The listening socket of tcpsvd, with a way to STOP ACCEPTING while -c children
// run, so that further clients wait in the kernel's backlog as with ipsvd (which
// simply does not call accept() at the limit: tcpsvd.c main loop, sig_pause).
//
// Node workaround: a net.Server accepts whenever the socket is readable, and
// neither Node nor libuv can pause that (the server handle's readStop() is a no-op
// for a listening socket: it is not a readable stream). Closing the server would
// close the socket and refuse the waiting clients. So a small "keeper" process (this
// same executable, `tcpsvd` in keeper mode) holds a duplicate of the listening
// socket, received over Node's IPC channel (SCM_RIGHTS). To pause, we close our own
// server handle: the socket stays open in the keeper and keeps queueing clients.
// To resume, the keeper sends the socket back, which gives us a fresh descriptor of
// the same listening socket; the queued clients are then accepted in order.
// Until the keeper holds the socket (the first moments after start-up), connections
// past the limit are accepted but held unserved in FIFO order instead.
import { type ChildProcess } from 'node:child_process';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { spawnApplet } from '../lib/self-exec.js';

/** The operand that starts the keeper mode (not a valid ipsvd option, so no user types it). */
export const KEEPER_ARG = '--svbox-tcpsvd-keeper';

export interface AcceptorOptions {
  backlog: number;
  onConnection: (s: Socket) => void;
  /** The keeper died while it held the only descriptor: we can no longer accept. */
  onLost: (why: string) => void;
}

export class Acceptor {
  private server: Server | undefined;
  private keeper: ChildProcess | undefined;
  private keeperHolds = false;
  private paused = false; // our server handle is closed
  private resuming = false;
  private wantPause = false;
  private stopped = false; // for good: we are ending
  private readonly held: Socket[] = [];

  constructor(private readonly o: AcceptorOptions) {}

  /** Bind and listen; rejects with the system error (EADDRINUSE ...). */
  listen(host: string, port: number): Promise<AddressInfo> {
    return new Promise((res, rej) => {
      const s = this.makeServer();
      s.once('error', rej);
      // exclusive: never share the port through a cluster primary.
      s.listen({ host, port, backlog: this.o.backlog, exclusive: true }, () => {
        s.removeListener('error', rej);
        s.on('error', () => { /* accept errors (EMFILE ...) are retried by libuv */ });
        this.server = s;
        res(s.address() as AddressInfo);
      });
    });
  }

  /** Start the keeper process and hand it a copy of the listening socket; resolves once it holds it (or after ms). */
  startKeeper(ms: number): Promise<void> {
    const k = spawnApplet('tcpsvd', [KEEPER_ARG], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.keeper = k;
    k.on('message', (m: unknown, handle: unknown) => {
      if (m === 'held') {
        this.keeperHolds = true;
        if (this.wantPause) this.closeServer();
      } else if (m === 'handle' && handle) {
        this.reopen(handle);
      }
    });
    k.on('exit', () => {
      this.keeper = undefined;
      this.keeperHolds = false;
      if (this.paused) this.o.onLost('listening socket keeper died');
    });
    k.on('error', () => { /* reported through exit */ });
    k.send('hold', (this.server as unknown as { _handle: never })._handle);
    return new Promise((res) => {
      const timer = setTimeout(res, ms);
      const ready = (m: unknown) => {
        if (m !== 'held') return;
        clearTimeout(timer);
        k.removeListener('message', ready);
        res();
      };
      k.on('message', ready);
      k.once('exit', () => { clearTimeout(timer); res(); });
    });
  }

  /** Stop accepting (the -c limit is reached). */
  pause(): void {
    this.wantPause = true;
    if (!this.paused && this.keeperHolds) this.closeServer();
  }

  /** Stop accepting for good (we are ending); the keeper's copy goes with the keeper. */
  stop(): void {
    this.stopped = true;
    this.wantPause = true;
    if (!this.paused) this.closeServer();
  }

  /** Accept again (a child ended). */
  resume(): void {
    if (this.stopped) return;
    this.wantPause = false;
    while (this.held.length > 0 && !this.wantPause) this.o.onConnection(this.held.shift()!);
    if (this.wantPause || !this.paused || this.resuming) return;
    if (!this.keeper) return this.o.onLost('listening socket keeper died');
    this.resuming = true;
    this.keeper.send('give');
  }

  private makeServer(): Server {
    return createServer({ pauseOnConnect: true }, (sock) => {
      if (this.wantPause) this.held.push(sock);
      else this.o.onConnection(sock);
    });
  }

  private closeServer(): void {
    this.server?.close();
    this.server = undefined;
    this.paused = true;
  }

  private reopen(handle: unknown): void {
    this.resuming = false;
    if (this.stopped) return;
    const s = this.makeServer();
    s.on('error', () => { /* as above */ });
    s.listen(handle as never, this.o.backlog);
    this.server = s;
    this.paused = false;
    if (this.wantPause) this.closeServer();
  }
}

/** Keeper mode: hold the socket we are sent, give it back on request, end with our parent. */
export function runKeeper(): Promise<number> {
  return new Promise((res) => {
    let handle: unknown;
    if (!process.send) return res(111);
    process.on('message', (m: unknown, h: unknown) => {
      if (m === 'hold' && h) {
        handle = h;
        process.send!('held');
      } else if (m === 'give' && handle) {
        process.send!('handle', handle as never);
      }
    });
    process.on('disconnect', () => res(0));
  });
}
