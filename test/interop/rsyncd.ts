// The acceptance cases of the rsyncd front end: a real rsync client against our
// daemon and against the real `rsync --daemon` with the same config on loopback.
// The client's output and exit code must be the same for both.
import t, { type Test } from 'tap';
import { join } from 'node:path';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { client, holdModule, readLog, startBoth, url, type Daemons } from '../fixtures/rsyncd.js';

/** Run the same client command against both daemons and compare what the user sees. */
async function same(t: Test, d: Daemons, path: string, opts: string[] = [], env: NodeJS.ProcessEnv = {}, dest?: string): Promise<{ code: number | null; out: string; err: string }> {
  const tail = (port: number): string[] => [...opts, url(port, path), ...(dest ? [`${dest}-${port}`] : [])];
  const [o, r] = await Promise.all([client(tail(d.ours), env), client(tail(d.real), env)]);
  t.equal(o.code, r.code, `exit code for ${path} ${opts.join(' ')}`);
  t.equal(o.out, r.out, `stdout for ${path} ${opts.join(' ')}`);
  t.equal(o.err, r.err, `stderr for ${path} ${opts.join(' ')}`);
  return o;
}

t.test('rsyncd against rsync --daemon, same config (single executable)', peerOpts('rsync'), async (t) => {
  peerPaths('rsync');
  const d = await startBoth(t, 'sea');

  t.test('module list and motd', async (t) => {
    const o = await same(t, d, '');
    t.equal(o.code, 0);
    t.match(o.out, /^Welcome to the test daemon\nsecond line\n\npub {12}\tpublic files\npriv {11}\tneeds a password\n/);
    t.notMatch(o.out, /hidden/, 'list = no hides a module');
    await same(t, d, '', [], {});
    // rsync host:: form lists too
    const [a, b] = await Promise.all([client([`127.0.0.1::`, `--port=${d.ours}`]), client([`127.0.0.1::`, `--port=${d.real}`])]);
    t.equal(a.out, b.out, 'host:: listing');
    t.equal(a.code, b.code);
  });

  t.test('unknown module', async (t) => {
    const o = await same(t, d, 'nope/');
    t.equal(o.code, 5);
    t.match(o.err, /@ERROR: Unknown module 'nope'/);
  });

  t.test('hosts deny, and hosts allow on a hidden module', async (t) => {
    const o = await same(t, d, 'denied/');
    t.match(o.err, /@ERROR: access denied to denied from UNDETERMINED \(127\.0\.0\.1\)/);
    const h = await same(t, d, 'hiddendenied/');
    t.match(h.err, /@ERROR: Unknown module 'hiddendenied'/);
  });

  t.test('wrong password and a missing user', async (t) => {
    const w = await same(t, d, 'priv/', [], { RSYNC_PASSWORD: 'wrong', USER: 'alice' });
    t.match(w.err, /@ERROR: auth failed on module priv/);
    const m = await same(t, d, 'priv/', [], { USER: 'bob', RSYNC_PASSWORD: 'secret123' });
    t.match(m.err, /@ERROR: auth failed on module priv/);
    await waitFor('our log names the reasons', () => /for alice: password mismatch/.test(readLog(d.oursLog)) && /for bob: no matching rule/.test(readLog(d.oursLog)), 10_000);
  });

  t.test('auth succeeds at protocols 30, 31, 32 with RSYNC_PASSWORD and --password-file', async (t) => {
    for (const proto of ['30', '31', '32']) {
      const env = await same(t, d, 'priv/', [`--protocol=${proto}`], { RSYNC_PASSWORD: 'secret123', USER: 'alice' });
      t.equal(env.code, 0, `RSYNC_PASSWORD at ${proto}`);
      t.match(env.out, /^Welcome.*\n.*\n\n[d-].* \.\n$/s, `listing of the module after auth at ${proto}`);
      const pf = await same(t, d, 'priv/', [`--protocol=${proto}`, `--password-file=${join(d.dir, 'pw')}`], { USER: 'alice' });
      t.equal(pf.code, 0, `--password-file at ${proto}`);
    }
    const pull = await client(['-a', `--password-file=${join(d.dir, 'pw')}`, url(d.ours, 'priv/'), join(d.dir, 'privcopy')], { USER: 'alice' });
    t.equal(pull.code, 0, `a pull after auth: ${pull.err}`);
  });

  t.test('world-readable secrets file with strict modes fails auth as rsync', async (t) => {
    const o = await same(t, d, 'openpw/', [], { RSYNC_PASSWORD: 'secret123', USER: 'alice' });
    t.equal(o.code, 5);
    t.match(o.err, /@ERROR: auth failed on module openpw/);
    await waitFor('logged', () => /secrets file must not be other-accessible/.test(readLog(d.oursLog)), 10_000);
  });

  t.test('max connections 1 with one connection in progress', async (t) => {
    const a = await holdModule(d.ours, 'one');
    const b = await holdModule(d.real, 'one');
    t.match(a.got(), /@RSYNCD: OK/, 'first connection to ours granted');
    t.match(b.got(), /@RSYNCD: OK/, 'first connection to the real one granted');
    const o = await same(t, d, 'one/');
    t.equal(o.code, 5);
    t.match(o.err, /@ERROR: max connections \(1\) reached -- try again later/);
    a.sock.destroy();
    b.sock.destroy();
    // The slot is freed when the connection process ends.
    await waitFor('slot released', async () => (await client([url(d.ours, 'one/')])).code === 0, 30_000, 200);
  });

  t.test('max connections 1 with one transfer running', async (t) => {
    // A slow pull (the client reads at 20 KB/s) holds the module's only slot on each daemon.
    writeFileSync(join(d.dir, 'pub', 'big.bin'), Buffer.alloc(200 * 1024, 7));
    const slow = [d.ours, d.real].map((port) => client(['--bwlimit=20', url(port, 'one/big.bin'), `${join(d.dir, `slow-${port}`)}/`]));
    // Data reaching the clients shows both sessions are in the transfer (rsync 3.5.0 as
    // nobody does not log "rsync on"); the paced sessions then last about 10 s.
    const receiving = (port: number): boolean => {
      try {
        return readdirSync(join(d.dir, `slow-${port}`)).some((f) => f.includes('big.bin'));
      } catch {
        return false;
      }
    };
    await waitFor('both transfers running', () => receiving(d.ours) && receiving(d.real), 30_000);
    const o = await same(t, d, 'one/');
    t.equal(o.code, 5);
    t.match(o.err, /@ERROR: max connections \(1\) reached -- try again later/);
    const done = await Promise.all(slow);
    t.same(done.map((x) => x.code), [0, 0], 'the slow transfers complete');
    rmSync(join(d.dir, 'pub', 'big.bin'));
  });

  t.test('a lock file shared with rsync --daemon counts both daemons\' connections', async (t) => {
    // Our slot is an OFD byte-range lock, which conflicts with rsync's fcntl record locks.
    const a = await holdModule(d.ours, 'shared');
    t.match(a.got(), /@RSYNCD: OK/);
    const r = await client([url(d.real, 'shared/')]);
    t.equal(r.code, 5);
    t.match(r.err, /@ERROR: max connections \(1\) reached -- try again later/);
    a.sock.destroy();
    await waitFor('real daemon admits again', async () => (await client([url(d.real, 'shared/')])).code === 0, 30_000, 200);
    const b = await holdModule(d.real, 'shared');
    t.match(b.got(), /@RSYNCD: OK/);
    const o = await client([url(d.ours, 'shared/')]);
    t.equal(o.code, 5, 'and the other way round');
    t.match(o.err, /max connections \(1\) reached/);
    b.sock.destroy();
  });

  t.test('a refused option', async (t) => {
    const o = await same(t, d, 'refuse/', ['-c']);
    t.match(o.err, /rsync: The server is configured to refuse --checksum \(-c\)/);
    // --delete stays on the client in a pull: both daemons let it through.
    const del = await same(t, d, 'refuse/', ['-r', '--delete'], {}, join(d.dir, 'del'));
    t.equal(del.code, 0);
  });

  t.test('a full pull works through the front end', async (t) => {
    const dst = join(d.dir, 'copy');
    const o = await client(['-a', url(d.ours, 'pub/'), dst]);
    t.equal(o.code, 0, o.err);
    t.equal(readLog(join(dst, 'a.txt')), 'hello\n');
    await waitFor('transfer request logged', () => /rsync on pub\/ from UNDETERMINED \(127\.0\.0\.1\)/.test(readLog(d.oursLog)), 10_000);
  });
});

t.test('the bundle (svbox.mjs) serves the same listing', peerOpts('rsync'), async (t) => {
  const d = await startBoth(t, 'mjs');
  const o = await same(t, d, '');
  t.equal(o.code, 0);
  await same(t, d, 'nope/');
});
