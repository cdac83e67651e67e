// SPDX-License-Identifier: MIT
// Warming a connection process up before its connection arrives. Our listener keeps
// processes started ahead of need (listener.ts), each serves one connection and exits,
// so every connection would otherwise run the engine's hot paths cold: V8 interprets a
// function until it has run often enough to be compiled (building and encoding the
// bench tree's list of 1,022 entries takes 31 ms cold, 13 ms once warm). So a waiting
// process builds and encodes the list of /proc/self a few times without recursion (-d:
// a few dozen lstat and readlink calls, nothing opened, nothing written), which runs the
// same list-building, sorting and encoding code over files, directories and symlinks.
// /proc, not a real directory: it is always local, so a hung network mount can never
// stall a waiting process (it has already told the listener it is ready); without /proc
// there is simply no warm-up. rsync forks from a warm daemon and
// has no such cost; this is a small part of that warm start. (Warming the matcher the
// same way was tried: its 50 ms of CPU, spent while the previous connection runs, cost
// more than it saved.)
import { buildFileList } from './flist.js';
import { parseServerArgs } from './options.js';
import { FilterList } from './filter.js';
import { FlistEncoder } from './wire/flist.js';
import { OutBuf } from './wire/codec.js';

/** What is listed: local, small, and never a network mount (/proc/self is a symlink to it). */
export const warmDir = (): string => `/proc/${process.pid}`;

/**
 * Build and encode the list of warmDir() (no recursion) a few times (best effort); returns how
 * many entries the list had (0 after an error).
 */
export function warmFileList(): number {
  let n = 0;
  try {
    const opts = parseServerArgs(['--server', '--sender', '-dlogDtpe.iLsfxCIvu', '.', 'w/']);
    for (let round = 0; round < 8; round++) {
      const list = buildFileList({
        root: warmDir(), moduleName: 'w', opts, client: new FilterList(), daemon: new FilterList(),
        ignoreNonreadable: false, chmod: undefined, mungeSymlinks: false, checksum: undefined,
        error: () => {}, info: () => {},
      }, ['']);
      const enc = new FlistEncoder({
        protocol: 32, varintFlags: true, preserveUid: true, preserveGid: true, preserveDevices: true,
        preserveSpecials: true, preserveLinks: true, atimes: false, csumLen: 0,
      });
      const out = new OutBuf(64 * 1024);
      for (const e of list.entries) enc.entry(out, e);
      n = list.entries.length;
    }
  } catch {
    // Only a warm-up: a connection works the same without it.
    n = 0;
  }
  return n;
}
