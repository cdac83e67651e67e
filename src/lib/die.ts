// SPDX-License-Identifier: MIT
// Typed errors that cross from library code to the applet boundary, and the one
// message shape every applet prints: `PREFIX: LEVEL: TEXT`, built whole and written
// with a single write (BusyBox verror_msg, skalibs strerr).
import { errstr } from './errstr.js';

/** Wrong command line. `line`, when given, is printed before the usage text. */
export class UsageError extends Error {
  constructor(readonly line?: string) {
    super(line ?? 'usage');
    this.name = 'UsageError';
  }
}

/** A fatal condition: the applet prints `NAME: fatal: MESSAGE` and exits with exitCode (or its own fatal code). */
export class Fatal extends Error {
  constructor(message: string, readonly exitCode?: number, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Fatal';
  }
}

/** `unable to VERB OBJECT: REASON`, with REASON the djb error string of cause. */
export function unableText(what: string, cause: unknown): string {
  return `unable to ${what}: ${errstr(cause)}`;
}

export function unable(what: string, cause: unknown, exitCode?: number): Fatal {
  return new Fatal(unableText(what, cause), exitCode, { cause });
}

export interface LineSink {
  write(chunk: string | Uint8Array): void;
}

/** One diagnostics channel for an applet: prefix is `sv`, `runsv web`, `runsvdir /service` ... */
export class Messages {
  constructor(readonly sink: LineSink, readonly prefix: string) {}
  line(level: string, text: string): void {
    this.sink.write(`${this.prefix}: ${level}: ${text}\n`);
  }
  warn(text: string): void { this.line('warning', text); }
  fatal(text: string): void { this.line('fatal', text); }
  info(text: string): void { this.line('info', text); }
  /** `PREFIX: warning: unable to WHAT: REASON` */
  warnUnable(what: string, cause: unknown): void { this.warn(unableText(what, cause)); }
}
