// SPDX-License-Identifier: MIT
// The hand-off from a front end to the transfer engine: after the daemon greeting,
// authentication and the argument list (daemon mode), or after the binary version
// exchange (remote-shell mode), the connection continues here with protocol setup
// (compat flags, checksum negotiation, seed), multiplexing and the transfer.
// Mirrors main.c: start_server and compat.c: setup_protocol for the server side.
//
// Contract for front ends (src/rsync/daemon.ts, src/rsync/remote-shell.ts):
//   const code = await runServer({ input, pending, output, protocol, options, module, log });
// `pending` holds bytes the front end read past the argument list. The returned
// number is an rsync exit code (0, 1, 2, 4, 5, 10, 11, 12, 23, 24, ...). runServer
// never closes `output`; the caller ends/destroys the connection afterwards.
import type { Readable, Writable } from 'node:stream';
import type { ServerOptions } from './options.js';
import { serve } from './session.js';

/** A module's settings as the transfer needs them (rsyncd.conf names in comments). */
export interface ModuleSettings {
  /** Module name, for messages: `(in NAME)`. */
  name: string;
  /** `path`: the confinement root, absolute. No request ever reads or writes outside it. */
  path: string;
  /** `read only` (default yes). */
  readOnly: boolean;
  /** `write only` (default no): pulls are refused. */
  writeOnly: boolean;
  /**
   * The daemon's own filter rules, in rsync's rule syntax ("- *.tmp", "+ /keep/",
   * "exclude pat", ...), in the order rsync applies them: `filter`, `include from`,
   * `include`, `exclude from`, `exclude` (the front end expands the *from files).
   */
  filter: string[];
  /** `ignore nonreadable`: unreadable files and directories are left out of the list. */
  ignoreNonreadable: boolean;
  /** `outgoing chmod`: rsync's --chmod syntax applied to modes before they are sent. */
  outgoingChmod: string;
  /** `numeric ids` (default yes with chroot, here: as configured): no uid/gid names. */
  numericIds: boolean;
  /** `munge symlinks` (default: !use chroot): symlinks carry the /rsyncd-munged/ prefix on disk. */
  mungeSymlinks: boolean;
  /** `use chroot`: recorded for messages only; confinement is always done by path resolution. */
  useChroot: boolean;
  /** `timeout` in seconds, 0 = none. */
  timeout: number;
}

export function defaultModule(name: string, path: string): ModuleSettings {
  return {
    name, path, readOnly: true, writeOnly: false, filter: [], ignoreNonreadable: false, outgoingChmod: '',
    numericIds: false, mungeSymlinks: false, useChroot: false, timeout: 0,
  };
}

/** Where the engine reports what it did (the front end decides: log file, stderr, syslog-like). */
export interface ServerLog {
  /** Informational line, e.g. a transfer-log line. No trailing newline. */
  info(line: string): void;
  /** Error line for the daemon's own log. No trailing newline. */
  error(line: string): void;
}

export interface ServerParams {
  /** Bytes from the client. */
  input: Readable;
  /** Bytes the front end already read from `input` past the argument list. */
  pending?: Uint8Array;
  /** Bytes to the client. */
  output: Writable;
  /** The negotiated protocol version (30..32). */
  protocol: number;
  /** The parsed argument list (options.ts: parseServerArgs). */
  options: ServerOptions;
  module: ModuleSettings;
  log: ServerLog;
  /**
   * An error to report after setup instead of transferring (refused option, parse
   * error): the full text lines (e.g. "rsync: The server is configured to refuse
   * --checksum (-c)\n") and the exit code to send (MSG_ERROR_EXIT at 31+).
   * `exitMessage: false` sends no MSG_ERROR_EXIT, as rsync 3.5.0's daemon does for a
   * refused option (the client then reports the closed connection: exit 10 or 12).
   */
  failure?: { lines: string[]; code: number; exitMessage?: boolean };
  /** For tests: a fixed checksum seed instead of time ^ pid. */
  seed?: number;
  /**
   * Called for each item the client asked about during the transfer phase (sender.c
   * send_files: log_item / maybe_log_item), after a file's data went out; never in a
   * dry run. The front end decides what to log (daemon: `transfer logging`).
   */
  onTransfer?: (e: TransferEvent) => void;
}

/** One item of a transfer, with what rsync's `log format` escapes show of it. */
export interface TransferEvent {
  /** %o: "send" (this engine only sends). */
  op: 'send';
  /** %f: the path inside the module (source directory joined with the name, cleaned). */
  file: string;
  /** %n: the file-list name; a directory's ends in "/". */
  name: string;
  /** %l: size of a file or directory, length of a symlink's target. */
  length: number;
  /** %b: protocol bytes sent for this item (0 unless its data was transferred). */
  bytes: number;
  /** %c: protocol bytes received for it: the block checksums (0 unless transferred). */
  checksumBytes: number;
  /** The item flags from the client (rsync.h ITEM_*). */
  iflags: number;
  /** %i: the itemized change string. */
  itemize: string;
  /** The data was sent (ITEM_TRANSFER), not only the flags echoed. */
  transferred: boolean;
  /** Worth reporting: rsync's SIGNIFICANT_ITEM_FLAGS, or a hard-link name followed. */
  significant: boolean;
  mode: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** -o / -g in effect: without them rsync shows uid 0 and gid "DEFAULT". */
  uid: number | undefined;
  gid: number | undefined;
  /** %L: a symlink's target. */
  link: string | undefined;
}

/** Run the transfer; resolves to rsync's exit code for this connection. */
export async function runServer(p: ServerParams): Promise<number> {
  return serve(p);
}
