// SPDX-License-Identifier: MIT
// Entry point of the multicall executable: picks an applet from the name we were
// invoked under (BusyBox appletlib), or from the first argument when invoked as
// svbox itself. A name that is no applet but a symbolic link to one runs that
// applet under the link's name: /etc/init.d/foo -> sv gives sv's LSB mode.
import { basename, dirname } from 'node:path';
import { readlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { isSea } from 'node:sea';
import { appletNames, findApplet } from './applets/index.js';
import { EXIT_INTERNAL, EXIT_NOT_FOUND, fdSink, helpText, processIo, runApplet, type AppletEntry } from './lib/applet.js';
import { Fatal } from './lib/die.js';
import { getopt } from './lib/getopt.js';
import { installLinks } from './lib/install.js';
import { MULTICALL, ownFile } from './lib/self-exec.js';
import { restoreDefaultSignals } from './lib/signals.js';

const out = fdSink(1);
const err = fdSink(2);

/** Base name without a login shell's leading '-' and without a script extension. */
const bare = (p: string): string => basename(p).replace(/^-/, '').replace(/\.[cm]?js$/, '');

/** The path we were started as: argv0 for the single executable, the script path for the bundle. */
function invokedPath(): string {
  return isSea() ? process.argv0 : (process.argv[1] ?? process.argv0);
}

/** The user's arguments: the single executable repeats its path as argv[1], as node does for a script. */
function userArgs(): string[] {
  return process.argv.slice(2);
}

function isSelf(name: string): boolean {
  if (name === MULTICALL) return true;
  try {
    return name === bare(ownFile());
  } catch {
    return false;
  }
}

/** An applet for `name`, or for the first link target on the way from `path` that is an applet's name. */
function resolveApplet(name: string, path: string): AppletEntry | undefined {
  const direct = findApplet(name);
  if (direct) return direct;
  let at = path;
  for (let hops = 0; hops < 8; hops++) {
    let next: string;
    try {
      next = resolve(dirname(at), readlinkSync(at));
    } catch {
      return undefined;
    }
    const hit = findApplet(bare(next));
    if (hit) return hit;
    at = next;
  }
  return undefined;
}

function overview(): string {
  return `${MULTICALL}: runit-style supervision, logging, a UCSPI TCP server and an rsync daemon in one executable.

usage: ${MULTICALL} APPLET [ARGS...]   or   APPLET [ARGS...] through a link named APPLET
       ${MULTICALL} --list | --help [APPLET] | --install [-f] [DIR]

Applets: ${appletNames.join(' ')}
`;
}

async function frontEnd(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  if (first === undefined) {
    out.write(overview());
    return 0;
  }
  if (first === '--list') {
    out.write(`${appletNames.join('\n')}\n`);
    return 0;
  }
  if (first === '--help') {
    if (rest[0] === undefined) {
      out.write(overview());
      return 0;
    }
    const entry = findApplet(basename(rest[0]));
    if (!entry) return notFound(rest[0]);
    out.write(helpText(entry.name, await entry.load()));
    return 0;
  }
  if (first === '--install') {
    try {
      const o = getopt(rest, 'f');
      if (o.operands.length > 1) throw new Fatal('usage: svbox --install [-f] [DIR]', 1);
      const target = ownFile();
      const dir = o.operands[0] ?? dirname(target);
      for (const l of installLinks(appletNames, dir, target, o.flags.has('f'))) out.write(`${l.path} -> ${target}\n`);
      return 0;
    } catch (e) {
      err.write(`${MULTICALL}: fatal: ${e instanceof Error ? e.message : String(e)}\n`);
      return 1;
    }
  }
  if (first.startsWith('-')) {
    err.write(`${MULTICALL}: unknown option ${first}\n`);
    out.write(overview());
    return 1;
  }
  return dispatch(basename(first), first, rest);
}

function notFound(name: string): number {
  err.write(`${MULTICALL}: applet not found: ${name}\n`);
  return EXIT_NOT_FOUND;
}

async function dispatch(name: string, path: string, args: string[]): Promise<number> {
  const entry = resolveApplet(name, path);
  if (!entry) return notFound(name);
  process.title = [entry.name, ...args.slice(0, 2)].join(' ');
  return runApplet(entry, args, processIo(entry.name, name));
}

async function main(): Promise<number> {
  // Before anything else: SIGUSR1 must not open Node's inspector (see lib/signals.ts).
  restoreDefaultSignals(['SIGUSR1']);
  const path = invokedPath();
  const name = bare(path);
  if (isSelf(name) && !findApplet(name)) return frontEnd(userArgs());
  return dispatch(name, path, userArgs());
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    err.write(`${MULTICALL}: fatal: BUG: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = EXIT_INTERNAL;
  },
);
