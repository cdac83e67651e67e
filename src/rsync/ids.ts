// SPDX-License-Identifier: MIT
// uid/gid → name for the id lists of the file list (uidlist.c: add_uid, add_gid).
// Node has no getpwuid/getgrgid: the names come from /etc/passwd and /etc/group
// (lib/passwd.ts), read once per connection; an id without an entry is sent without
// a name. The names are latin1 strings, one char per byte, as the wire wants them.
import { UserDb } from '../lib/passwd.js';

/** The id list carries a name's length in one byte. */
const MAX_NAME = 255;

export class IdNames {
  constructor(private readonly db: UserDb = UserDb.files()) {}

  user(uid: number): string | undefined {
    return this.db.users().find((e) => e.uid === uid && e.name.length <= MAX_NAME)?.name;
  }

  group(gid: number): string | undefined {
    return this.db.groups().find((e) => e.gid === gid && e.name.length <= MAX_NAME)?.name;
  }
}
