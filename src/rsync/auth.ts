// SPDX-License-Identifier: MIT
// Daemon authentication, as rsync's authenticate.c auth_server and compat.c
// negotiate_daemon_auth do it: the digest is negotiated from the client's greeting
// list, the challenge is fresh randomness hashed with that digest, the response is
// base64 (no padding) of H(password || challenge), `auth users` rules decide who may
// try (first matching rule wins; :deny, :ro, :rw), and the secrets file supplies the
// password (strict modes: not other-accessible, root-owned when we are root).
// Pure parts (rules, digests, choice) are separate from the secrets-file read.
// compat: @group rules look the user up in /etc/passwd and /etc/group directly
// (lib/passwd.ts; Node has no getgrouplist); NSS sources such as LDAP are not consulted.
// compat: the response is compared in constant time (crypto.timingSafeEqual); rsync
// uses strcmp.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, constants } from 'node:fs';
import { md4 } from 'hash-wasm';
import { UserDb } from '../lib/passwd.js';
import { wildmatch } from './wildmatch.js';

/** The digests we accept for daemon auth, strongest first (rsync 3.5's own list). */
export const AUTH_DIGESTS = ['sha512', 'sha256', 'sha1', 'md5', 'md4'] as const;
export type AuthDigest = (typeof AUTH_DIGESTS)[number] | 'md4-old';

/**
 * compat.c negotiate_daemon_auth on the server: the client's list in its order;
 * the first name we support wins (that is also what the client picks from ours).
 * No list: md5 at protocol >= 30, the seeded "old" md4 below.
 * Returns undefined when there is nothing in common.
 */
export function chooseAuthDigest(clientList: string | undefined, protocol: number): AuthDigest | undefined {
  if (clientList === undefined) return protocol >= 30 ? 'md5' : 'md4-old';
  for (const name of clientList.split(' ')) {
    if ((AUTH_DIGESTS as readonly string[]).includes(name)) return name as AuthDigest;
  }
  return undefined;
}

/** authenticate.c base64_encode with pad = 0. */
export function base64NoPad(b: Uint8Array): string {
  return Buffer.from(b).toString('base64').replace(/=+$/, '');
}

async function digest(alg: AuthDigest, parts: readonly Uint8Array[]): Promise<Uint8Array> {
  if (alg === 'md4' || alg === 'md4-old') {
    // checksum.c sum_init: the old md4 starts with a 4-byte seed, 0 for auth.
    const all = Buffer.concat(alg === 'md4-old' ? [Buffer.alloc(4), ...parts] : [...parts]);
    return Buffer.from(await md4(all), 'hex');
  }
  const h = createHash(alg);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** authenticate.c gen_challenge: 32 random bytes mixed with address, time and pid, hashed. */
export async function makeChallenge(alg: AuthDigest, addr: string, pid = process.pid, now = Date.now()): Promise<string> {
  const input = Buffer.alloc(32);
  input.write(addr.slice(0, 16), 0, 'latin1');
  input.writeUInt32LE(Math.floor(now / 1000) >>> 0, 16);
  input.writeUInt32LE(((now % 1000) * 1000) >>> 0, 20);
  input.writeUInt32LE(pid >>> 0, 24);
  return base64NoPad(await digest(alg, [randomBytes(32), input]));
}

/** authenticate.c generate_hash: what a client holding `password` answers to `challenge`. */
export async function authResponse(alg: AuthDigest, password: string, challenge: string): Promise<string> {
  return base64NoPad(await digest(alg, [Buffer.from(password, 'latin1'), Buffer.from(challenge, 'latin1')]));
}

/** Constant-time string equality (the length is no secret: it follows from the digest). */
export function sameResponse(a: string, b: string): boolean {
  const x = Buffer.from(a, 'latin1');
  const y = Buffer.from(b, 'latin1');
  return x.length === y.length && timingSafeEqual(x, y);
}

export interface AuthRule {
  pattern: string;
  group: boolean;
  /** 'd' deny, 'r' read-only, 'w' read-write, '' no override. */
  opt: '' | 'd' | 'r' | 'w';
}

/**
 * loadparm conf_strtok: a value starting with a comma splits on commas only (so a
 * group name may hold spaces); otherwise on commas and whitespace.
 */
export function confTokens(value: string): string[] {
  const sep = value.startsWith(',') ? /,+/ : /[\s,]+/;
  return value.split(sep).map((s) => (value.startsWith(',') ? s.trim() : s)).filter((s) => s !== '');
}

/** authenticate.c auth_server: the rule list of `auth users`. */
export function parseAuthUsers(value: string): AuthRule[] {
  return confTokens(value).map((tok) => {
    const colon = tok.indexOf(':');
    const name = colon < 0 ? tok : tok.slice(0, colon);
    const opts = colon < 0 ? '' : tok.slice(colon + 1).toLowerCase();
    let opt: AuthRule['opt'] = '';
    if (opts.startsWith('d')) opt = 'd';
    else if (opts.startsWith('ro')) opt = 'r';
    else if (opts.startsWith('rw')) opt = 'w';
    return name.startsWith('@') ? { pattern: name.slice(1), group: true, opt } : { pattern: name, group: false, opt };
  });
}

export interface RuleMatch {
  rule: AuthRule;
  /** The matching group name, for @group rules. */
  group?: string;
}

/** The first rule that matches the user (by name, or by one of the user's groups). */
export function matchAuthRule(rules: readonly AuthRule[], user: string, groupsOf: (user: string) => string[]): RuleMatch | undefined {
  let groups: string[] | undefined;
  for (const rule of rules) {
    if (!rule.group) {
      if (wildmatch(rule.pattern, user)) return { rule };
      continue;
    }
    groups ??= groupsOf(user);
    const g = groups.find((x) => wildmatch(rule.pattern, x));
    if (g !== undefined) return { rule, group: g };
  }
  return undefined;
}

/**
 * Unix groups of a user by name, as authenticate.c's @group check sees them: the user
 * is looked up by name for its uid (user_to_uid), the groups are getallgroups' for
 * that uid (getpwuid, then getgrouplist: primary first), each named by its first
 * /etc/group entry (gid_to_group); [] for an unknown user. `user` is a wire (latin1)
 * string, as UserDb's names are.
 */
export function unixGroupsOf(user: string, db: UserDb = UserDb.files()): string[] {
  const named = db.userByName(user);
  const pw = named && db.userById(named.uid);
  const names: string[] = [];
  for (const gid of (pw && db.groupIdsOf(pw)) ?? []) {
    const name = db.groupById(gid)?.name;
    if (name !== undefined && !names.includes(name)) names.push(name);
  }
  return names;
}

export interface SecretsCheck {
  file: string;
  strictModes: boolean;
  /** Our effective uid (root must see a root-owned file). */
  uid: number;
}

/** Why a login failed, in authenticate.c's words, or undefined when it succeeded; log lines go to `log`. */
export async function checkSecret(
  s: SecretsCheck, user: string, group: string | undefined, alg: AuthDigest,
  challenge: string, response: string, log: (line: string) => void,
): Promise<string | undefined> {
  if (!s.file) return 'no secrets file';
  let text: string;
  let fd: number;
  try {
    // O_NOFOLLOW: a planted symlink must not turn another file into our secrets.
    fd = openSync(s.file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return 'no secrets file';
  }
  try {
    const st = fstatSync(fd);
    if (s.strictModes) {
      if ((st.mode & 0o006) !== 0) {
        log('secrets file must not be other-accessible (see strict modes option)');
        return 'ignoring secrets file';
      }
      if (s.uid === 0 && st.uid !== 0) {
        log('secrets file must be owned by root when running as root (see strict modes)');
        return 'ignoring secrets file';
      }
    }
    // A secrets file is small; read at most 1 MiB of it.
    const buf = Buffer.alloc(Math.min(st.size, 1 << 20));
    const n = buf.length ? readSync(fd, buf, 0, buf.length, 0) : 0;
    text = buf.subarray(0, n).toString('latin1');
  } finally {
    closeSync(fd);
  }
  if (user.startsWith('#')) return 'invalid username';
  let wantUser: string | undefined = user;
  let wantGroup = group;
  let err = 'secret not found';
  for (const raw of text.split('\n')) {
    if (wantUser === undefined && wantGroup === undefined) break;
    const line = raw.split('\r')[0]!;
    if (line === '') continue;
    const isGroup = line.startsWith('@');
    const body = isGroup ? line.slice(1) : line;
    const want = isGroup ? wantGroup : wantUser;
    if (want === undefined || !body.startsWith(`${want}:`)) continue;
    const expected = await authResponse(alg, body.slice(want.length + 1), challenge);
    if (sameResponse(expected, response)) return undefined;
    err = 'password mismatch';
    // Only the first line for a name is tried.
    if (isGroup) wantGroup = undefined;
    else wantUser = undefined;
  }
  return err;
}
