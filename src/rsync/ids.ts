// SPDX-License-Identifier: MIT
// uid/gid → name for the id lists of the file list (uidlist.c: add_uid, add_gid).
// Node has no getpwuid/getgrgid: the names come from /etc/passwd and /etc/group,
// read once per connection; an id without an entry is sent without a name.
import { readFileSync } from 'node:fs';

function table(file: string): Map<number, string> {
  const m = new Map<number, string>();
  let text = '';
  try {
    text = readFileSync(file, 'latin1');
  } catch {
    return m;
  }
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue;
    const id = Number(f[2]);
    if (!m.has(id) && f[0]!.length > 0 && f[0]!.length <= 255) m.set(id, f[0]!);
  }
  return m;
}

export class IdNames {
  private users: Map<number, string> | undefined;
  private groups: Map<number, string> | undefined;

  user(uid: number): string | undefined {
    this.users ??= table('/etc/passwd');
    return this.users.get(uid);
  }

  group(gid: number): string | undefined {
    this.groups ??= table('/etc/group');
    return this.groups.get(gid);
  }
}
