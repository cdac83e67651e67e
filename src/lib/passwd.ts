// SPDX-License-Identifier: MIT
// /etc/passwd and /etc/group: the answers getpwnam, getpwuid, getgrnam, getgrgid and
// getgrouplist give from the `files` NSS source (glibc nss_files), for the applets
// that need them (rsyncd's id lists, module uid/gid and @group auth; tcpsvd -u).
// Node has none of those calls, so the files are parsed here: pure parsers over the
// text, and a reader (one per invocation) that loads each file lazily, once.
// compat: only the files are consulted; NSS sources such as LDAP or systemd's
// dynamic users are not.
// As nss_files does: empty lines and lines starting with '#' are ignored, a line
// that does not parse (too few fields, an empty name, an id that is not all
// digits) is skipped, and the first entry that matches wins.
import { readFileSync } from 'node:fs';

export interface PasswdEntry { name: string; uid: number; gid: number }
export interface GroupEntry { name: string; gid: number; members: string[] }

const digits = (s: string | undefined): number | undefined => (s !== undefined && /^[0-9]+$/.test(s) ? Number(s) : undefined);

/** The entries of a passwd(5) text, malformed lines and comments left out. */
export function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const f of records(text)) {
    const uid = digits(f[2]);
    const gid = digits(f[3]);
    if (f[0] === '' || uid === undefined || gid === undefined) continue;
    out.push({ name: f[0]!, uid, gid });
  }
  return out;
}

/** The entries of a group(5) text; a missing member list is an empty one. */
export function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const f of records(text)) {
    const gid = digits(f[2]);
    if (f[0] === '' || gid === undefined) continue;
    out.push({ name: f[0]!, gid, members: (f[3] ?? '').split(',').filter((m) => m !== '') });
  }
  return out;
}

function records(text: string): string[][] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
}

/**
 * Lookups over one passwd and one group text, each fetched on first use only.
 * Make one per invocation (per connection for rsyncd), so edits to the files are
 * seen by the next one and nothing lives in module state.
 */
export class UserDb {
  #users: PasswdEntry[] | undefined;
  #groups: GroupEntry[] | undefined;

  constructor(private readonly passwdText: () => string, private readonly groupText: () => string) {}

  /**
   * The system files. They are decoded as latin1, one char per byte, so a name
   * keeps its exact bytes (rsync sends them on the wire and limits them to 255
   * bytes; rsync's wire strings are latin1 here too). A name that came in as UTF-8
   * text (a config file, argv) must be matched with `latin1Name`. An unreadable
   * file has no entries, as for getpwnam.
   */
  static files(passwd = '/etc/passwd', group = '/etc/group'): UserDb {
    return new UserDb(() => readOrEmpty(passwd), () => readOrEmpty(group));
  }

  /** Over texts already in hand (tests, callers that read the files themselves). */
  static fromTexts(passwd: string, group: string): UserDb {
    return new UserDb(() => passwd, () => group);
  }

  /** Every passwd entry, in file order. */
  users(): readonly PasswdEntry[] {
    return (this.#users ??= parsePasswd(this.passwdText()));
  }

  /** Every group entry, in file order. */
  groups(): readonly GroupEntry[] {
    return (this.#groups ??= parseGroup(this.groupText()));
  }

  /** getpwnam */
  userByName(name: string): PasswdEntry | undefined {
    return this.users().find((e) => e.name === name);
  }

  /** getpwuid */
  userById(uid: number): PasswdEntry | undefined {
    return this.users().find((e) => e.uid === uid);
  }

  /** getgrnam */
  groupByName(name: string): GroupEntry | undefined {
    return this.groups().find((e) => e.name === name);
  }

  /** getgrgid */
  groupById(gid: number): GroupEntry | undefined {
    return this.groups().find((e) => e.gid === gid);
  }

  /**
   * getgrouplist(pw_name, pw_gid) for a user given by name or by its passwd entry:
   * the primary gid first, then every group that lists the user as a member, each
   * gid once. Undefined when there is no such user.
   */
  groupIdsOf(user: string | PasswdEntry): number[] | undefined {
    const pw = typeof user === 'string' ? this.userByName(user) : user;
    if (!pw) return undefined;
    const gids = [pw.gid];
    for (const g of this.groups()) if (g.members.includes(pw.name) && !gids.includes(g.gid)) gids.push(g.gid);
    return gids;
  }
}

/** A UTF-8 string as the latin1 string of its bytes, to match names from `UserDb.files`. */
export function latin1Name(utf8: string): string {
  return Buffer.from(utf8, 'utf8').toString('latin1');
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return '';
  }
}
