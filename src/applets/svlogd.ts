// SPDX-License-Identifier: MIT
// svlogd: runit's logger. Reads lines on standard input and writes them to log
// directories, rotating, pruning and post-processing as each directory's config
// says (runit svlogd.c, man svlogd). The directory work is in runit/svlogd-dir.ts,
// the line work in runit/svlogd-lines.ts; this file owns options, standard input,
// signals, the `t` timer and the exit.
//
// Standard input is read in large chunks (a pipe through libuv, a file with
// readSync), each chunk is turned into lines and written with one write(2) per
// directory before the next read: a line is in `current` by the time no more
// input is ready, which is when runit's per-line flush would have written it too.
// compat: -b is accepted and checked (it must exceed -l) but does not size our reads.
// compat: on TERM runit reads the unfinished line to its end and then drops it, and
// drops the last line of a chunk read after TERM arrived; we write both, so a
// restarted logger loses nothing. We take no more input than that line.
// compat: after a HUP that removes all e/E lines runit keeps the last line's stderr
// decision; we start every (re)opened directory with stderr deselected.
import { fstatSync, readSync } from 'node:fs';
import { Socket } from 'node:net';
import { isatty } from 'node:tty';
import type { Readable } from 'node:stream';
import type { Io } from '../lib/applet.js';
import { Fatal, UsageError } from '../lib/die.js';
import { errstr } from '../lib/errstr.js';
import { getopt } from '../lib/getopt.js';
import { tai64nNow } from '../lib/tai64n.js';
import { scanUlong } from '../runit/svlogd-config.js';
import { Logdir, type DirEnv, type Level } from '../runit/svlogd-dir.js';
import { LineEngine } from '../runit/svlogd-lines.js';
import { formatStamp, type StampKind } from '../runit/svlogd-stamp.js';

export const usage = '[-ttv] [-r c] [-R abc] [-l len] [-b buflen] dir ...';
export const help = `Read log lines on standard input and write them to the log directories DIR,
rotating and processing them as each directory's config says.

  -t        prefix each line with a TAI64N label (@4000...)
  -tt       prefix each line with a UTC time YYYY-MM-DD_HH:MM:SS.xxxxx
  -ttt      prefix each line with an ISO 8601 UTC time YYYY-MM-DDTHH:MM:SS.xxxxx
  -v        verbose: report opening, rotating, processing and signals on stderr
  -r c      replace non-printable bytes in the first len bytes of a line with c
  -R abc    also replace these bytes (with c, or '_' without -r)
  -l len    bytes of a line used for patterns, stderr and UDP (default 1000)
  -b buflen buffer size, must exceed len (default 1024)

Config lines in DIR/config: sSIZE[k|m] nNUM NMIN tSECS[m|h] !PROCESSOR
uIP[:PORT] UIP[:PORT] pPREFIX +PATTERN -PATTERN ePATTERN EPATTERN (see man svlogd).
Signals: HUP re-reads config and reopens, ALRM rotates now, TERM ends after the
current line.

Exit codes: 0 on end of input or TERM; 111 usage or fatal.`;
export const exitCodes = { usage: 111, fatal: 111 };

const VERSION = '$Id: svbox svlogd $';
const READ_SIZE = 1 << 20;
/** runit's iopause wakes at least every 2744 s even without a `t` deadline. */
const MAX_WAIT_MS = 2744 * 1000;

interface Options {
  stamp: StampKind;
  verbose: boolean;
  linemax: number;
  repl: number;
  replace: Uint8Array;
  dirs: string[];
}

function parseOptions(argv: string[], io: Io): Options {
  const o = getopt(argv, 'R:r:l:b:tvV');
  let repl = 0;
  let replace: Uint8Array = new Uint8Array(0);
  let linemax = 1000;
  let buflen = 1024;
  let stamp = 0;
  let verbose = 0;
  // Walk the options in order: -r and -R interact by position as in svlogd.c's getopt loop.
  for (let i = 0; i < argv.length - o.operands.length; i++) {
    const a = argv[i]!;
    if (a === '--' || !a.startsWith('-')) continue;
    for (let j = 1; j < a.length; j++) {
      const c = a[j]!;
      if ('Rrlb'.includes(c)) {
        const v = Buffer.from(j + 1 < a.length ? a.slice(j + 1) : argv[++i]!, 'utf8');
        if (c === 'R') {
          replace = v;
          if (!repl) repl = 0x5f;
        } else if (c === 'r') {
          if (v.length !== 1 || v[0] === 0) throw new UsageError();
          repl = v[0]!;
        } else if (c === 'l') {
          linemax = scanUlong(v)[0] || 1000;
        } else {
          buflen = scanUlong(v)[0] || 1024;
        }
        break;
      }
      if (c === 't') stamp = Math.min(stamp + 1, 3);
      else if (c === 'v') verbose++;
      else if (c === 'V') {
        io.stderr.write(`${VERSION}\n`);
        throw new UsageError();
      }
    }
  }
  if (o.operands.length === 0) throw new UsageError();
  if (buflen <= linemax) throw new UsageError();
  return { stamp: stamp as StampKind, verbose: verbose > 0, linemax, repl, replace, dirs: o.operands };
}

/** Block the thread: runit sleeps while pausing, and so do we. */
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Standard input as chunks: a pipe or socket through libuv, a terminal as a stream, anything else by readSync. */
interface Input {
  /** onEnd gets the read error, if one ended the input. */
  start(onData: (b: Buffer) => void, onEnd: (err?: unknown) => void): void;
  /** Stop reading ahead; returns the chunks already taken from fd 0 but not yet delivered. */
  stop(): Buffer[];
  close(): void;
}

function openInput(io: Io): Input {
  let st;
  try {
    st = fstatSync(0);
  } catch {
    st = undefined;
  }
  if (st && (st.isFIFO() || st.isSocket())) return streamInput(new Socket({ fd: 0, readable: true, writable: false }));
  if (isatty(0)) return streamInput(io.stdin);
  return fileInput();
}

function streamInput(s: Readable): Input {
  return {
    start(onData, onEnd) {
      s.on('data', onData);
      s.on('end', () => onEnd());
      s.on('error', (e) => onEnd(e));
    },
    stop() {
      s.pause();
      s.removeAllListeners('data');
      const left: Buffer[] = [];
      for (let b = s.read() as Buffer | null; b !== null; b = s.read() as Buffer | null) left.push(b);
      return left;
    },
    close() {
      s.removeAllListeners();
      s.on('error', () => { /* closing */ });
      s.destroy();
    },
  };
}

/** Regular files and devices never block: read big chunks, yielding to the event loop (signals) between them. */
function fileInput(): Input {
  let stopped = false;
  const buf = Buffer.allocUnsafe(READ_SIZE);
  return {
    start(onData, onEnd) {
      const step = (): void => {
        if (stopped) return;
        let n: number;
        try {
          n = readSync(0, buf, 0, buf.length, null);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'EAGAIN') {
            setTimeout(step, 10);
            return;
          }
          onEnd(e);
          return;
        }
        if (n === 0) {
          onEnd();
          return;
        }
        // Lines are handled before the next read and a partial line is copied: no copy needed here.
        onData(buf.subarray(0, n));
        setImmediate(step);
      };
      setImmediate(step);
    },
    stop() {
      stopped = true;
      return [];
    },
    close() {
      stopped = true;
    },
  };
}

/** One byte from fd 0, waiting while the descriptor has none ready; undefined at end of input. */
function readByte(): Buffer | undefined {
  const b = Buffer.alloc(1);
  for (;;) {
    try {
      return readSync(0, b, 0, 1, null) === 1 ? b : undefined;
    } catch (e) {
      const c = (e as NodeJS.ErrnoException).code;
      if (c !== 'EAGAIN' && c !== 'EINTR') return undefined;
      sleepSync(10);
    }
  }
}

export async function main(argv: string[], io: Io): Promise<number> {
  const opts = parseOptions(argv, io);
  return new Promise<number>((resolve, reject) => {
    const log = (level: Level, text: string): void => io.stderr.write(`svlogd: ${level}: ${text}\n`);
    let timer: NodeJS.Timeout | undefined;
    const env: DirEnv = {
      linemax: opts.linemax,
      verbose: opts.verbose,
      log,
      sleep: sleepSync,
      onProcessorExit(dir, pid, exitcode, waited) {
        guard(() => {
          if (opts.verbose) log('info', 'sigchild received.');
          if (!waited && dir.ppid === pid) dir.processorStop(exitcode);
        });
      },
      onDeadline: () => armTimer(),
    };
    const dirs = opts.dirs.map((d) => new Logdir(d, env));
    const engine = new LineEngine(opts, dirs, (b) => io.stderr.write(b));
    const input = openInput(io);
    let done = false;
    let stampSec = -1n;
    let stampFrac = -1;
    let stamp = Buffer.alloc(0);

    const currentStamp = (): Buffer => {
      if (!opts.stamp) return stamp;
      const t = tai64nNow();
      // Reformat only when the visible part (the TAI64N label, or 5 fraction digits) changes.
      const frac = opts.stamp === 1 ? t.nsec : Math.floor(t.nsec / 10000);
      if (t.sec !== stampSec || frac !== stampFrac) {
        stampSec = t.sec;
        stampFrac = frac;
        stamp = Buffer.from(formatStamp(opts.stamp, t), 'latin1');
      }
      return stamp;
    };

    const flushAll = (): void => {
      for (const d of dirs) if (d.active) d.flush();
    };

    /** svlogd.c: logdirs_reopen. */
    const reopen = (): void => {
      const now = Date.now();
      let ok = false;
      for (const d of dirs) {
        d.close();
        if (d.open(now)) ok = true;
      }
      if (!ok) throw new Fatal('no functional log directories.');
      armTimer();
    };

    /** The `t` deadlines: rotate the directories whose time has come (svlogd.c: buffer_pread). */
    const checkDeadlines = (): void => {
      const now = Date.now();
      for (const d of dirs) if (d.cfg.tmax && d.trotate < now) d.rotate();
    };

    function armTimer(): void {
      if (timer) clearTimeout(timer);
      let next = Date.now() + MAX_WAIT_MS;
      for (const d of dirs) if (d.cfg.tmax && d.trotate < next) next = d.trotate;
      timer = setTimeout(() => guard(() => { checkDeadlines(); armTimer(); }), Math.max(0, next - Date.now()) + 1);
    }

    const cleanup = (): void => {
      done = true;
      if (timer) clearTimeout(timer);
      process.removeListener('SIGTERM', onTerm);
      process.removeListener('SIGHUP', onHup);
      process.removeListener('SIGALRM', onAlrm);
      input.close();
    };

    /** Run an event handler; a Fatal from it ends svlogd with the directories closed as far as possible. */
    const guard = (fn: () => void): void => {
      if (done) return;
      try {
        fn();
      } catch (e) {
        cleanup();
        for (const d of dirs) {
          try {
            d.close();
          } catch { /* already failing */ }
        }
        reject(e);
      }
    };

    const onData = (b: Buffer): void => guard(() => {
      checkDeadlines();
      engine.feed(b, currentStamp());
      flushAll();
    });

    /** EOF or TERM: finish, wait for processors, close every directory (svlogd.c: end of main). */
    const finish = (eof: boolean): void => guard(() => {
      if (eof) engine.end();
      flushAll();
      for (const d of dirs) while (d.ppid) d.processorStop(d.waitProcessor());
      for (const d of dirs) d.close();
      cleanup();
      resolve(0);
    });

    function onTerm(): void {
      guard(() => {
        if (opts.verbose) log('info', 'sigterm received.');
        for (const b of input.stop()) engine.feed(b, currentStamp());
        // Finish the line in progress byte by byte so the next logger gets the rest of the input.
        while (engine.midLine) {
          const b = readByte();
          if (!b) {
            finish(true);
            return;
          }
          engine.feed(b, currentStamp());
        }
        finish(false);
      });
    }
    function onHup(): void {
      guard(() => {
        if (opts.verbose) log('info', 'sighangup received.');
        flushAll();
        reopen();
      });
    }
    function onAlrm(): void {
      guard(() => {
        if (opts.verbose) log('info', 'sigalarm received.');
        flushAll();
        for (const d of dirs) d.rotate();
      });
    }

    guard(() => {
      reopen();
      process.on('SIGTERM', onTerm);
      process.on('SIGHUP', onHup);
      process.on('SIGALRM', onAlrm);
      input.start(onData, (err) => {
        // svlogd.c: buffer_pread warns, and the failed read ends the input like EOF.
        if (err !== undefined) log('warning', `unable to read standard input: ${errstr(err)}`);
        finish(true);
      });
    });
  });
}
