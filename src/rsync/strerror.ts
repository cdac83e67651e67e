// SPDX-License-Identifier: MIT
// glibc's strerror texts and numbers for the errors rsync reports to clients as
// "...: TEXT (N)" (rsync's rsyserr). Node gives only the code names.
const TABLE: Record<string, [number, string]> = {
  EPERM: [1, 'Operation not permitted'],
  ENOENT: [2, 'No such file or directory'],
  EIO: [5, 'Input/output error'],
  ENXIO: [6, 'No such device or address'],
  EBADF: [9, 'Bad file descriptor'],
  ENOMEM: [12, 'Cannot allocate memory'],
  EACCES: [13, 'Permission denied'],
  EBUSY: [16, 'Device or resource busy'],
  EEXIST: [17, 'File exists'],
  ENOTDIR: [20, 'Not a directory'],
  EISDIR: [21, 'Is a directory'],
  EINVAL: [22, 'Invalid argument'],
  EMFILE: [24, 'Too many open files'],
  ENOSPC: [28, 'No space left on device'],
  ENAMETOOLONG: [36, 'File name too long'],
  ELOOP: [40, 'Too many levels of symbolic links'],
  ENODATA: [61, 'No data available'],
  EOVERFLOW: [75, 'Value too large for defined data type'],
};

/** "No such file or directory (2)" for an errno code name. */
export function sysText(code: string | undefined): string {
  const e = TABLE[code ?? ''] ?? TABLE.EIO!;
  return `${e[1]} (${e[0]})`;
}
