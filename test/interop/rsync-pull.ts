// A stock rsync client pulls from our server (remote-shell mode: `rsync -e RSH host:mod/`)
// and the result is checked against the real `rsync --daemon`: after our pull, an
// itemized dry run from the real daemon lists nothing, and a byte and metadata
// comparison with the source agrees. Hostile requests and a file truncated while it
// is sent end as they do against the real daemon.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readdirSync, readFileSync, statSync, truncateSync, existsSync, symlinkSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { ROOT, NODE } from '../fixtures/bin.js';
import { start, waitFor } from '../fixtures/proc.js';
import { makeTree, makeDiffering, makeRsh, startRealDaemon, rsync, treeDiff, isRoot, linkGroup } from '../fixtures/rsync-pull.js';

spawnSync(NODE, [join(ROOT, 'build/build.mjs'), '--if-stale'], { stdio: 'inherit' });

t.test('pull with every file type, protocols 30-32, options', peerOpts('rsync'), async (t) => {
  const { rsync: real } = peerPaths('rsync');
  const dir = t.testdir();
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  makeTree(tree);
  const rsh = makeRsh(dir);
  const d = await startRealDaemon(t, dir, real, { tree });
  const env = { SVBOX_RSYNC_MODULE: `tree=${tree}` };
  const base = isRoot ? ['-aHD'] : ['-aH'];
  let n = 0;

  const check = (t: Test, args: string[], into: 'empty' | 'differing', opts: { noDiff?: boolean } = {}): string => {
    const dst = join(dir, `dst${n++}`);
    if (into === 'differing') makeDiffering(tree, dst);
    const r = rsync(real, [...args, '-e', rsh, 'host:tree/', `${dst}/`], env);
    t.equal(r.status, 0, `rsync ${args.join(' ')} into ${into} dir exits 0 ${r.stderr}`);
    // -I would make every file show up in a dry run, whoever sent it
    const item = rsync(real, [...args.filter((a) => a !== '-I'), '--dry-run', '--itemize-changes', d.url('tree/'), `${dst}/`]);
    t.equal(item.status, 0);
    t.equal(item.stdout.trim(), '', 'an itemized dry run from the real daemon lists nothing');
    if (!opts.noDiff) t.same(treeDiff(tree, dst).filter((l) => args.includes('--delete') || !/missing in .*tree: (extra\.txt|olddir)/.test(l)), [], 'trees agree byte for byte');
    return dst;
  };

  for (const proto of [30, 31, 32]) {
    t.test(`protocol ${proto}`, async (t) => {
      const args = [...base, `--protocol=${proto}`];
      const dst = check(t, args, 'empty');
      t.equal(linkGroup(dst, ['big.bin', 'hard1', 'd1/hard2']), 1, 'hard links kept');
      check(t, args, 'differing');
    });
  }
  t.test('plain -a', async (t) => { check(t, ['-a'], 'empty'); });
  for (const opt of ['-c', '-W', '--inplace', '--delete', '-I', '--size-only']) {
    t.test(`option ${opt}`, async (t) => {
      const dst = check(t, [...base, opt], 'differing', { noDiff: opt === '--size-only' });
      if (opt === '--delete') t.notOk(existsSync(join(dst, 'extra.txt')) || existsSync(join(dst, 'olddir')), 'extraneous files deleted');
    });
  }
  t.test('client filters', async (t) => {
    for (const f of [['--exclude=*.bin', '--exclude=d2/'], ['--include=d1/', '--include=d1/**', '--exclude=*'], ['--filter=- /big.bin', '--filter=+ */', '--filter=- f1'], ['-C']]) {
      const dst = join(dir, `dst${n++}`);
      const r = rsync(real, [...base, ...f, '-e', rsh, 'host:tree/', `${dst}/`], env);
      t.equal(r.status, 0, `${f.join(' ')}: exit 0 ${r.stderr}`);
      const item = rsync(real, [...base, ...f, '--dry-run', '--itemize-changes', d.url('tree/'), `${dst}/`]);
      t.equal(item.stdout.trim(), '', `${f.join(' ')}: nothing left to do`);
    }
    t.notOk(existsSync(join(dir, `dst${n - 4}`, 'big.bin')), '--exclude applied by the sender');
  });
  t.test('--dry-run --itemize-changes lists what the real daemon lists', async (t) => {
    const dst = join(dir, `dst${n++}`);
    makeDiffering(tree, dst);
    const x = rsync(real, [...base, '-n', '-i', '-e', rsh, 'host:tree/', `${dst}/`], env);
    const y = rsync(real, [...base, '-n', '-i', d.url('tree/'), `${dst}/`]);
    t.equal(x.status, 0);
    t.ok(x.stdout.trim().length > 0, 'there are changes to list');
    t.equal(x.stdout, y.stdout, 'same itemized list');
  });
  t.test('delta transfer sends little', async (t) => {
    const dst = join(dir, `dst${n++}`);
    makeDiffering(tree, dst);
    // odd.bin's copy is unrelated to it (all literal): not what this test measures.
    const r = rsync(real, [...base, '--stats', '--exclude=odd.bin', '-e', rsh, 'host:tree/', `${dst}/`], env);
    const literal = Number(/Literal data: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
    const matched = Number(/Matched data: ([\d,]+)/.exec(r.stdout)?.[1]?.replace(/,/g, ''));
    t.ok(literal < 5000, `literal data ${literal}`);
    t.ok(matched > 990_000, `matched data ${matched}`);
  });
});

/** A test dir with an empty module dir `mod`, a remote-shell script for it and the real daemon serving it. */
async function oneModule(t: Test) {
  const { rsync: real } = peerPaths('rsync');
  const dir = t.testdir();
  const mod = join(dir, 'mod');
  mkdirSync(mod);
  const rsh = makeRsh(dir);
  const d = await startRealDaemon(t, dir, real, { mod });
  return { real, dir, mod, rsh, d };
}

t.test('confinement: hostile requests return nothing from outside', peerOpts('rsync'), async (t) => {
  const { real, dir, mod, rsh, d } = await oneModule(t);
  writeFileSync(join(mod, 'a.txt'), 'inside\n');
  writeFileSync(join(dir, 'outside.txt'), 'SECRET\n');
  symlinkSync('/etc', join(mod, 'etclink'));
  const env = { SVBOX_RSYNC_MODULE: `mod=${mod}` };
  const listing = (p: string): string[] => (existsSync(p) ? readdirSync(p, { recursive: true }) as string[] : []);
  for (const path of ['mod/../outside.txt', 'mod//etc/passwd', 'mod/etclink/passwd', 'mod/etclink/']) {
    const ours = join(dir, `ours${path.replace(/\W/g, '_')}`);
    const theirs = join(dir, `theirs${path.replace(/\W/g, '_')}`);
    mkdirSync(ours);
    mkdirSync(theirs);
    const r = rsync(real, ['-a', '-e', rsh, `host:${path}`, `${ours}/`], env);
    const q = rsync(real, ['-a', d.url(path), `${theirs}/`]);
    t.equal(r.status, q.status, `${path}: same exit code as the real daemon (${q.status})`);
    t.same(listing(ours), [], `${path}: nothing received`);
    const msg = (s: string): string => s.split('\n').find((l) => l.startsWith('rsync: [sender]')) ?? '';
    t.equal(msg(r.stderr), msg(q.stderr), `${path}: same message`);
  }
  const list = join(dir, 'files');
  writeFileSync(list, '../outside.txt\n/etc/passwd\netclink/passwd\na.txt\n');
  const ff = join(dir, 'ff');
  const r = rsync(real, ['-a', `--files-from=${list}`, '-e', rsh, 'host:mod/', `${ff}/`], env);
  t.equal(r.status, 23, '--files-from with outside paths: exit 23 as the real daemon');
  t.same(listing(ff).sort(), ['a.txt'], 'only the inside file arrived');
});

t.test('a file truncated while it is sent', peerOpts('rsync'), async (t) => {
  const { real, dir, mod, rsh, d } = await oneModule(t);
  const run = async (how: 'ours' | 'real'): Promise<{ code: number | null; stderr: string; size: number }> => {
    writeFileSync(join(mod, 'trunc.bin'), randomBytes(3_000_000));
    const dst = join(dir, `dst-${how}`);
    mkdirSync(dst);
    const args = how === 'ours' ? ['-a', '--bwlimit=400', '-e', rsh, 'host:mod/trunc.bin', `${dst}/`] : ['-a', '--bwlimit=400', d.url('mod/trunc.bin'), `${dst}/`];
    const p = start(t, real, args, { env: { ...process.env, SVBOX_RSYNC_MODULE: `mod=${mod}` } });
    // Truncate once the client is writing the file (its temporary file has grown).
    await waitFor('the transfer to be under way', () => readdirSync(dst).some((f) => f.startsWith('.trunc.bin.') && statSync(join(dst, f)).size > 100_000), 60_000);
    truncateSync(join(mod, 'trunc.bin'), 1_000_000);
    const e = await p.exited;
    return { code: e.code, stderr: p.stderr(), size: statSync(join(dst, 'trunc.bin')).size };
  };
  const ours = await run('ours');
  const theirs = await run('real');
  t.equal(ours.code, theirs.code, `client exit code as against the real daemon (${theirs.code})`);
  t.match(ours.stderr, /rsync: \[sender\] read errors mapping "trunc\.bin" \(in mod\): No data available \(61\)/);
  t.equal(ours.size, theirs.size, 'the redo phase leaves the same file');
});

t.test('a file that vanishes before it is sent', peerOpts('rsync'), async (t) => {
  const { real, dir, mod, rsh, d } = await oneModule(t);
  const run = async (how: 'ours' | 'real'): Promise<{ code: number | null; stderr: string }> => {
    writeFileSync(join(mod, 'a-slow.bin'), randomBytes(2_000_000));
    writeFileSync(join(mod, 'z-gone.txt'), 'soon gone\n');
    const dst = join(dir, `v-${how}`);
    mkdirSync(dst);
    const args = how === 'ours' ? ['-a', '--bwlimit=400', '-e', rsh, 'host:mod/', `${dst}/`] : ['-a', '--bwlimit=400', d.url('mod/'), `${dst}/`];
    const p = start(t, real, args, { env: { ...process.env, SVBOX_RSYNC_MODULE: `mod=${mod}` } });
    await waitFor('the first file to be under way', () => readdirSync(dst).some((f) => f.startsWith('.a-slow.bin.') && statSync(join(dst, f)).size > 100_000), 60_000);
    rmSync(join(mod, 'z-gone.txt'));
    const e = await p.exited;
    return { code: e.code, stderr: p.stderr() };
  };
  const ours = await run('ours');
  const theirs = await run('real');
  t.equal(ours.code, theirs.code, `exit code as against the real daemon (${theirs.code})`);
  t.match(ours.stderr, /file has vanished: "z-gone\.txt" \(in mod\)/);
});

t.test('a stalled client: the server gives up after the timeout', peerOpts('rsync'), async (t) => {
  const { rsync: real } = peerPaths('rsync');
  const dir = t.testdir();
  const mod = join(dir, 'mod');
  mkdirSync(mod);
  writeFileSync(join(mod, 'slow.bin'), randomBytes(3_000_000));
  // A remote-shell stand-in that records our server's pid (exec keeps it).
  const inner = makeRsh(dir);
  const rsh = join(dir, 'rsh-pid');
  writeFileSync(rsh, `#!/bin/sh\necho $$ > '${join(dir, 'server.pid')}'\nexec '${inner}' "$@"\n`, { mode: 0o755 });
  const dst = join(dir, 'dst');
  mkdirSync(dst);
  const p = start(t, real, ['-a', '--timeout=3', '--bwlimit=200', '-e', rsh, 'host:mod/', `${dst}/`], { env: { ...process.env, SVBOX_RSYNC_MODULE: `mod=${mod}` } });
  await waitFor('the transfer to be under way', () => readdirSync(dst).some((f) => f.startsWith('.slow.bin.') && statSync(join(dst, f)).size > 50_000), 60_000);
  const pid = Number(readFileSync(join(dir, 'server.pid'), 'utf8'));
  // Exited means gone or a zombie: the stopped client cannot reap it yet.
  const alive = (): boolean => {
    try {
      return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  t.teardown(() => { if (alive()) process.kill(pid, 'SIGKILL'); });
  p.child.kill('SIGSTOP');
  try {
    await waitFor('our server to exit after the I/O timeout', () => !alive(), 30_000);
    t.pass('server exited while the client was stopped');
  } finally {
    p.child.kill('SIGCONT');
  }
  const e = await p.exited;
  t.not(e.code, 0, `the client fails (${e.code})`);
});
