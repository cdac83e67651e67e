// SPDX-License-Identifier: MIT
// `-u [:]user[:group[:group...]]` for tcpsvd (ipsvd uidgid.c: uidgids_get,
// uidgids_set). Node has no getpwnam, so /etc/passwd and /etc/group are read here
// (compat: NSS sources other than files, e.g. LDAP, are not consulted).
// A leading ':' means numeric ids `:uid:gid[:gid...]`. Without a group the user's
// primary group from passwd is used.

export interface UidGid {
  uid: number;
  /** gids[0] is the primary group; the rest are supplementary. */
  gids: number[];
}

function table(text: string): string[][] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).map((l) => l.split(':'));
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
  const pw = table(passwd).find((f) => f[0] === user);
  if (!pw || pw.length < 4) return undefined;
  const uid = scanAll(pw[2]!);
  const gid = scanAll(pw[3]!);
  if (uid === undefined || gid === undefined) return undefined;
  if (groups.length === 0) return { uid, gids: [gid] };
  const gr = table(group);
  const gids: number[] = [];
  for (const g of groups) {
    const e = gr.find((f) => f[0] === g);
    const id = e ? scanAll(e[2] ?? '') : undefined;
    if (id === undefined) return undefined;
    gids.push(id);
  }
  return { uid, gids };
}
