// SPDX-License-Identifier: MIT
// Building the sender's file list from the request's source paths: confinement,
// filters, -r/-d, the "." entry, implied directories (-R), hard-link groups (-H),
// devices and specials (-D), -c checksums, outgoing chmod, and rsync's sort order.
// Mirrors flist.c: send_file_list, send_file_name, send_directory, make_file,
// send_implied_dirs and f_name_cmp (protocol >= 29 order: within a directory all
// non-directories first, then the subdirectories, each followed by its contents).
//
// compat: the whole list is built at once (no incremental recursion, CF_INC_RECURSE
// is never set). Names are latin1 strings so that every byte of a file name survives.
import { lstatSync, readdirSync, accessSync, readlinkSync, constants, type BigIntStats } from 'node:fs';
import type { ServerOptions } from './options.js';
import type { FilterList } from './filter.js';
import { sanitizePath, fsPath, resolveConfined, confineDirs, ConfineError } from './confine.js';
import { sysText } from './strerror.js';
import { tweakMode, type ChmodSpec } from './chmod.js';
import {
  S_IFMT, S_IFDIR, S_IFREG, S_IFLNK, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK, XMIT_TOP_DIR, XMIT_NO_CONTENT_DIR,
  type WireEntry,
} from './wire/flist.js';

/** io_error bits (rsync.h). */
export const IOERR_GENERAL = 1;
export const IOERR_VANISHED = 2;

export interface Entry extends WireEntry {
  /** Module-relative path (latin1) of the file on disk. */
  src: string;
  dev: bigint;
  ino: bigint;
  /** Path components of `name`, for sorting. */
  parts: string[];
}

export interface FlistContext {
  root: string;
  moduleName: string;
  opts: ServerOptions;
  client: FilterList;
  daemon: FilterList;
  ignoreNonreadable: boolean;
  chmod: ChmodSpec | undefined;
  mungeSymlinks: boolean;
  /** -c: whole-file checksum of a regular file. */
  checksum: ((src: string) => Uint8Array) | undefined;
  /** A transfer error message for the client (MSG_ERROR_XFER), without "rsync: " and newline handled by caller. */
  error(text: string): void;
  /** An informational message for the client (MSG_INFO). */
  info(text: string): void;
}

export interface FileList {
  entries: Entry[];
  ioError: number;
}

const SYMLINK_PREFIX = '/rsyncd-munged/';

type NameType = 'normal' | 'dotdir' | 'slash';

class Builder {
  readonly byName = new Map<string, Entry>();
  ioError = 0;

  constructor(private readonly c: FlistContext) {}

  private quoted(rel: string): string {
    return `"${rel || '.'}" (in ${this.c.moduleName})`;
  }

  /** flist.c: make_file — one entry from an lstat result, or undefined when it is skipped. */
  private make(name: string, src: string, st: BigIntStats, dirFlags: number): Entry | undefined {
    const c = this.c;
    const o = c.opts;
    let mode = Number(st.mode);
    const type = mode & S_IFMT;
    let link: string | undefined;
    // flist.c: make_file — every type is listed; without -l/-D the receiver skips what it
    // cannot keep ("skipping non-regular file"), so the sender sends them regardless.
    if (type === S_IFLNK && o.links) {
      try {
        link = readlinkSync(fsPath(c.root, src), { encoding: 'latin1' });
      } catch (e) {
        this.ioError |= IOERR_GENERAL;
        c.error(`readlink_stat ${this.quoted(src)} failed: ${sysText((e as NodeJS.ErrnoException).code)}`);
        return undefined;
      }
      if (c.mungeSymlinks && link.length > SYMLINK_PREFIX.length && link.startsWith(SYMLINK_PREFIX)) link = link.slice(SYMLINK_PREFIX.length);
    } else if (type !== S_IFLNK && type !== S_IFCHR && type !== S_IFBLK && type !== S_IFIFO && type !== S_IFSOCK && type !== S_IFREG && type !== S_IFDIR) {
      return undefined;
    }
    if (c.ignoreNonreadable && type !== S_IFLNK) {
      try {
        accessSync(fsPath(c.root, src), type === S_IFDIR ? constants.R_OK | constants.X_OK : constants.R_OK);
      } catch {
        return undefined;
      }
    }
    if (c.chmod && type !== S_IFLNK) mode = tweakMode(mode, c.chmod);
    const rdev = Number(st.rdev);
    // Seconds rounded down and a non-negative nanosecond part, also before 1970.
    let sec = st.mtimeNs / 1_000_000_000n;
    let nsec = st.mtimeNs % 1_000_000_000n;
    if (nsec < 0n) {
      nsec += 1_000_000_000n;
      sec -= 1n;
    }
    const e: Entry = {
      name, src, mode,
      size: type === S_IFDIR || type === S_IFREG || type === S_IFLNK ? Number(st.size) : 0,
      mtime: Number(sec),
      nsec: Number(nsec),
      atime: Number(st.atimeMs / 1000n),
      uid: Number(st.uid), gid: Number(st.gid),
      rdevMajor: ((rdev >>> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff),
      rdevMinor: (rdev & 0xff) | ((rdev >>> 12) & ~0xff & 0xfffff),
      link, dirFlags: type === S_IFDIR ? dirFlags : 0,
      hlinkFirstIndex: -1,
      hlinked: o.hardLinks && type !== S_IFDIR && st.nlink > 1n,
      sum: undefined,
      dev: st.dev, ino: st.ino,
      parts: name === '.' ? [] : name.split('/'),
    };
    if (o.checksum && type === S_IFREG && c.checksum) {
      try {
        e.sum = c.checksum(src);
      } catch {
        e.sum = undefined;
      }
    }
    return e;
  }

  private add(e: Entry): void {
    const prev = this.byName.get(e.name);
    // flist.c: flist_sort_and_clean keeps one of two same-named entries, preferring a directory.
    if (prev && ((prev.mode & S_IFMT) === S_IFDIR || (e.mode & S_IFMT) !== S_IFDIR)) return;
    this.byName.set(e.name, e);
  }

  private excluded(name: string, src: string, isDir: boolean): boolean {
    return this.c.daemon.excluded(src, isDir) || this.c.client.excluded(name, isDir);
  }

  /** flist.c: send_directory — the contents of one directory (recursing with -r). */
  private directory(name: string, src: string): void {
    const c = this.c;
    let list: string[];
    try {
      list = readdirSync(fsPath(c.root, src), { encoding: 'latin1' });
    } catch (e) {
      this.ioError |= IOERR_GENERAL;
      c.error(`opendir ${this.quoted(src)} failed: ${sysText((e as NodeJS.ErrnoException).code)}`);
      return;
    }
    list.sort();
    const recurse = c.opts.recursive;
    for (const f of list) {
      const childName = name === '.' ? f : `${name}/${f}`;
      const childSrc = src ? `${src}/${f}` : f;
      let st: BigIntStats;
      try {
        st = lstatSync(fsPath(c.root, childSrc), { bigint: true });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // vanished between readdir and lstat: rsync is silent here too
        this.ioError |= IOERR_GENERAL;
        c.error(`readlink_stat ${this.quoted(childSrc)} failed: ${sysText(code)}`);
        continue;
      }
      const isDir = st.isDirectory();
      if (this.excluded(childName, childSrc, isDir)) continue;
      if (isDir && c.opts.oneFileSystem && this.fsDev !== undefined && st.dev !== this.fsDev) continue;
      const e = this.make(childName, childSrc, st, recurse ? 0 : XMIT_NO_CONTENT_DIR);
      if (!e) continue;
      this.add(e);
      if (isDir && recurse) this.directory(childName, childSrc);
    }
  }

  private fsDev: bigint | undefined;

  /** flist.c: send_implied_dirs — the parents of a -R path, flagged as implied. */
  private implied(name: string, dirSrcBase: string): void {
    const parts = name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const n = parts.slice(0, i).join('/');
      if (this.byName.has(n)) continue;
      const s = dirSrcBase ? `${dirSrcBase}/${n}` : n;
      let st: BigIntStats;
      try {
        st = lstatSync(fsPath(this.c.root, s), { bigint: true });
      } catch {
        return;
      }
      if (!st.isDirectory()) return;
      const e = this.make(n, s, st, XMIT_TOP_DIR | XMIT_NO_CONTENT_DIR);
      if (e) this.add(e);
    }
  }

  /** One source argument (module name already removed). flist.c: send_file_list's loop body. */
  source(arg: string): void {
    const c = this.c;
    const o = c.opts;
    let p = sanitizePath(arg);
    let nameType: NameType = 'normal';
    let dir = '';
    let fn: string;
    if (o.relative) {
      const mark = p.indexOf('/./');
      if (mark >= 0) {
        dir = sanitizePath(p.slice(0, mark));
        p = p.slice(mark + 3);
      } else if (p.startsWith('./')) {
        p = p.slice(2);
      }
      fn = p.replace(/\/+$/, '');
      if (fn === '' || fn === '.') {
        fn = '.';
        nameType = 'dotdir';
      } else if (p.endsWith('/')) {
        nameType = 'slash';
      }
    } else {
      if (p === '' || p.endsWith('/')) {
        p = p.replace(/\/+$/, '');
        nameType = 'dotdir';
        dir = p;
        fn = '.';
      } else {
        const slash = p.lastIndexOf('/');
        dir = slash < 0 ? '' : p.slice(0, slash);
        fn = slash < 0 ? p : p.slice(slash + 1);
      }
    }
    const src = fn === '.' ? dir : dir ? `${dir}/${fn}` : fn;
    let st: BigIntStats;
    try {
      if (dir) confineDirs(c.root, dir);
    } catch (e) {
      this.ioError |= IOERR_GENERAL;
      c.error(`change_dir ${this.quoted(dir)} failed: ${sysText((e as NodeJS.ErrnoException).code)}`);
      return;
    }
    try {
      st = resolveConfined(c.root, src);
    } catch (e) {
      const err = e as NodeJS.ErrnoException & { component?: string };
      if (err instanceof ConfineError) {
        this.ioError |= IOERR_GENERAL;
        c.error(`change_dir ${this.quoted(err.component)} failed: ${sysText(err.code)}`);
        return;
      }
      if (err.code !== 'ENOENT') this.ioError |= IOERR_GENERAL;
      c.error(`link_stat ${this.quoted(src)} failed: ${sysText(err.code)}`);
      return;
    }
    const isDir = st.isDirectory();
    if (nameType !== 'dotdir' && (c.daemon.excluded(src, isDir) || c.client.excluded(fn, isDir))) return;
    if (isDir && !o.recursive && !o.dirs) {
      c.info(`skipping directory ${fn}`);
      return;
    }
    if (o.relative && o.impliedDirs && fn.includes('/')) this.implied(fn, dir);
    if (o.oneFileSystem) this.fsDev = st.dev;
    if (o.recursive || (o.dirs && nameType !== 'normal')) {
      const e = this.make(fn, src, st, XMIT_TOP_DIR);
      if (!e) return;
      this.add(e);
      if (isDir) this.directory(fn, src);
    } else {
      const e = this.make(fn, src, st, XMIT_NO_CONTENT_DIR);
      if (e) this.add(e);
    }
  }
}

/**
 * flist.c: f_name_cmp for protocol >= 29. `a` and `b` are path components; a directory
 * compares as if its name ended in '/', and files sort before directories in a directory.
 */
export function compareEntries(a: Entry, b: Entry): number {
  if (a.name === '.') return b.name === '.' ? 0 : -1;
  if (b.name === '.') return 1;
  const pa = a.parts;
  const pb = b.parts;
  const aDir = (a.mode & S_IFMT) === S_IFDIR;
  const bDir = (b.mode & S_IFMT) === S_IFDIR;
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const ca = pa[i]!;
    const cb = pb[i]!;
    if (ca === cb) continue;
    const da = i < pa.length - 1 || aDir;
    const db = i < pb.length - 1 || bDir;
    if (da !== db) return da ? 1 : -1;
    const ka = da ? `${ca}/` : ca;
    const kb = db ? `${cb}/` : cb;
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  }
  return pa.length - pb.length;
}

/** Build, sort and number the list for the request's source arguments (module-relative). */
export function buildFileList(c: FlistContext, sources: readonly string[]): FileList {
  const b = new Builder(c);
  for (const s of sources) b.source(s);
  const entries = [...b.byName.values()].sort(compareEntries);
  if (c.opts.hardLinks) {
    const first = new Map<string, number>();
    entries.forEach((e, i) => {
      if (!e.hlinked) return;
      const key = `${e.dev}:${e.ino}`;
      const f = first.get(key);
      if (f === undefined) first.set(key, i);
      else e.hlinkFirstIndex = f;
    });
  }
  return { entries, ioError: b.ioError };
}
