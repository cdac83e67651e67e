// SPDX-License-Identifier: MIT
// Per-client instructions for tcpsvd, as ipsvd-instruct(5) defines them and
// ipsvd 1.0.0 applies them (ipsvd_check.c: ipsvd_check_dir, ipsvd_check_cdb,
// ipsvd_check_direntry, ipsvd_instruct). An entry is looked up by the client's
// address (a.b.c.d, a.b.c, a.b, a), then by its host name and the name's
// suffixes, then `0`; the first entry found decides: deny, exec (run
// `/bin/sh -c CONTENT` instead of prog) or instructions (+VAR=VALUE, +VAR, Cn[:msg],
// =HOST[:FILE], # comments). Entries come from a directory (-i, file permissions
// decide the kind) or from a cdb made by ipsvd-cdb (-x, the last byte D/X/I
// decides). Nothing here prints: warnings are returned for the applet to print.
// A failure to read the rules is an error for the caller (the connection is
// dropped), never "allow".
// compat: IPv6 clients (ipsvd is IPv4-only) are looked up by the full address,
// then by the address with trailing `:` groups removed, then `0`.
// compat: `=HOST` names are resolved with the system resolver (/etc/hosts first);
// ipsvd asks DNS directly.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, type Stats } from 'node:fs';
import { isIP } from 'node:net';
import { cdbFind, fdReader } from './cdb.js';

export type Verdict = 'default' | 'instruct' | 'exec' | 'deny';

/** One environment change, applied in order (pathexec_env): a value sets, undefined removes. */
export type EnvOp = readonly [name: string, value: string | undefined];

export interface CheckResult {
  verdict: Verdict;
  /** What matched, as ipsvd logs it: `DIR/KEY` for -i, `KEY` for -x (the caller adds `CDB/`), '' for none. */
  match: string;
  env: EnvOp[];
  /** For exec: the shell command. */
  exec?: string;
  /** `Cn[:msg]` override of the per-host limit; max 0 disables the check for this connection. */
  limit?: { max: number; msg?: string };
  /** The instruction text as -vv logs it: lines joined by NUL. */
  text: string;
  warnings: string[];
}

/** Raised when the rules cannot be read: ipsvd drops the connection (exit 111). */
export class RulesError extends Error {
  constructor(readonly what: 'read' | 'check', readonly path: string, readonly reason?: unknown) {
    super(`${what} ${path}`);
    this.name = 'RulesError';
  }
}

export interface CheckOptions {
  /** Remote host name from -h, or undefined. */
  name?: string;
  /** -t: seconds after which a writable instruction file is expired (dir only). */
  timeout?: number;
  /** The -C limit in effect (C lines are ignored without one). */
  limit?: { max: number; msg?: string };
  /** Addresses of HOST for `=HOST` lines; throws or returns [] when it has none. */
  resolve: (host: string) => Promise<string[]>;
  now?: number;
}

/** The keys to try for ip and name, in ipsvd's order (without the final `0`). */
export function lookupKeys(ip: string, name?: string): string[] {
  const keys: string[] = [];
  const sep = ip.includes(':') ? ':' : '.';
  let k = ip;
  for (;;) {
    if (k !== '' && !k.endsWith(':')) keys.push(k);
    const i = k.lastIndexOf(sep);
    if (i <= 0) break;
    k = k.slice(0, i);
  }
  if (name !== undefined) {
    let n = name;
    for (;;) {
      if (n === '' || n.startsWith('.')) break;
      keys.push(n);
      const i = n.indexOf('.');
      if (i < 0) break;
      n = n.slice(i + 1);
    }
  }
  keys.push('0');
  return keys;
}

/** ipsvd_fmt_msg: `\\` `\n` `\r` escapes; any other `\x` stays as written; a final `\` stays. */
export function formatMessage(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') { out += c; continue; }
    const n = s[i + 1];
    if (n === undefined || n === '\\') { out += '\\'; if (n) i++; continue; }
    if (n === 'n') { out += '\n'; i++; continue; }
    if (n === 'r') { out += '\r'; i++; continue; }
    out += c + n;
    i++;
  }
  return out;
}

/** scan_ulong: leading decimal digits; returns value and how many characters were used. */
export function scanUlong(s: string): [number, number] {
  let i = 0;
  let v = 0;
  while (i < s.length && s.charCodeAt(i) >= 48 && s.charCodeAt(i) <= 57) {
    v = v * 10 + (s.charCodeAt(i) - 48);
    i++;
  }
  return [v, i];
}

interface Instructed {
  verdict: 'instruct' | 'deny';
  env: EnvOp[];
  limit?: { max: number; msg?: string };
  /** Lines that took effect (up to and including a matching `=` line). */
  lines: string[];
  forward?: string;
  warnings: string[];
}

/** ipsvd_instruct: apply instruction lines; ip is undefined for a forwarded file (its `=` lines are ignored). */
export async function instruct(lines: readonly string[], match: string, ip: string | undefined, opts: CheckOptions, limitIn = opts.limit): Promise<Instructed> {
  const env: EnvOp[] = [];
  const warnings: string[] = [];
  let limit = limitIn;
  let max = limit?.max ?? 0;
  let rc: 'default' | 'deny' = 'default';
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!;
    switch (line[0]) {
      case '+': {
        const eq = line.indexOf('=');
        if (eq === 1 || line.length === 1) break;
        if (eq > 1) env.push([line.slice(1, eq), line.slice(eq + 1)]);
        else env.push([line.slice(1), undefined]);
        break;
      }
      case 'C': {
        if (max === 0) break;
        const [v, used] = scanUlong(line.slice(1));
        max = v;
        limit = { max: v, ...(limit?.msg !== undefined ? { msg: limit.msg } : {}) };
        if (line[used + 1] === ':') limit.msg = formatMessage(line.slice(used + 2));
        break;
      }
      case '=': {
        if (ip === undefined) break;
        rc = 'deny';
        const colon = line.indexOf(':', 1);
        const hostPart = colon < 0 ? line.slice(1) : line.slice(1, colon);
        const fwd = colon < 0 ? '' : line.slice(colon + 1);
        const host = hostPart === '0' ? ip : hostPart;
        let addrs: string[];
        try {
          addrs = await opts.resolve(host);
        } catch (err) {
          warnings.push(`unable to look up ip address: ${host}${errText(err)}`);
          break;
        }
        if (addrs.length === 0) {
          warnings.push(`unable to look up ip address: ${host}`);
          break;
        }
        if (addrs.includes(ip)) {
          const taken = lines.slice(0, n + 1);
          return { verdict: 'instruct', env, ...(limit ? { limit } : {}), lines: taken, ...(fwd !== '' ? { forward: fwd } : {}), warnings };
        }
        break;
      }
      case undefined:
      case '#':
        break;
      default:
        warnings.push(`bad instruction: ${match}: ${line}`);
    }
  }
  return { verdict: rc === 'deny' ? 'deny' : 'instruct', env, ...(limit ? { limit } : {}), lines: [...lines], warnings };
}

function errText(err: unknown): string {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code ? `: ${code}` : '';
}

/** One entry, read from a file or a cdb value. */
type Entry = { kind: 'deny' } | { kind: 'exec'; text: string } | { kind: 'instruct'; lines: string[] };

function stripNl(s: string): string {
  return s.endsWith('\n') ? s.slice(0, -1) : s;
}

/** ipsvd_check_direntry: undefined when absent (or expired by -t). */
function dirEntry(path: string, opts: CheckOptions): Entry | undefined {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new RulesError('check', path, err);
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const atime = Math.floor(st.atimeMs / 1000);
  if (opts.timeout && (st.mode & 0o200) && now >= atime && now - atime >= opts.timeout) {
    try { unlinkSync(path); } catch { /* ipsvd warns and carries on; so do we, silently */ }
    return undefined;
  }
  if (!(st.mode & 0o100) && !(st.mode & 0o400)) return { kind: 'deny' };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new RulesError('check', path, err);
  }
  if (st.mode & 0o100) return { kind: 'exec', text: stripNl(text) };
  return { kind: 'instruct', lines: stripNl(text).split('\n') };
}

/** A cdb value: last byte D, X or I (ipsvd_check_cdbentry); other values count as absent. */
export function cdbEntry(value: Buffer): Entry | undefined {
  if (value.length === 0) throw new RulesError('check', 'empty cdb value');
  const kind = value[value.length - 1];
  const body = value.subarray(0, value.length - 1).toString('utf8');
  if (kind === 0x44) return { kind: 'deny' };
  if (kind === 0x58) return { kind: 'exec', text: body };
  if (kind === 0x49) return { kind: 'instruct', lines: body.split('\0') };
  return undefined;
}

type Source = { get(key: string): Entry | undefined; label(key: string): string; close(): void };

function dirSource(dir: string, opts: CheckOptions): Source {
  try {
    statSync(dir);
  } catch (err) {
    throw new RulesError('read', dir, err);
  }
  return { get: (k) => dirEntry(`${dir}/${k}`, opts), label: (k) => `${dir}/${k}`, close() {} };
}

function cdbSource(path: string): Source {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (err) {
    throw new RulesError('read', path, err);
  }
  const read = fdReader(fd);
  return {
    get(k) {
      let v: Buffer | undefined;
      try {
        v = cdbFind(read, Buffer.from(k));
      } catch (err) {
        throw new RulesError('check', path, err);
      }
      return v === undefined ? undefined : cdbEntry(v);
    },
    label: (k) => k,
    close: () => closeSync(fd),
  };
}

/** ipsvd_check: look up the client in a directory (-i) or cdb (-x). */
export async function check(kind: 'dir' | 'cdb', where: string, ip: string, opts: CheckOptions): Promise<CheckResult> {
  const src = kind === 'dir' ? dirSource(where, opts) : cdbSource(where);
  try {
    return await checkIn(src, ip, opts);
  } finally {
    src.close();
  }
}

async function checkIn(src: Source, ip: string, opts: CheckOptions): Promise<CheckResult> {
  for (const key of lookupKeys(ip, opts.name)) {
    const e = src.get(key);
    if (!e) continue;
    const match = src.label(key);
    if (e.kind === 'deny') return { verdict: 'deny', match, env: [], text: '', warnings: [] };
    if (e.kind === 'exec') return { verdict: 'exec', match, env: [], exec: e.text, text: e.text, warnings: [] };
    const r = await instruct(e.lines, match, ip, opts);
    const base: CheckResult = { verdict: r.verdict, match, env: r.env, ...(r.limit ? { limit: r.limit } : {}), text: r.lines.join('\0'), warnings: r.warnings };
    if (r.forward === undefined) return base;
    // ipsvd_check_dir `forwarded:` — the named entry decides, its `=` lines are ignored.
    const fmatch = `${match},${r.forward}`;
    const f = src.get(r.forward);
    if (!f) return { ...base, verdict: 'deny', match: fmatch, warnings: [...r.warnings, `${fmatch}: not found`] };
    if (f.kind === 'deny') return { ...base, verdict: 'deny', match: fmatch, text: `${base.text}\0` };
    if (f.kind === 'exec') return { ...base, verdict: 'exec', match: fmatch, exec: f.text, text: f.text };
    const fr = await instruct(f.lines, fmatch, undefined, opts, r.limit);
    return {
      verdict: 'instruct', match: fmatch, env: [...r.env, ...fr.env],
      ...(fr.limit ? { limit: fr.limit } : {}),
      text: `${base.text}\0${fr.lines.join('\0')}`, warnings: [...r.warnings, ...fr.warnings],
    };
  }
  return { verdict: 'default', match: '', env: [], text: '', warnings: [] };
}

/** Addresses for `=HOST` given literally (no lookup needed); undefined for a name. */
export function literalAddress(host: string): string[] | undefined {
  return isIP(host) ? [host] : undefined;
}
