// Shared set-up for the rsyncd interop tests: a module tree, a config, our daemon
// (standalone, from a built artefact) and the real `rsync --daemon` on another
// ephemeral port with the same config, and a real rsync client to run against both.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { envWithNode, linkApplets, type Artefact } from '../fixtures/bin.js';
import { freePort, start, waitFor, type Teardown } from '../fixtures/proc.js';
import { findPeer } from '../fixtures/peers.js';

/** The real rsync (client and daemon). */
export const RSYNC = findPeer('rsync') ?? '/usr/bin/rsync';

export interface Daemons {
  dir: string;
  conf: string;
  ours: number;
  real: number;
  oursLog: string;
  realLog: string;
}

/** A config with the modules the acceptance cases need; `extra` is appended. */
export function writeTree(dir: string, extra = ''): string {
  for (const d of ['pub', 'priv', 'empty']) mkdirSync(join(dir, d), { recursive: true });
  // The daemons run as root and switch to nobody: the tree must be world-readable.
  for (const d of [dir, join(dir, 'pub'), join(dir, 'priv'), join(dir, 'empty')]) chmodSync(d, 0o755);
  writeFileSync(join(dir, 'pub', 'a.txt'), 'hello\n');
  chmodSync(join(dir, 'pub', 'a.txt'), 0o644);
  writeFileSync(join(dir, 'motd'), 'Welcome to the test daemon\nsecond line\n');
  writeFileSync(join(dir, 'secrets'), 'alice:secret123\n', { mode: 0o600 });
  writeFileSync(join(dir, 'secrets-open'), 'alice:secret123\n');
  chmodSync(join(dir, 'secrets-open'), 0o644);
  writeFileSync(join(dir, 'pw'), 'secret123\n', { mode: 0o600 });
  const conf = join(dir, 'rsyncd.conf');
  writeFileSync(conf, `# test configuration
reverse lookup = no
use chroot = no
motd file = ${dir}/motd

[pub]
  path = ${dir}/pub
  comment = public files
[priv]
  path = ${dir}/priv
  comment = needs a password
  auth users = alice:rw
  secrets file = ${dir}/secrets
[openpw]
  path = ${dir}/priv
  auth users = alice
  secrets file = ${dir}/secrets-open
[hidden]
  path = ${dir}/pub
  list = no
[denied]
  path = ${dir}/pub
  hosts deny = 127.0.0.0/8
[hiddendenied]
  path = ${dir}/pub
  list = no
  hosts allow = 10.0.0.0/255.0.0.0
[one]
  path = ${dir}/pub
  max connections = 1
[shared]
  path = ${dir}/pub
  max connections = 1
  lock file = ${dir}/shared.lock
[refuse]
  path = ${dir}/pub
  refuse options = checksum delete
${extra}`);
  return conf;
}

/** Start our daemon (standalone, from `kind`) and the real one on the same config. */
export async function startBoth(t: Teardown & { testdir: () => string }, kind: Artefact, extra = ''): Promise<Daemons> {
  const dir = t.testdir();
  chmodSync(dir, 0o755);
  const conf = writeTree(dir, extra);
  const ours = await freePort();
  const real = await freePort();
  const oursLog = join(dir, 'ours.log');
  const realLog = join(dir, 'real.log');
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  linkApplets(bin, kind, ['rsyncd']);
  start(t, join(bin, 'rsyncd'), ['--daemon', '--no-detach', `--port=${ours}`, `--config=${conf}`, `--log-file=${oursLog}`, `--dparam=lockfile=${dir}/ours.lock`], { detached: true });
  start(t, RSYNC, ['--daemon', '--no-detach', `--port=${real}`, `--config=${conf}`, `--log-file=${realLog}`, `--dparam=lockfile=${dir}/real.lock`], { detached: true });
  await waitFor('both daemons listening', async () => (await canConnect(ours)) && (await canConnect(real)), 30_000, 50);
  return { dir, conf, ours, real, oursLog, realLog };
}

export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((res) => {
    const s = connect(port, host);
    s.on('connect', () => { s.destroy(); res(true); });
    s.on('error', () => res(false));
  });
}

export interface ClientRun {
  code: number | null;
  out: string;
  err: string;
}

/** Run the real rsync client (asynchronously: our test may hold sockets open meanwhile). */
export function client(args: readonly string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 60_000): Promise<ClientRun> {
  return new Promise((res) => {
    const e = { ...envWithNode(), ...env };
    if (!('RSYNC_PASSWORD' in env)) delete e.RSYNC_PASSWORD;
    const c = spawn(RSYNC, args, { env: e, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
    const timer = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (code) => { clearTimeout(timer); res({ code, out, err }); });
  });
}

export const url = (port: number, path = ''): string => `rsync://127.0.0.1:${port}/${path}`;

/** A raw connection that greets and asks for a module, then stays open. */
export async function holdModule(port: number, mod: string): Promise<{ sock: Socket; got: () => string }> {
  const sock = connect(port, '127.0.0.1');
  let got = '';
  sock.on('data', (b: Buffer) => { got += b.toString('latin1'); });
  sock.on('error', () => {});
  await new Promise<void>((res, rej) => { sock.once('connect', res); sock.once('error', rej); });
  sock.write(`@RSYNCD: 32.0 md5\n${mod}\n`);
  await waitFor(`"${mod}" granted`, () => got.includes('@RSYNCD: OK') || got.includes('@ERROR'), 20_000);
  return { sock, got: () => got };
}

export function readLog(p: string): string {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
