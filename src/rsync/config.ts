// SPDX-License-Identifier: MIT
// rsyncd.conf: a pure parser from text (parseConfig) and a file loader (loadConfig).
// Mirrors rsync's params.c (the lexer: sections, `key = value`, # and ; comments,
// backslash continuation lines) and loadparm.c (the parameter table: names compared
// case-insensitively with all whitespace ignored, rsync's boolean words, parameters
// in the global section being the defaults of every module, --dparam overrides
// applied at the end of the global section).
//
// compat: rsync reads only the global section at start-up and the whole file again
// on every connection, so a broken module section only shows up as failed
// connections. We parse the whole file at start (and on SIGHUP) and refuse to start
// on a malformed line, with FILE:LINE in the message. Lines rsync silently ignores
// (no `=`, a bad boolean, a non-number where a number goes) are errors here for the
// same reason. An unknown parameter and a global parameter inside a module stay
// warnings, worded as rsync words them.
// compat: `&include` and `&merge` directives are not supported (an error, not a
// silent skip). %VAR% expansion happens at use time (expandVars), like rsync's.
import { readFileSync } from 'node:fs';

export type ParamType = 'string' | 'path' | 'int' | 'bool' | 'bool3' | 'octal' | 'enum';

interface ParamDef {
  /** rsync's label(s): the first is canonical. */
  labels: readonly string[];
  key: keyof ModuleSettings | keyof GlobalSettings;
  type: ParamType;
  global: boolean;
}

/** Per-module parameters (loadparm.c local_vars). `undefined` for bool3 = unset. */
export interface ModuleSettings {
  authDigest: string;
  authUsers: string;
  charset: string;
  comment: string;
  dontCompress: string;
  earlyExec: string;
  exclude: string;
  excludeFrom: string;
  filter: string;
  gid: string;
  hostsAllow: string;
  hostsDeny: string;
  include: string;
  includeFrom: string;
  incomingChmod: string;
  lockFile: string;
  logFile: string;
  logFormat: string;
  nameConverter: string;
  outgoingChmod: string;
  postXferExec: string;
  preXferExec: string;
  refuseOptions: string;
  secretsFile: string;
  syslogTag: string;
  uid: string;
  path: string;
  tempDir: string;
  maxConnections: number;
  maxVerbosity: number;
  timeout: number;
  syslogFacility: string;
  fakeSuper: boolean;
  forwardLookup: boolean;
  ignoreErrors: boolean;
  ignoreNonreadable: boolean;
  list: boolean;
  readOnly: boolean;
  reverseLookup: boolean;
  strictModes: boolean;
  transferLogging: boolean;
  writeOnly: boolean;
  mungeSymlinks: boolean | undefined;
  numericIds: boolean | undefined;
  openNoatime: boolean | undefined;
  useChroot: boolean | undefined;
}

/** Global-only parameters (loadparm.c global_vars). */
export interface GlobalSettings {
  address: string;
  daemonChroot: string;
  daemonGid: string;
  daemonUid: string;
  motdFile: string;
  pidFile: string;
  socketOptions: string;
  listenBacklog: number;
  port: number;
}

export interface ModuleConfig {
  name: string;
  /** Where the section header is, for messages. */
  line: number;
  settings: ModuleSettings;
}

export interface ConfigWarning {
  file: string;
  line: number;
  text: string;
}

export interface DaemonConfig {
  file: string;
  global: GlobalSettings;
  /** Module settings given in the global section: the defaults of every module. */
  defaults: ModuleSettings;
  modules: ModuleConfig[];
  warnings: ConfigWarning[];
}

/** A malformed configuration: the daemon refuses to start. */
export class ConfigError extends Error {
  constructor(readonly file: string, readonly line: number, readonly text: string) {
    super(line > 0 ? `${file}:${line}: ${text}` : `${file}: ${text}`);
    this.name = 'ConfigError';
  }
}

export const DEFAULT_LOCK_FILE = '/var/run/rsyncd.lock';
export const DEFAULT_LOG_FORMAT = '%o %h [%a] %m (%u) %f %l';
export const DEFAULT_DONT_COMPRESS = '*.gz *.zip *.z *.rpm *.deb *.iso *.bz2'
  + ' *.t[gb]z *.7z *.mp[34] *.mov *.avi *.ogg *.jpg *.jpeg *.png'
  + ' *.lzo *.rzip *.lzma *.rar *.ace *.gpg *.xz *.txz *.lz *.tlz';

export function defaultModuleSettings(): ModuleSettings {
  return {
    authDigest: '', authUsers: '', charset: '', comment: '', dontCompress: DEFAULT_DONT_COMPRESS,
    earlyExec: '', exclude: '', excludeFrom: '', filter: '', gid: '', hostsAllow: '', hostsDeny: '',
    include: '', includeFrom: '', incomingChmod: '', lockFile: DEFAULT_LOCK_FILE, logFile: '',
    logFormat: DEFAULT_LOG_FORMAT, nameConverter: '', outgoingChmod: '', postXferExec: '', preXferExec: '',
    refuseOptions: '', secretsFile: '', syslogTag: 'rsyncd', uid: '', path: '', tempDir: '',
    maxConnections: 0, maxVerbosity: 1, timeout: 0, syslogFacility: 'daemon',
    fakeSuper: false, forwardLookup: true, ignoreErrors: false, ignoreNonreadable: false, list: true,
    readOnly: true, reverseLookup: true, strictModes: true, transferLogging: false, writeOnly: false,
    mungeSymlinks: undefined, numericIds: undefined, openNoatime: undefined, useChroot: undefined,
  };
}

export function defaultGlobalSettings(): GlobalSettings {
  return { address: '', daemonChroot: '', daemonGid: '', daemonUid: '', motdFile: '', pidFile: '', socketOptions: '', listenBacklog: 5, port: 0 };
}

const g = (labels: string[], key: keyof GlobalSettings, type: ParamType): ParamDef => ({ labels, key, type, global: true });
const l = (labels: string[], key: keyof ModuleSettings, type: ParamType): ParamDef => ({ labels, key, type, global: false });

// rsync's daemon-parm.txt, spelled as rsync spells the labels.
const PARAMS: readonly ParamDef[] = [
  g(['address', 'bind address'], 'address', 'string'),
  g(['daemon chroot'], 'daemonChroot', 'string'),
  g(['daemon gid'], 'daemonGid', 'string'),
  g(['daemon uid'], 'daemonUid', 'string'),
  g(['motd file'], 'motdFile', 'string'),
  g(['pid file'], 'pidFile', 'string'),
  g(['socket options'], 'socketOptions', 'string'),
  g(['listen backlog'], 'listenBacklog', 'int'),
  g(['port', 'rsync port'], 'port', 'int'),
  l(['auth digest'], 'authDigest', 'string'),
  l(['auth users'], 'authUsers', 'string'),
  l(['charset'], 'charset', 'string'),
  l(['comment'], 'comment', 'string'),
  l(['dont compress'], 'dontCompress', 'string'),
  l(['early exec'], 'earlyExec', 'string'),
  l(['exclude'], 'exclude', 'string'),
  l(['exclude from'], 'excludeFrom', 'string'),
  l(['filter'], 'filter', 'string'),
  l(['gid'], 'gid', 'string'),
  l(['hosts allow'], 'hostsAllow', 'string'),
  l(['hosts deny'], 'hostsDeny', 'string'),
  l(['include'], 'include', 'string'),
  l(['include from'], 'includeFrom', 'string'),
  l(['incoming chmod'], 'incomingChmod', 'string'),
  l(['lock file'], 'lockFile', 'string'),
  l(['log file'], 'logFile', 'string'),
  l(['log format'], 'logFormat', 'string'),
  l(['name converter'], 'nameConverter', 'string'),
  l(['outgoing chmod'], 'outgoingChmod', 'string'),
  l(['post-xfer exec'], 'postXferExec', 'string'),
  l(['pre-xfer exec'], 'preXferExec', 'string'),
  l(['refuse options'], 'refuseOptions', 'string'),
  l(['secrets file'], 'secretsFile', 'string'),
  l(['syslog tag'], 'syslogTag', 'string'),
  l(['uid'], 'uid', 'string'),
  l(['path'], 'path', 'path'),
  l(['temp dir'], 'tempDir', 'path'),
  l(['max connections'], 'maxConnections', 'int'),
  l(['max verbosity'], 'maxVerbosity', 'int'),
  l(['timeout'], 'timeout', 'int'),
  l(['syslog facility'], 'syslogFacility', 'enum'),
  l(['fake super'], 'fakeSuper', 'bool'),
  l(['forward lookup'], 'forwardLookup', 'bool'),
  l(['ignore errors'], 'ignoreErrors', 'bool'),
  l(['ignore nonreadable'], 'ignoreNonreadable', 'bool'),
  l(['list'], 'list', 'bool'),
  l(['read only'], 'readOnly', 'bool'),
  l(['reverse lookup'], 'reverseLookup', 'bool'),
  l(['strict modes'], 'strictModes', 'bool'),
  l(['transfer logging'], 'transferLogging', 'bool'),
  l(['write only'], 'writeOnly', 'bool'),
  l(['munge symlinks'], 'mungeSymlinks', 'bool3'),
  l(['numeric ids'], 'numericIds', 'bool3'),
  l(['open noatime'], 'openNoatime', 'bool3'),
  l(['use chroot'], 'useChroot', 'bool3'),
];

/** loadparm.c strwiEQ: case-insensitive, every whitespace character ignored. */
const squash = (s: string): string => s.replace(/\s+/g, '').toLowerCase();
const BY_NAME = new Map<string, ParamDef>(PARAMS.flatMap((p) => p.labels.map((lb) => [squash(lb), p] as const)));

export function findParam(name: string): ParamDef | undefined {
  if (name.startsWith('-')) return undefined;
  return BY_NAME.get(squash(name));
}

/** loadparm.c set_boolean; undefined when the word is none of rsync's. */
export function parseBoolean(value: string, allowUnset: boolean): boolean | undefined | 'bad' {
  const v = squash(value);
  if (v === 'yes' || v === 'true' || v === '1') return true;
  if (v === 'no' || v === 'false' || v === '0') return false;
  if (allowUnset && (v === 'unset' || v === '-1')) return undefined;
  return 'bad';
}

interface Line {
  text: string;
  line: number;
}

/** Join backslash-continued lines (params.c Continuation); keep the first line's number. */
function logicalLines(text: string): Line[] {
  const raw = text.split('\n');
  const out: Line[] = [];
  for (let i = 0; i < raw.length; i++) {
    const start = i + 1;
    let acc = raw[i]!.replace(/\r/g, '');
    const trimmedStart = acc.trimStart();
    // A comment line never continues.
    if (!trimmedStart.startsWith('#') && !trimmedStart.startsWith(';')) {
      while (/\\\s*$/.test(acc) && i + 1 < raw.length) {
        acc = acc.replace(/\\\s*$/, '') + raw[++i]!.replace(/\r/g, '');
      }
    }
    out.push({ text: acc, line: start });
  }
  return out;
}

/**
 * Parse rsyncd.conf text. `file` is used in messages only. dparams are
 * `--dparam=NAME=VALUE` overrides, applied as if written at the end of the global
 * section (loadparm.c set_dparams).
 */
export function parseConfig(text: string, file: string, dparams: readonly (readonly [string, string])[] = []): DaemonConfig {
  const cfg: DaemonConfig = { file, global: defaultGlobalSettings(), defaults: defaultModuleSettings(), modules: [], warnings: [] };
  let current: ModuleConfig | undefined;
  let dparamsDone = false;
  const warn = (line: number, t: string): void => { cfg.warnings.push({ file, line, text: t }); };
  const applyDparams = (): void => {
    if (dparamsDone) return;
    dparamsDone = true;
    for (const [name, value] of dparams) setParam(cfg, undefined, name, value.trimStart(), file, 0, warn);
  };

  for (const { text: t, line } of logicalLines(text)) {
    const s = t.trim();
    if (s === '' || s.startsWith('#') || s.startsWith(';')) continue;
    if (s.startsWith('&')) throw new ConfigError(file, line, `unsupported directive: ${s.split(/[\s=]/)[0]}`);
    if (s.startsWith('[')) {
      const close = s.indexOf(']');
      if (close < 0) throw new ConfigError(file, line, `badly formed section header: ${s}`);
      const name = s.slice(1, close).trim().replace(/\s+/g, ' ');
      if (name === '') throw new ConfigError(file, line, 'empty section name');
      if (name.includes('/')) throw new ConfigError(file, line, `invalid section name: ${name}`);
      if (squash(name) === 'global') {
        current = undefined;
        continue;
      }
      applyDparams();
      // loadparm.c add_a_section: a repeated name continues the existing module.
      current = cfg.modules.find((m) => squash(m.name) === squash(name));
      if (!current) {
        current = { name, line, settings: { ...cfg.defaults } };
        cfg.modules.push(current);
      }
      continue;
    }
    const eq = s.indexOf('=');
    if (eq < 0) throw new ConfigError(file, line, `badly formed line (no "="): ${s}`);
    const name = s.slice(0, eq).trim().replace(/\s+/g, ' ');
    if (name === '') throw new ConfigError(file, line, 'invalid parameter name (empty)');
    setParam(cfg, current, name, s.slice(eq + 1).trim(), file, line, warn);
  }
  applyDparams();
  return cfg;
}

function setParam(
  cfg: DaemonConfig, mod: ModuleConfig | undefined, name: string, value: string,
  file: string, line: number, warn: (line: number, t: string) => void,
): void {
  const def = findParam(name);
  if (!def) {
    // loadparm.c map_parameter + do_parameter: these two lines, then carry on.
    warn(line, `Unknown Parameter encountered: "${name}"`);
    warn(line, `IGNORING unknown parameter "${name}"`);
    return;
  }
  if (def.global && mod) {
    warn(line, `Global parameter ${name} found in module section!`);
    return;
  }
  const target = (def.global ? cfg.global : mod ? mod.settings : cfg.defaults) as unknown as Record<string, unknown>;
  switch (def.type) {
    case 'string':
    case 'enum':
      target[def.key] = value;
      return;
    case 'path': {
      // loadparm.c: trailing slashes are dropped (but "/" stays "/").
      let v = value;
      while (v.length > 1 && v.endsWith('/')) v = v.slice(0, -1);
      target[def.key] = v;
      return;
    }
    case 'int': {
      if (!/^[+-]?\d+$/.test(value)) throw new ConfigError(file, line, `badly formed number for "${name}": "${value}"`);
      const n = Number.parseInt(value, 10);
      if (!Number.isSafeInteger(n) || n > 0x7fffffff || n < -0x80000000) throw new ConfigError(file, line, `number out of range for "${name}": "${value}"`);
      target[def.key] = n;
      return;
    }
    case 'octal':
      if (!/^[0-7]+$/.test(value)) throw new ConfigError(file, line, `badly formed octal number for "${name}": "${value}"`);
      target[def.key] = Number.parseInt(value, 8);
      return;
    case 'bool':
    case 'bool3': {
      const b = parseBoolean(value, def.type === 'bool3');
      if (b === 'bad') throw new ConfigError(file, line, `Badly formed boolean in configuration file: "${value}".`);
      target[def.key] = b;
      return;
    }
  }
}

/** Read and parse a config file; a read failure is a ConfigError in rsync's words. */
export function loadConfig(path: string, dparams: readonly (readonly [string, string])[] = []): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(path, 0, `unable to open config file "${path}": ${e.code ?? String(err)}`);
  }
  return parseConfig(text, path, dparams);
}

/** Find a module by name: loadparm.c lp_number compares exactly (the last of equal names wins). */
export function findModule(cfg: DaemonConfig, name: string): ModuleConfig | undefined {
  for (let i = cfg.modules.length - 1; i >= 0; i--) if (cfg.modules[i]!.name === name) return cfg.modules[i];
  return undefined;
}

/**
 * loadparm.c expand_vars: %NAME% is replaced with the environment variable NAME when
 * it is set; anything else is left as written.
 */
export function expandVars(value: string, env: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/%([^%\s]+)%/g, (all, name: string) => env[name] ?? all);
}

/** Validate a `--dparam=NAME=VALUE` (options.c: the name must be a known parameter). */
export function parseDparam(arg: string): [string, string] | string {
  const eq = arg.indexOf('=');
  if (eq <= 0) return `Malformed dparam: ${arg}`;
  const name = arg.slice(0, eq);
  if (!findParam(name)) return `Unknown parameter "${name}"`;
  return [name, arg.slice(eq + 1)];
}
