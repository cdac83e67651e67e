// SPDX-License-Identifier: MIT
// djb-style error strings. runit, daemontools and ipsvd print these instead of
// strerror(3) text, so "unable to lock supervise/lock: temporary failure" reads the
// same from our tools as from theirs (shared/docs/runit-compat.md §0.2).

const TEXT: Readonly<Record<string, string>> = {
  EINTR: 'interrupted system call',
  ENOMEM: 'out of memory',
  ENOENT: 'file does not exist',
  ETXTBSY: 'text busy',
  EIO: 'input/output error',
  EEXIST: 'file already exists',
  ETIMEDOUT: 'timed out',
  EINPROGRESS: 'operation in progress',
  EAGAIN: 'temporary failure',
  EWOULDBLOCK: 'temporary failure',
  EPIPE: 'broken pipe',
  EPERM: 'permission denied',
  EACCES: 'access denied',
  ENXIO: 'device not configured',
  EPROTO: 'protocol error',
  EISDIR: 'is a directory',
  ECONNREFUSED: 'connection refused',
  ENOTDIR: 'not a directory',
  ESRCH: 'no such process',
  E2BIG: 'argument list too long',
  ENOEXEC: 'exec format error',
  EBADF: 'file descriptor not open',
  ECHILD: 'no child processes',
  EDEADLK: 'operation would cause deadlock',
  EFAULT: 'bad address',
  EBUSY: 'device busy',
  EXDEV: 'cross-device link',
  ENODEV: 'device does not support operation',
  EINVAL: 'invalid argument',
  ENFILE: 'system cannot open more files',
  EMFILE: 'process cannot open more files',
  ENOTTY: 'not a tty',
  EFBIG: 'file too big',
  ENOSPC: 'out of disk space',
  ESPIPE: 'unseekable descriptor',
  EROFS: 'read-only file system',
  EMLINK: 'too many links',
  EADDRINUSE: 'address already used',
  EADDRNOTAVAIL: 'address not available',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
  ENOBUFS: 'out of buffer space',
  ELOOP: 'symbolic link loop',
  ENAMETOOLONG: 'file name too long',
  EHOSTUNREACH: 'host unreachable',
  ENOTEMPTY: 'directory not empty',
  EDQUOT: 'disk quota exceeded',
  ESTALE: 'stale NFS file handle',
  ENOLCK: 'no locks available',
  ENOSYS: 'system call not available',
};

/** The djb text for an error: a Node errno code ('ENOENT'), an Error carrying one, or anything else. */
export function errstr(err: unknown): string {
  const code = typeof err === 'string' ? err : (err as NodeJS.ErrnoException | null)?.code;
  if (code === undefined || code === null) return 'unknown error';
  return TEXT[code] ?? 'unknown error';
}
