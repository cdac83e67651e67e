// SPDX-License-Identifier: MIT
// `-u [:]user[:group[:group...]]` for tcpsvd (ipsvd uidgid.c: uidgids_get,
// uidgids_set). Node has no getpwnam, so /etc/passwd and /etc/group are read here
// (compat: NSS sources other than files, e.g. LDAP, are not consulted).
// A leading ':' means numeric ids `:uid:gid[:gid...]`. Without a group the user's
// primary group from passwd is used. The lookups are lib/passwd.ts over the texts
// the caller read; the spec must be decoded the same way as the texts.
import { UserDb } from '../lib/passwd.js';

export interface UidGid {
  uid: number;
  /** gids[0] is the primary group; the rest are supplementary. */
  gids: number[];
}

function scanAll(s: string): number | undefined {
  return /^[0-9]+$/.test(s) ? Number(s) : undefined;
}

/** Parse the spec against passwd/group texts; undefined = unknown user or group. */
export function parseUidGid(spec: string, passwd: string, group: string): UidGid | undefined {
  if (spec.startsWith(':')) {
    const parts = spec.slice(1).split(':');
    if (parts.length < 2) return undefined;
    const ids = parts.map(scanAll);
    if (ids.some((x) => x === undefined)) return undefined;
    return { uid: ids[0]!, gids: ids.slice(1) as number[] };
  }
  const [user, ...groups] = spec.split(':');
  const db = UserDb.fromTexts(passwd, group);
  const pw = db.userByName(user!);
  if (!pw) return undefined;
  if (groups.length === 0) return { uid: pw.uid, gids: [pw.gid] };
  const gids: number[] = [];
  for (const g of groups) {
    const gr = db.groupByName(g);
    if (!gr) return undefined;
    gids.push(gr.gid);
  }
  return { uid: pw.uid, gids };
}
