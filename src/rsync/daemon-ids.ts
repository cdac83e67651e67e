// SPDX-License-Identifier: MIT
// User and group names to ids for the module `uid` and `gid` settings, as rsync's
// uidlist.c user_to_uid / group_to_gid with numbers allowed: a name is looked up in
// /etc/passwd or /etc/group, an all-digit value is taken as the id itself.
// compat: Node has no getpwnam/getgrnam; only the files are consulted, not NSS.
import { readFileSync } from 'node:fs';

function lookup(file: string, name: string, field: number): number | undefined {
  if (/^\d+$/.test(name)) return Number(name);
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === name && f[field] !== undefined && /^\d+$/.test(f[field]!)) return Number(f[field]);
    }
  } catch { /* unreadable: unknown */ }
  return undefined;
}

export function userToUid(name: string, passwd = '/etc/passwd'): number | undefined {
  return lookup(passwd, name, 2);
}

export function groupToGid(name: string, group = '/etc/group'): number | undefined {
  return lookup(group, name, 2);
}
