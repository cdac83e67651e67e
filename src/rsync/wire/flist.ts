// SPDX-License-Identifier: MIT
// File-list entry encoding for protocol 30 and later (flist.c: send_file_entry,
// write_end_of_flist, and uidlist.c: send_id_lists). The "previous entry" state lives
// in an FlistEncoder, one per connection. Names and link targets are latin1 strings
// (one char per byte), so file names travel byte for byte.
import { OutBuf } from './codec.js';

export const XMIT_TOP_DIR = 1 << 0;
export const XMIT_SAME_MODE = 1 << 1;
export const XMIT_EXTENDED_FLAGS = 1 << 2;
export const XMIT_SAME_UID = 1 << 3;
export const XMIT_SAME_GID = 1 << 4;
export const XMIT_SAME_NAME = 1 << 5;
export const XMIT_LONG_NAME = 1 << 6;
export const XMIT_SAME_TIME = 1 << 7;
export const XMIT_SAME_RDEV_MAJOR = 1 << 8;
export const XMIT_NO_CONTENT_DIR = 1 << 8;
export const XMIT_HLINKED = 1 << 9;
export const XMIT_USER_NAME_FOLLOWS = 1 << 10;
export const XMIT_GROUP_NAME_FOLLOWS = 1 << 11;
export const XMIT_HLINK_FIRST = 1 << 12;
export const XMIT_IO_ERROR_ENDLIST = 1 << 12;
export const XMIT_MOD_NSEC = 1 << 13;
export const XMIT_SAME_ATIME = 1 << 14;
export const XMIT_CRTIME_EQ_MTIME = 1 << 17;

export const S_IFMT = 0o170000;
export const S_IFREG = 0o100000;
export const S_IFDIR = 0o040000;
export const S_IFLNK = 0o120000;
export const S_IFCHR = 0o020000;
export const S_IFBLK = 0o060000;
export const S_IFIFO = 0o010000;
export const S_IFSOCK = 0o140000;

/** What the encoder needs of one entry. */
export interface WireEntry {
  name: string;
  mode: number;
  size: number;
  mtime: number;
  nsec: number;
  uid: number;
  gid: number;
  rdevMajor: number;
  rdevMinor: number;
  link: string | undefined;
  /** XMIT_TOP_DIR / XMIT_NO_CONTENT_DIR bits for directories. */
  dirFlags: number;
  /** Hard links: index of the first entry of the group, or -1 when this is the first / not linked. */
  hlinkFirstIndex: number;
  hlinked: boolean;
  sum: Uint8Array | undefined;
  atime: number;
}

export interface FlistWireOptions {
  protocol: number;
  varintFlags: boolean;
  preserveUid: boolean;
  preserveGid: boolean;
  preserveDevices: boolean;
  preserveSpecials: boolean;
  preserveLinks: boolean;
  atimes: boolean;
  /** Length of the -c checksum in the list, 0 without -c. */
  csumLen: number;
}

const isDev = (m: number): boolean => (m & S_IFMT) === S_IFCHR || (m & S_IFMT) === S_IFBLK;
const isSpecial = (m: number): boolean => (m & S_IFMT) === S_IFIFO || (m & S_IFMT) === S_IFSOCK;

export class FlistEncoder {
  private mode = 0;
  private mtime = 0;
  private uid = 0;
  private gid = 0;
  private rdevMajor = 0;
  private atime = 0;
  private last = '';

  constructor(private readonly o: FlistWireOptions) {}

  /** flist.c: send_file_entry. */
  entry(out: OutBuf, e: WireEntry): void {
    const o = this.o;
    const type = e.mode & S_IFMT;
    let x = type === S_IFDIR ? e.dirFlags : 0;
    if (e.mode === this.mode) x |= XMIT_SAME_MODE;
    else this.mode = e.mode;
    if (o.preserveDevices && isDev(e.mode)) {
      if (e.rdevMajor === this.rdevMajor) x |= XMIT_SAME_RDEV_MAJOR;
      else this.rdevMajor = e.rdevMajor;
    } else if (o.preserveSpecials && isSpecial(e.mode) && o.protocol < 31) {
      x |= XMIT_SAME_RDEV_MAJOR;
    }
    if (!o.preserveUid || (e.uid === this.uid && this.last !== '')) x |= XMIT_SAME_UID;
    else this.uid = e.uid;
    if (!o.preserveGid || (e.gid === this.gid && this.last !== '')) x |= XMIT_SAME_GID;
    else this.gid = e.gid;
    if (e.mtime === this.mtime) x |= XMIT_SAME_TIME;
    else this.mtime = e.mtime;
    if (e.nsec && o.protocol >= 31) x |= XMIT_MOD_NSEC;
    if (o.atimes && type !== S_IFDIR) {
      if (e.atime === this.atime) x |= XMIT_SAME_ATIME;
      else this.atime = e.atime;
    }
    if (e.hlinked) {
      x |= XMIT_HLINKED;
      if (e.hlinkFirstIndex < 0) x |= XMIT_HLINK_FIRST;
    }
    const name = e.name;
    const last = this.last;
    let l1 = 0;
    while (l1 < 255 && l1 < last.length && l1 < name.length && name.charCodeAt(l1) === last.charCodeAt(l1)) l1++;
    const l2 = name.length - l1;
    if (l1 > 0) x |= XMIT_SAME_NAME;
    if (l2 > 255) x |= XMIT_LONG_NAME;
    if (o.varintFlags) {
      out.varint(x || XMIT_EXTENDED_FLAGS);
    } else {
      if (!x && type !== S_IFDIR) x |= XMIT_TOP_DIR;
      if ((x & 0xff00) || !x) {
        x |= XMIT_EXTENDED_FLAGS;
        out.uint16(x);
      } else {
        out.byte(x);
      }
    }
    if (x & XMIT_SAME_NAME) out.byte(l1);
    if (x & XMIT_LONG_NAME) out.varint(l2);
    else out.byte(l2);
    out.bytes(Buffer.from(name.slice(l1), 'latin1'));
    this.last = name;
    if (e.hlinked && e.hlinkFirstIndex >= 0) {
      // The group's first entry is in this same list: everything else is copied from it.
      out.varint(e.hlinkFirstIndex);
      return;
    }
    out.varlong(e.size, 3);
    if (!(x & XMIT_SAME_TIME)) out.varlong(e.mtime, 4);
    if (x & XMIT_MOD_NSEC) out.varint(e.nsec);
    if (!(x & XMIT_SAME_MODE)) out.int32(e.mode);
    if (o.atimes && type !== S_IFDIR && !(x & XMIT_SAME_ATIME)) out.varlong(e.atime, 4);
    if (o.preserveUid && !(x & XMIT_SAME_UID)) out.varint(e.uid);
    if (o.preserveGid && !(x & XMIT_SAME_GID)) out.varint(e.gid);
    if ((o.preserveDevices && isDev(e.mode)) || (o.preserveSpecials && isSpecial(e.mode) && o.protocol < 31)) {
      if (!(x & XMIT_SAME_RDEV_MAJOR)) out.varint(e.rdevMajor);
      out.varint(isDev(e.mode) ? e.rdevMinor : 0);
    }
    if (o.preserveLinks && type === S_IFLNK && e.link !== undefined) {
      const t = Buffer.from(e.link, 'latin1');
      out.varint(t.length);
      out.bytes(t);
    }
    if (o.csumLen && type === S_IFREG) out.bytes(e.sum ?? new Uint8Array(o.csumLen));
  }

  /** flist.c: write_end_of_flist. */
  end(out: OutBuf, ioError: number, safeFlist: boolean): void {
    if (this.o.varintFlags) {
      out.varint(0);
      out.varint(ioError);
    } else if (ioError && safeFlist) {
      out.uint16(XMIT_EXTENDED_FLAGS | XMIT_IO_ERROR_ENDLIST);
      out.varint(ioError);
    } else {
      out.byte(0);
    }
  }
}

/** uidlist.c: send_one_list — (id, name) pairs for ids other than 0, then the terminator. */
export function writeIdList(out: OutBuf, ids: Iterable<[number, string | undefined]>, id0Names: boolean, id0Name: string | undefined): void {
  for (const [id, name] of ids) {
    if (id === 0 || name === undefined) continue;
    const b = Buffer.from(name, 'latin1');
    out.varint(id);
    out.byte(b.length);
    out.bytes(b);
  }
  out.varint(0);
  if (id0Names) {
    const b = Buffer.from(id0Name ?? '', 'latin1');
    out.byte(b.length);
    out.bytes(b);
  }
}
