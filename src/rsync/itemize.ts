// SPDX-License-Identifier: MIT
// The per-item flags a generator sends with each file-list index (rsync.h ITEM_*)
// and their text forms for transfer-log lines: the `%i` string (log.c
// log_formatted), and the `%B` permission string. Pure functions; the
// sender reports them with each logged item (server.ts TransferEvent).
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './wire/flist.js';

export const ITEM_REPORT_ATIME = 1 << 0;
export const ITEM_REPORT_CHANGE = 1 << 1;
export const ITEM_REPORT_SIZE = 1 << 2;
export const ITEM_REPORT_TIME = 1 << 3;
export const ITEM_REPORT_PERMS = 1 << 4;
export const ITEM_REPORT_OWNER = 1 << 5;
export const ITEM_REPORT_GROUP = 1 << 6;
export const ITEM_REPORT_ACL = 1 << 7;
export const ITEM_REPORT_XATTR = 1 << 8;
export const ITEM_REPORT_CRTIME = 1 << 10;
export const ITEM_BASIS_TYPE_FOLLOWS = 1 << 11;
export const ITEM_XNAME_FOLLOWS = 1 << 12;
export const ITEM_IS_NEW = 1 << 13;
export const ITEM_LOCAL_CHANGE = 1 << 14;
export const ITEM_TRANSFER = 1 << 15;

/** rsync.h SIGNIFICANT_ITEM_FLAGS: the bits that make an item worth reporting. */
export const SIGNIFICANT_ITEM_FLAGS = ~(ITEM_BASIS_TYPE_FOLLOWS | ITEM_XNAME_FOLLOWS | ITEM_LOCAL_CHANGE) & 0xffff;


/** How the sender's options shape the `%i` letters. */
export interface ItemizeOptions {
  /** We are the sending side (`<` for a transfer). */
  sender: boolean;
  /** -t: `t` instead of `T` for a time change. */
  times: boolean;
  /** The receiver sets symlink times (compat CF_SYMLINK_TIMES): `t` for symlinks too. */
  symlinkTimes: boolean;
}

/** log.c log_formatted, case 'i': the 11-letter itemized change string. */
export function itemizeString(iflags: number, mode: number, o: ItemizeOptions): string {
  const type = mode & S_IFMT;
  const c: string[] = [];
  c[0] = iflags & ITEM_LOCAL_CHANGE ? (iflags & ITEM_XNAME_FOLLOWS ? 'h' : 'c')
    : !(iflags & ITEM_TRANSFER) ? '.'
      : o.sender ? '<' : '>';
  c[1] = type === S_IFLNK ? 'L' : type === S_IFDIR ? 'd' : type === S_IFCHR || type === S_IFBLK ? 'D' : type === S_IFREG ? 'f' : 'S';
  c[2] = iflags & ITEM_REPORT_CHANGE ? 'c' : '.';
  c[3] = iflags & ITEM_REPORT_SIZE ? 's' : '.';
  c[4] = !(iflags & ITEM_REPORT_TIME) ? '.' : !o.times || (type === S_IFLNK && !o.symlinkTimes) ? 'T' : 't';
  c[5] = iflags & ITEM_REPORT_PERMS ? 'p' : '.';
  c[6] = iflags & ITEM_REPORT_OWNER ? 'o' : '.';
  c[7] = iflags & ITEM_REPORT_GROUP ? 'g' : '.';
  const at = iflags & ITEM_REPORT_ATIME;
  const cr = iflags & ITEM_REPORT_CRTIME;
  c[8] = at && cr ? 'b' : at ? 'u' : cr ? 'n' : '.';
  c[9] = iflags & ITEM_REPORT_ACL ? 'a' : '.';
  c[10] = iflags & ITEM_REPORT_XATTR ? 'x' : '.';
  if (iflags & ITEM_IS_NEW) {
    for (let i = 2; i < c.length; i++) c[i] = '+';
  } else if ((c[0] === '.' || c[0] === 'h' || c[0] === 'c') && c.slice(2).every((x) => x === '.')) {
    for (let i = 2; i < c.length; i++) c[i] = ' ';
  }
  return c.join('');
}

/** log.c case 'B': the nine permission letters, with setuid/setgid/sticky as s/S and t/T. */
export function permString(mode: number): string {
  const bit = (m: number, ch: string): string => (mode & m ? ch : '-');
  const special = (x: number, s: number, lower: string, upper: string): string =>
    mode & s ? (mode & x ? lower : upper) : bit(x, 'x');
  return bit(0o400, 'r') + bit(0o200, 'w') + special(0o100, 0o4000, 's', 'S')
    + bit(0o040, 'r') + bit(0o020, 'w') + special(0o010, 0o2000, 's', 'S')
    + bit(0o004, 'r') + bit(0o002, 'w') + special(0o001, 0o1000, 't', 'T');
}
