// SPDX-License-Identifier: MIT
// User and group names to ids for the module `uid` and `gid` settings, as rsync's
// uidlist.c user_to_uid / group_to_gid with numbers allowed: a name is looked up in
// /etc/passwd or /etc/group (lib/passwd.ts), an all-digit value is taken as the id
// itself. Names come from rsyncd.conf as UTF-8 text and are matched by their bytes.
// compat: Node has no getpwnam/getgrnam; only the files are consulted, not NSS.
import { latin1Name, UserDb } from '../lib/passwd.js';

const isId = (s: string): boolean => /^[0-9]+$/.test(s);

export function userToUid(name: string, db: UserDb = UserDb.files()): number | undefined {
  return isId(name) ? Number(name) : db.userByName(latin1Name(name))?.uid;
}

export function groupToGid(name: string, db: UserDb = UserDb.files()): number | undefined {
  return isId(name) ? Number(name) : db.groupByName(latin1Name(name))?.gid;
}

/**
 * `gid = *`: every group of the module's user, as clientserver.c want_all_groups
 * gets them (uidlist.c getallgroups: getpwuid of the uid, then its getgrouplist);
 * [] when the user is unknown.
 */
export function userGroupIds(user: string, db: UserDb = UserDb.files()): number[] {
  const uid = userToUid(user, db);
  const pw = uid === undefined ? undefined : db.userById(uid);
  return pw ? db.groupIdsOf(pw) ?? [] : [];
}
