// SPDX-License-Identifier: MIT
// Write NAME.new, then rename it over NAME: readers see the old or the new content,
// never a partial one (runit's update_status). mode applies through the umask, as
// open(2) does in runit.
import { closeSync, openSync, renameSync, writeSync, fsyncSync, constants } from 'node:fs';

export function writeAtomic(path: string, data: string | Uint8Array, mode = 0o644, sync = false): void {
  const tmp = `${path}.new`;
  const fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, mode);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
