// SPDX-License-Identifier: MIT
// The applet contract: every applet module exports its usage text, its documented
// exit codes and `main(argv, io) -> exit code`. The boundary here is the only place
// that turns a thrown UsageError/Fatal into a message and an exit code; library code
// returns results or throws.
import { writeSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { Fatal, UsageError, type LineSink } from './die.js';

/** Internal error ("cannot happen"), for every applet (s6's convention). */
export const EXIT_INTERNAL = 101;
/** Unknown applet name (POSIX command-not-found status, as BusyBox). */
export const EXIT_NOT_FOUND = 127;

export interface Io {
  /** The applet's name, used in messages. */
  name: string;
  /** The name we were invoked under (differs from `name` for sv's LSB mode: /etc/init.d/foo -> sv). */
  invokedAs: string;
  stdin: Readable;
  /** Synchronous writers: each call is one write(2), so a message line is never split. */
  stdout: LineSink;
  stderr: LineSink;
  env: NodeJS.ProcessEnv;
}

export interface ExitCodes {
  /** Exit code for a usage error. */
  usage: number;
  /** Exit code for a fatal error, unless the Fatal names its own. */
  fatal: number;
}

export interface AppletModule {
  /** Synopsis as the real tool prints it after `usage: NAME `. */
  usage: string;
  /** Longer help for `NAME --help`. */
  help: string;
  exitCodes: ExitCodes;
  main(argv: string[], io: Io): Promise<number>;
}

export interface AppletEntry {
  name: string;
  load(): Promise<AppletModule>;
}

export function helpText(name: string, mod: Pick<AppletModule, 'usage' | 'help'>): string {
  return `usage: ${name} ${mod.usage}\n\n${mod.help.trimEnd()}\n`;
}

/** runit prints usage errors as `usage: NAME TEXT` followed by an empty line. */
export function usageText(name: string, usage: string): string {
  return `usage: ${name} ${usage}\n\n`;
}

export async function runApplet(entry: AppletEntry, argv: string[], io: Io): Promise<number> {
  const mod = await entry.load();
  if (argv[0] === '--help') {
    io.stdout.write(helpText(entry.name, mod));
    return 0;
  }
  try {
    return await mod.main(argv, io);
  } catch (err) {
    if (err instanceof UsageError) {
      if (err.line !== undefined) io.stderr.write(`${io.name}: ${err.line}\n`);
      io.stderr.write(usageText(io.name, mod.usage));
      return mod.exitCodes.usage;
    }
    if (err instanceof Fatal) {
      io.stderr.write(`${io.name}: fatal: ${err.message}\n`);
      return err.exitCode ?? mod.exitCodes.fatal;
    }
    io.stderr.write(`${io.name}: fatal: BUG: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT_INTERNAL;
  }
}

/** A synchronous writer on a file descriptor; retries short writes and EAGAIN on non-blocking pipes. */
export function fdSink(fd: number): LineSink {
  return {
    write(chunk) {
      let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      while (buf.length > 0) {
        try {
          const n = writeSync(fd, buf);
          buf = buf.subarray(n);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') continue;
          return; // stderr gone (EPIPE, EBADF): nothing better to do with a diagnostic
        }
      }
    },
  };
}

export function processIo(name: string, invokedAs: string): Io {
  return { name, invokedAs, stdin: process.stdin, stdout: fdSink(1), stderr: fdSink(2), env: process.env };
}
