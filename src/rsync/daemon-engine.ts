// SPDX-License-Identifier: MIT
// The daemon front end's hand-off to the transfer engine (src/rsync/server.ts
// runServer): the client's argument list is parsed with the module's `refuse
// options` (options.ts), the module settings are turned into the engine's, and the
// daemon-side filter rules are collected in the order rsync's clientserver.c
// rsync_module adds them: filter, include from, include, exclude from, exclude.
// A refused or unknown option is reported as the real daemon does it: protocol
// setup without the client's capability letters, one MSG_ERROR line and no
// MSG_ERROR_EXIT (runServer's failure), a 400 ms pause (main.c msleep) and a close
// with the client's bytes unread (a TCP reset), so the client prints the same lines
// and exits with the same code (10) as against rsync.
import { readFileSync } from 'node:fs';
import type { TransferEngine, TransferSession } from './daemon.js';
import { OptionError, optionErrorLine, parseServerArgs, RefuseRules } from './options.js';
import { runServer, type ModuleSettings as EngineModule, type TransferEvent } from './server.js';
import { formatLog, logMtime } from './daemon-log.js';
import { permString } from './itemize.js';
import { prepareWindow } from './rollsum.js';
import { warmFileList } from './warmup.js';
import { makeChecksums } from './checksum.js';

const RERR_UNSUPPORTED = 4;

/** Rule keywords and prefixes that take the next word as their pattern (FILTRULE_WORD_SPLIT). */
const RULE_HEAD = /^(?:[-+.:PHSR](?:[!/CenrswxWp,]*)|exclude|include|merge|dir-merge|hide|show|protect|risk)$/;

/**
 * Split a word-split rule list (`filter = - *.tmp + /keep/`): a rule word followed
 * by its pattern makes one rule; `!` (clear) stands alone.
 */
export function splitFilterParam(value: string): string[] {
  const words = value.split(/\s+/).filter((w) => w !== '');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (RULE_HEAD.test(w) && i + 1 < words.length) out.push(`${w} ${words[++i]!}`);
    else out.push(w);
  }
  return out;
}

/** `include`/`exclude`: space-separated patterns; a word already written as a rule ("- x") is kept. */
function patternRules(value: string, sign: '+' | '-'): string[] {
  return value.split(/\s+/).filter((w) => w !== '').map((w) => `${sign} ${w}`);
}

/** `include from`/`exclude from`: one pattern per line; "+ "/"- " prefixes are honoured; # and ; lines skipped. */
export function fileRules(text: string, sign: '+' | '-'): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '' || line.startsWith('#') || line.startsWith(';')) continue;
    out.push(/^[-+] /.test(line) ? line : `${sign} ${line}`);
  }
  return out;
}

export function daemonFilterRules(s: TransferSession['settings'], read: (path: string) => string = (p) => readFileSync(p, 'utf8')): string[] {
  const rules: string[] = [];
  if (s.filter) rules.push(...splitFilterParam(s.filter));
  if (s.includeFrom) rules.push(...fileRules(read(s.includeFrom), '+'));
  if (s.include) rules.push(...patternRules(s.include, '+'));
  if (s.excludeFrom) rules.push(...fileRules(read(s.excludeFrom), '-'));
  if (s.exclude) rules.push(...patternRules(s.exclude, '-'));
  return rules;
}

export function engineModule(s: TransferSession, rules: string[]): EngineModule {
  return {
    name: s.module.name,
    path: s.modulePath,
    readOnly: s.readOnly,
    writeOnly: s.settings.writeOnly,
    filter: rules,
    ignoreNonreadable: s.settings.ignoreNonreadable,
    outgoingChmod: s.settings.outgoingChmod,
    numericIds: s.numericIds,
    mungeSymlinks: s.mungeSymlinks,
    useChroot: s.useChroot,
    timeout: s.settings.timeout,
  };
}

/**
 * `transfer logging = yes`: one `log format` line per item (log.c log_item). A file
 * whose data went out is always logged; an item only itemized (a new directory or
 * symlink, changed attributes) only when the format shows `%i` (sender.c
 * maybe_log_item: logfile_format_has_i and significant flags). Escapes as log.c
 * log_formatted: %o %h %a %m %u %f %n %l %b %c %i %M %B %U %G %L %P %t %p; %U is 0
 * without -o and %G "DEFAULT" without -g, as rsync shows them. compat: %C (the
 * whole-file checksum) stays empty: the sender does not keep the digest it sent.
 */
export function transferLogger(s: TransferSession): ((e: TransferEvent) => void) | undefined {
  if (!s.settings.transferLogging) return undefined;
  const fmt = s.settings.logFormat;
  const hasItemize = /%-?'?\d*i/.test(fmt);
  return (e) => {
    if (!e.transferred && !(hasItemize && e.significant)) return;
    s.log(formatLog(fmt, {
      addr: s.addr, host: s.host, module: s.module.name, user: s.user, modulePath: s.modulePath,
      op: e.op, file: e.file, name: e.name, length: e.length, bytes: e.bytes, checksumBytes: e.checksumBytes,
      itemize: e.itemize, mtime: logMtime(e.mtime), perms: permString(e.mode),
      uid: String(e.uid ?? 0), gid: e.gid === undefined ? 'DEFAULT' : String(e.gid), link: e.link,
    }));
  };
}

/** rsync's exit after a refusal: a pause for the client to read, then a close with its bytes unread (a reset). */
async function resetAfter(s: TransferSession, ms: number): Promise<void> {
  await new Promise((res) => setTimeout(res, ms));
  const sock = s.output as TransferSession['output'] & { resetAndDestroy?: () => void };
  if (typeof sock.resetAndDestroy === 'function') sock.resetAndDestroy();
  else s.output.destroy();
}

/** The real transfer engine behind the daemon front end. */
export const daemonEngine: TransferEngine = async (s) => {
  const base = { input: s.input, pending: s.leftover, output: s.output, protocol: s.protocol, log: { info: (l: string) => s.log(l), error: (l: string) => s.log(l) } };
  let options;
  try {
    options = parseServerArgs(s.args, new RefuseRules(s.settings.refuseOptions));
  } catch (e) {
    if (!(e instanceof OptionError)) throw e;
    const line = optionErrorLine(e);
    s.log(line.replace(/\n$/, ''));
    // main.c: the option error goes out after setup, without MSG_ERROR_EXIT; then
    // msleep(400) and exit_cleanup(RERR_UNSUPPORTED).
    const code = await runServer({ ...base, options: parseServerArgs([]), module: engineModule(s, []), failure: { lines: [line], code: RERR_UNSUPPORTED, exitMessage: false } });
    await resetAfter(s, 400);
    return code;
  }
  let rules: string[];
  try {
    rules = daemonFilterRules(s.settings);
  } catch (e) {
    // clientserver.c: XFLG_FATAL_ERRORS on the *from files.
    s.log(`failed to read a daemon filter file: ${(e as NodeJS.ErrnoException).code ?? String(e)}`);
    return runServer({ ...base, options, module: engineModule(s, []), failure: { lines: ['rsync: the daemon could not read its filter rules\n'], code: RERR_UNSUPPORTED } });
  }
  return runServer({ ...base, options, module: engineModule(s, rules), onTransfer: transferLogger(s) });
};

/**
 * Loading the engine compiles its WebAssembly ahead of need: the listener's connection
 * processes import this module while they wait for a connection (applets/rsyncd.ts
 * serveFromListener), so a connection finds the matcher's module compiled and
 * hash-wasm's modules (xxh128, md5: what stock clients negotiate) in its cache instead of
 * compiling them while the client waits.
 */
function warmUp(): void {
  try {
    prepareWindow();
  } catch {
    // Compiled again (and any error reported) when a transfer needs it.
  }
  for (const name of ['xxh128', 'md5'] as const) makeChecksums(name, 0, true).catch(() => {});
  // A process with an IPC channel is one of the listener's, started ahead of need (at a
  // low priority): it also builds a file list once, so that that code is compiled before
  // a client waits (warmup.ts). In inetd mode this module loads on the connection's own
  // path, so not there.
  if (process.send) setTimeout(() => warmFileList(), 0);
}
warmUp();
