// SPDX-License-Identifier: MIT
// Module confinement without chroot (Node has none): every requested path is
// sanitized as rsync's util1.c: sanitize_path does for a daemon without chroot
// (leading slashes and ".." that would climb above the module are dropped), then
// resolved one component at a time with lstat from the module's path: a symlink in
// a directory position is refused (ELOOP), so no request leads out of the module.
// Files are later opened with O_NOFOLLOW and checked against the inode seen while
// listing (sender.ts), which closes the window in which a scanned directory could be
// swapped for a symlink.
import { lstatSync, type BigIntStats } from 'node:fs';

/** util1.c: sanitize_path with an empty root — never climbs above the start. Keeps a trailing slash. */
export function sanitizePath(p: string): string {
  const trailing = p.endsWith('/') && p.replace(/\/+$/, '') !== '';
  const out: string[] = [];
  for (const c of p.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') {
      out.pop();
      continue;
    }
    out.push(c);
  }
  let s = out.join('/');
  if (trailing && s) s += '/';
  return s;
}

/** latin1 string (one char per byte) → a Buffer path for fs calls. */
export function fsPath(root: string, rel: string): Buffer {
  return Buffer.from(rel ? `${root}/${rel}` : root, 'latin1');
}

export class ConfineError extends Error {
  constructor(readonly component: string, readonly code: string, readonly errno: number, message: string) {
    super(message);
    this.name = 'ConfineError';
  }
}

/**
 * Check that every directory on the way to `rel` (latin1, no leading '/', sanitized)
 * is a real directory inside `root`; returns the lstat of the final component.
 * Throws ConfineError naming the failing prefix as rsync's change_dir message does.
 */
export function resolveConfined(root: string, rel: string): BigIntStats {
  const slash = rel.replace(/\/+$/, '').lastIndexOf('/');
  if (slash > 0) confineDirs(root, rel.slice(0, slash));
  return lstatSync(fsPath(root, rel), { bigint: true });
}

/** Check that every component of the directory path `dir` is a real directory, not a symlink. */
export function confineDirs(root: string, dir: string): void {
  let at = '';
  for (const part of dir.split('/')) {
    if (part === '') continue;
    at = at ? `${at}/${part}` : part;
    let st: BigIntStats;
    try {
      st = lstatSync(fsPath(root, at), { bigint: true });
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new ConfineError(at, err.code ?? 'EIO', -(err.errno ?? -5), err.message);
    }
    if (st.isSymbolicLink()) throw new ConfineError(at, 'ELOOP', 40, 'Too many levels of symbolic links');
    if (!st.isDirectory()) throw new ConfineError(at, 'ENOTDIR', 20, 'Not a directory');
  }
}
