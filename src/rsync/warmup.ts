// SPDX-License-Identifier: MIT
// Warming a connection process up before its connection arrives. Our listener keeps
// processes started ahead of need (listener.ts), each serves one connection and exits,
// so every connection would otherwise run the engine's hot paths cold: V8 interprets a
// function until it has run often enough to be compiled. Measured on the bench tree
// (1,022 entries): building and encoding the file list takes 31 ms cold and 13 ms warm.
// So a waiting process builds and encodes the list of a small scratch tree (160 empty
// files), then removes it. rsync forks from a warm daemon and has no such cost; this
// is our equivalent of that warm start. (Warming the matcher the same way was tried:
// its 50 ms of CPU, spent while the previous connection runs, cost more than it saved.)
import { mkdtempSync, mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFileList } from './flist.js';
import { parseServerArgs } from './options.js';
import { FilterList } from './filter.js';
import { FlistEncoder } from './wire/flist.js';
import { OutBuf } from './wire/codec.js';

/** Build and encode the file list of a scratch tree a few times (best effort). */
export function warmFileList(): void {
  let dir: string | undefined;
  try {
    dir = mkdtempSync(join(tmpdir(), 'svbox-rsyncd-warm-'));
    for (let d = 0; d < 4; d++) {
      const sub = join(dir, `d${d}`);
      mkdirSync(sub);
      for (let f = 0; f < 40; f++) writeFileSync(join(sub, `f${f}.dat`), '');
    }
    const opts = parseServerArgs(['--server', '--sender', '-logDtpre.iLsfxCIvu', '.', 'w/']);
    for (let round = 0; round < 6; round++) {
      const list = buildFileList({
        root: dir, moduleName: 'w', opts, client: new FilterList(), daemon: new FilterList(),
        ignoreNonreadable: false, chmod: undefined, mungeSymlinks: false, checksum: undefined,
        error: () => {}, info: () => {},
      }, ['']);
      const enc = new FlistEncoder({
        protocol: 32, varintFlags: true, preserveUid: true, preserveGid: true, preserveDevices: false,
        preserveSpecials: false, preserveLinks: true, atimes: false, csumLen: 0,
      });
      const out = new OutBuf(64 * 1024);
      for (const e of list.entries) enc.entry(out, e);
    }
  } catch {
    // Only a warm-up: a connection works the same without it.
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

