// SPDX-License-Identifier: MIT
// rsync's remote-shell server mode: `rsync -e SHELL host:path dst` makes the client
// run `rsync --server [--sender] OPTIONS . PATH...` through SHELL, talking over the
// command's stdin/stdout. Our applet runs this when its arguments contain --server.
// Unlike daemon mode each side first writes its protocol version as a raw int32 and
// reads the other's (compat.c: setup_protocol); the rest is the daemon protocol.
//
// The served tree is given by the environment: SVBOX_RSYNC_MODULE="NAME=PATH"
// (the request's paths start with NAME, as in a daemon URL), plus optional
// SVBOX_RSYNC_FILTER (rules separated by newlines), SVBOX_RSYNC_REFUSE (a `refuse
// options` value), SVBOX_RSYNC_MUNGE=1, SVBOX_RSYNC_CHMOD (outgoing chmod),
// SVBOX_RSYNC_NUMERIC_IDS=1 and SVBOX_RSYNC_IGNORE_NONREADABLE=1. Without
// SVBOX_RSYNC_MODULE the current directory is served under the empty name. This mode
// exists for testing the transfer engine without the daemon front end and for
// ssh-style use.
import type { Readable, Writable } from 'node:stream';
import { resolve } from 'node:path';
import { parseServerArgs, RefuseRules, OptionError, optionErrorLine } from './options.js';
import { runServer, defaultModule, type ServerLog } from './server.js';

const PROTOCOL_VERSION = 32;
const MIN_PROTOCOL = 30;

/** Read exactly n bytes from a stream (before the engine takes it over); extra bytes are returned too. */
function readExactly(input: Readable, n: number): Promise<{ head: Buffer; rest: Buffer }> {
  return new Promise((res, rej) => {
    let got = Buffer.alloc(0);
    const onData = (c: Buffer): void => {
      got = Buffer.concat([got, c]);
      if (got.length >= n) {
        done();
        input.pause();
        res({ head: got.subarray(0, n), rest: got.subarray(n) });
      }
    };
    const onEnd = (): void => { done(); rej(new Error('connection closed during protocol exchange')); };
    const done = (): void => {
      input.off('data', onData);
      input.off('end', onEnd);
    };
    input.on('data', onData);
    input.on('end', onEnd);
    input.resume();
  });
}

export async function remoteShell(argv: string[], input: Readable, output: Writable, env: NodeJS.ProcessEnv, log: ServerLog): Promise<number> {
  // The rsync client ends its remote-shell child with SIGUSR1 when it gives up
  // (cleanup.c: _exit_cleanup). Node's default SIGUSR1 action starts the inspector on
  // 127.0.0.1:9229 — never acceptable for a server — so exit as rsync does on a signal
  // (RERR_SIGNAL = 20). This is the one process.exit of the remote-shell path.
  process.on('SIGUSR1', () => process.exit(20));
  const spec = env.SVBOX_RSYNC_MODULE ?? '';
  const eq = spec.indexOf('=');
  const name = eq < 0 ? '' : spec.slice(0, eq);
  const path = resolve(eq < 0 ? '.' : spec.slice(eq + 1));
  const module = defaultModule(name, path);
  module.filter = (env.SVBOX_RSYNC_FILTER ?? '').split('\n').filter(Boolean);
  module.mungeSymlinks = env.SVBOX_RSYNC_MUNGE === '1';
  module.outgoingChmod = env.SVBOX_RSYNC_CHMOD ?? '';
  module.numericIds = env.SVBOX_RSYNC_NUMERIC_IDS === '1';
  module.ignoreNonreadable = env.SVBOX_RSYNC_IGNORE_NONREADABLE === '1';

  // compat.c: setup_protocol — both sides send their version; the lower one is used.
  const v = Buffer.alloc(4);
  v.writeInt32LE(PROTOCOL_VERSION);
  output.write(v);
  const { head, rest } = await readExactly(input, 4);
  const theirs = head.readInt32LE(0);
  const protocol = Math.min(PROTOCOL_VERSION, theirs);
  if (protocol < MIN_PROTOCOL) {
    log.error(`protocol version mismatch -- is your shell clean? (client ${theirs}, need ${MIN_PROTOCOL}..${PROTOCOL_VERSION})`);
    return 2;
  }

  let failure: { lines: string[]; code: number } | undefined;
  let options = parseServerArgs([]);
  try {
    options = parseServerArgs(argv, new RefuseRules(env.SVBOX_RSYNC_REFUSE ?? ''));
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    failure = { lines: [optionErrorLine(e)], code: 1 };
  }
  try {
    return await runServer({ input, pending: rest, output, protocol, options, module, log, failure });
  } finally {
    // The client is done with us: stop reading so the process can end.
    input.pause();
    input.destroy();
  }
}
