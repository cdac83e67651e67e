// Helpers for the pull interop tests: a test tree with every file type, a remote-shell
// stand-in that runs our server, a real `rsync --daemon` to compare against, and a
// byte-and-metadata comparison of two trees.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, linkSync, chmodSync, chownSync, utimesSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, cpSync, appendFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { connect } from 'node:net';
import { DIST_SEA } from '../fixtures/bin.js';
import { start, waitFor, freePort, type Teardown } from '../fixtures/proc.js';

export const isRoot = process.getuid?.() === 0;

/** A tree with regular files (empty, small, 1 MB, odd names, deep paths), dirs, symlinks, hard links, and as root devices, a fifo and a socket. */
export function makeTree(root: string): void {
  mkdirSync(join(root, 'd1/d2/d3'), { recursive: true });
  mkdirSync(join(root, 'empty'));
  mkdirSync(join(root, 'sp ace'));
  writeFileSync(join(root, 'big.bin'), randomBytes(1_000_000));
  writeFileSync(join(root, 'd1/f1'), 'hi\n');
  writeFileSync(join(root, 'zero'), '');
  writeFileSync(join(root, 'd1/d2/rep'), 'x'.repeat(5000));
  writeFileSync(join(root, 'sp ace/f'), 'x\n');
  writeFileSync(Buffer.from(join(root, 'n\xffame'), 'latin1'), 'odd name\n');
  const long = 'a'.repeat(120);
  mkdirSync(join(root, long, long), { recursive: true });
  writeFileSync(join(root, long, long, long), 'deep\n');
  symlinkSync('d1/f1', join(root, 'rel'));
  symlinkSync('/etc/passwd', join(root, 'abs'));
  symlinkSync('nowhere', join(root, 'dangling'));
  linkSync(join(root, 'big.bin'), join(root, 'hard1'));
  linkSync(join(root, 'big.bin'), join(root, 'd1/hard2'));
  chmodSync(join(root, 'd1/f1'), 0o600);
  chmodSync(join(root, 'd1/d2/rep'), 0o755);
  utimesSync(join(root, 'd1/f1'), new Date('2020-01-02T03:04:05.123Z'), new Date('2020-01-02T03:04:05.123Z'));
  utimesSync(join(root, 'zero'), -1.5, -1.5);
  spawnSync('mkfifo', [join(root, 'fifo')]);
  if (isRoot) {
    spawnSync('mknod', [join(root, 'chr'), 'c', '1', '3']);
    spawnSync('mknod', [join(root, 'blk'), 'b', '7', '0']);
    chownSync(join(root, 'zero'), 65534, 65534);
    chownSync(join(root, 'sp ace/f'), 12345, 23456);
    chmodSync(join(root, 'd1/d2/rep'), 0o4755);
  }
  spawnSync('python3', ['-c', `import socket;socket.socket(socket.AF_UNIX).bind(${JSON.stringify(join(root, 'sock'))})`]);
}

/** A copy of `tree` at `dst` that differs in content, size, mtime, mode, a symlink target, and has extra entries. */
export function makeDiffering(tree: string, dst: string): void {
  rmSync(dst, { recursive: true, force: true });
  cpSync(tree, dst, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
  const fd = openSync(join(dst, 'big.bin'), 'r+');
  writeSync(fd, Buffer.from('X'), 0, 1, 500_000);
  closeSync(fd);
  // Same size, other content: the mtime must differ too or the quick check (seconds) skips it.
  utimesSync(join(dst, 'big.bin'), new Date('2002-02-02'), new Date('2002-02-02'));
  appendFileSync(join(dst, 'd1/d2/rep'), randomBytes(777));
  utimesSync(join(dst, 'd1/f1'), new Date('2001-01-01'), new Date('2001-01-01'));
  chmodSync(join(dst, 'd1'), 0o700);
  writeFileSync(join(dst, 'extra.txt'), 'extra\n');
  mkdirSync(join(dst, 'olddir/x'), { recursive: true });
  writeFileSync(join(dst, 'olddir/x/y'), 'y\n');
  rmSync(join(dst, 'rel'));
  symlinkSync('other', join(dst, 'rel'));
  rmSync(join(dst, 'zero'));
  writeFileSync(join(dst, 'zero'), 'notzero\n');
}

/** A remote-shell command for `rsync -e`: drops the host and the remote "rsync", runs our server. */
export function makeRsh(dir: string, exe = DIST_SEA): string {
  const p = join(dir, 'rsh');
  writeFileSync(p, `#!/bin/sh\nshift\nwhile [ "$1" != "rsync" ] && [ $# -gt 0 ]; do shift; done\nshift\neval "exec '${exe}' rsyncd $*"\n`, { mode: 0o755 });
  return p;
}

export interface RealDaemon { port: number; url(path: string): string }

/** Start `rsync --daemon` serving `modules` (name -> path) on a free loopback port. */
export async function startRealDaemon(t: Teardown, dir: string, rsync: string, modules: Record<string, string>): Promise<RealDaemon> {
  const port = await freePort();
  const conf = join(dir, 'rsyncd.conf');
  let text = `use chroot = no\nreverse lookup = no\nport = ${port}\naddress = 127.0.0.1\n`;
  for (const [name, path] of Object.entries(modules)) text += `[${name}]\npath = ${path}\nread only = yes\n${isRoot ? 'uid = root\ngid = root\n' : ''}`;
  writeFileSync(conf, text);
  start(t, rsync, ['--daemon', '--no-detach', `--config=${conf}`, `--log-file=${join(dir, 'rsyncd.log')}`]);
  await waitFor('real rsync daemon to listen', () => new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  }), 20_000);
  return { port, url: (path) => `rsync://127.0.0.1:${port}/${path}` };
}

export interface Run { status: number | null; stdout: string; stderr: string }

export function rsync(rsyncPath: string, args: string[], env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(rsyncPath, args, { encoding: 'latin1', timeout: 120_000, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Differences between two trees: type, mode, size, mtime (seconds), owner, link target, content. */
export function treeDiff(a: string, b: string, opts: { owners: boolean; times: boolean } = { owners: isRoot, times: true }): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const pa = Buffer.from(join(a, rel), 'latin1');
    const pb = Buffer.from(join(b, rel), 'latin1');
    let sa;
    let sb;
    try { sa = lstatSync(pa); } catch { out.push(`missing in ${a}: ${rel}`); return; }
    try { sb = lstatSync(pb); } catch { out.push(`missing in ${b}: ${rel}`); return; }
    if (sa.mode !== sb.mode) out.push(`mode ${rel}: ${sa.mode.toString(8)} vs ${sb.mode.toString(8)}`);
    if (opts.owners && (sa.uid !== sb.uid || sa.gid !== sb.gid)) out.push(`owner ${rel}`);
    if (sa.isSymbolicLink()) {
      if (readlinkSync(pa, 'latin1') !== readlinkSync(pb, 'latin1')) out.push(`link ${rel}`);
      return;
    }
    if (sa.isCharacterDevice() || sa.isBlockDevice()) {
      if (sa.rdev !== sb.rdev) out.push(`rdev ${rel}`);
      return;
    }
    if (opts.times && !sa.isDirectory() && Math.floor(sa.mtimeMs / 1000) !== Math.floor(sb.mtimeMs / 1000)) out.push(`mtime ${rel}`);
    if (sa.isFile()) {
      if (sa.size !== sb.size || !readFileSync(pa).equals(readFileSync(pb))) out.push(`content ${rel}`);
      return;
    }
    if (sa.isDirectory()) {
      const na = readdirSync(pa, { encoding: 'latin1' }).sort();
      const nb = readdirSync(pb, { encoding: 'latin1' }).sort();
      for (const n of new Set([...na, ...nb])) walk(rel ? `${rel}/${n}` : n);
    }
  };
  walk('');
  return out;
}

/** Hard links of `name` in a tree: the set of names sharing its inode. */
export function linkGroup(root: string, names: string[]): number {
  return new Set(names.map((n) => lstatSync(join(root, n)).ino)).size;
}

/** A config text for both daemons: `modules` maps names to paths; `extra` lines go into each module. */
export function daemonConfig(port: number, modules: Record<string, string>, extra: Record<string, string> = {}): string {
  let text = `use chroot = no\nreverse lookup = no\nport = ${port}\naddress = 127.0.0.1\n`;
  for (const [name, path] of Object.entries(modules)) {
    text += `[${name}]\npath = ${path}\nread only = yes\n${isRoot ? 'uid = root\ngid = root\n' : ''}${extra[name] ?? ''}`;
  }
  return text;
}

/** Start our rsyncd (standalone, from the single executable) and the real daemon with the same modules. */
export async function startBothDaemons(t: Teardown, dir: string, rsyncPath: string, modules: Record<string, string>, extra: Record<string, string> = {}): Promise<{ ours: RealDaemon; real: RealDaemon }> {
  const up = (port: number) => waitFor(`daemon on ${port}`, () => new Promise<boolean>((res) => {
    const s = connect(port, '127.0.0.1', () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  }), 30_000);
  const realPort = await freePort();
  writeFileSync(join(dir, 'real.conf'), daemonConfig(realPort, modules, extra));
  start(t, rsyncPath, ['--daemon', '--no-detach', `--config=${join(dir, 'real.conf')}`, `--log-file=${join(dir, 'real.log')}`]);
  const oursPort = await freePort();
  writeFileSync(join(dir, 'ours.conf'), daemonConfig(oursPort, modules, extra));
  const exe = join(dir, 'rsyncd');
  symlinkSync(DIST_SEA, exe);
  start(t, exe, ['--daemon', '--no-detach', `--config=${join(dir, 'ours.conf')}`]);
  await up(realPort);
  await up(oursPort);
  const mk = (port: number): RealDaemon => ({ port, url: (path) => `rsync://127.0.0.1:${port}/${path}` });
  return { ours: mk(oursPort), real: mk(realPort) };
}
