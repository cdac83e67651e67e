// SPDX-License-Identifier: MIT
// /proc/PID/stat, read the one way it must be: "pid (comm) state ppid ...", where comm
// may hold spaces and parentheses, so the fields are taken after the LAST ')'.
// Linux only; callers decide what no /proc means for them.
import { readFileSync } from 'node:fs';

/**
 * The fields of /proc/PID/stat (or /proc/PID/task/TID/stat, path given) after the
 * command name: [0] state (R, S, Z ...), [1] ppid, ... [16] nice, ... [49] exit code
 * (proc(5) numbers them from 3). Throws when the file cannot be read.
 */
export function statFields(pidOrPath: number | string): string[] {
  const path = typeof pidOrPath === 'number' ? `/proc/${pidOrPath}/stat` : pidOrPath;
  const stat = readFileSync(path, 'latin1');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}
