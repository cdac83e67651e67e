// The same pulls through the daemon front end: a stock rsync client against our
// `rsyncd --daemon` and the real `rsync --daemon` with the same modules. Adds what
// only daemon mode shows: -R, several sources, listings, module filters, munged
// symlinks and outgoing chmod.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, symlinkSync, readdirSync, existsSync, statSync, truncateSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { start, waitFor } from '../fixtures/proc.js';
import { join } from 'node:path';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { ROOT, NODE } from '../fixtures/bin.js';
import { makeTree, makeDiffering, startBothDaemons, rsync, treeDiff, isRoot } from '../fixtures/rsync-pull.js';

spawnSync(NODE, [join(ROOT, 'build/build.mjs'), '--if-stale'], { stdio: 'inherit' });

t.test('pulls from our daemon agree with the real daemon', peerOpts('rsync'), async (t) => {
  const { rsync: real } = peerPaths('rsync');
  const dir = t.testdir();
  const tree = join(dir, 'tree');
  mkdirSync(tree);
  makeTree(tree);
  const mod = join(dir, 'mod');
  mkdirSync(mod);
  writeFileSync(join(mod, 'a.txt'), 'inside\n');
  writeFileSync(join(mod, 'skip.bin'), 'excluded by the module\n');
  writeFileSync(join(dir, 'outside.txt'), 'SECRET\n');
  symlinkSync('/etc', join(mod, 'etclink'));
  symlinkSync('/rsyncd-munged/a.txt', join(mod, 'munged'));
  const { ours, real: theirs } = await startBothDaemons(t, dir, real, { tree, mod, munge: mod, chm: mod }, {
    mod: 'exclude = *.bin\n', munge: 'munge symlinks = yes\n', chm: 'outgoing chmod = Fa+x,Dg+w\n',
  });
  const base = isRoot ? ['-aHD'] : ['-aH'];
  let n = 0;
  const pair = (args: string[], paths: string[]): { a: string; b: string; ra: number | null; rb: number | null; ea: string; eb: string } => {
    const a = join(dir, `o${n}`);
    const b = join(dir, `r${n++}`);
    const x = rsync(real, [...args, ...paths.map((p) => ours.url(p)), `${a}/`]);
    const y = rsync(real, [...args, ...paths.map((p) => theirs.url(p)), `${b}/`]);
    return { a, b, ra: x.status, rb: y.status, ea: x.stderr, eb: y.stderr };
  };

  for (const proto of [30, 31, 32]) {
    t.test(`protocol ${proto}, empty and differing destination`, async (t) => {
      for (const into of ['empty', 'differing']) {
        const dst = join(dir, `p${n++}`);
        if (into === 'differing') makeDiffering(tree, dst);
        const args = [...base, `--protocol=${proto}`];
        const r = rsync(real, [...args, ours.url('tree/'), `${dst}/`]);
        t.equal(r.status, 0, `${into}: exit 0 ${r.stderr}`);
        const item = rsync(real, [...args, '--dry-run', '--itemize-changes', theirs.url('tree/'), `${dst}/`]);
        t.equal(item.stdout.trim(), '', `${into}: the real daemon finds nothing to do`);
        t.same(treeDiff(tree, dst).filter((l) => !/(extra\.txt|olddir)/.test(l)), [], `${into}: trees agree`);
      }
    });
  }
  t.test('source forms: -R, several sources, sub/ and sub, one file', async (t) => {
    for (const [args, paths] of [
      [['-aR'], ['tree/d1/f1', 'tree/sp ace']],
      [['-a'], ['tree/d1', 'tree/zero', 'tree/sp ace/']],
      [['-a'], ['tree/d1/d2/']],
      [['-a'], ['tree/d1/f1']],
      [['-r'], ['tree/']],
      [['-d'], ['tree/']],
    ] as [string[], string[]][]) {
      const p = pair(args, paths);
      t.equal(p.ra, p.rb, `${args} ${paths.join(' ')}: same exit code ${p.ea}`);
      t.same(treeDiff(p.b, p.a, { owners: isRoot, times: args.includes('-a') || args.includes('-aR') }), [], `${args} ${paths.join(' ')}: same result`);
    }
  });
  t.test('listing', async (t) => {
    for (const path of ['tree/', 'tree/d1/', 'mod/']) {
      const x = rsync(real, [ours.url(path)]);
      const y = rsync(real, [theirs.url(path)]);
      t.equal(x.stdout, y.stdout, `rsync ${path} lists the same`);
    }
  });
  t.test('module settings: exclude, munge symlinks, outgoing chmod', async (t) => {
    for (const m of ['mod', 'munge', 'chm']) {
      const p = pair(['-a'], [`${m}/`]);
      t.equal(p.ra, p.rb, `${m}: same exit code`);
      t.same(treeDiff(p.b, p.a), [], `${m}: same result`);
    }
    t.notOk(existsSync(join(dir, `o${n - 3}`, 'skip.bin')), 'module exclude applied');
  });
  t.test('hostile requests', async (t) => {
    for (const path of ['mod/../outside.txt', 'mod//etc/passwd', 'mod/etclink/passwd', 'mod/etclink/']) {
      const p = pair(['-a'], [path]);
      t.equal(p.ra, p.rb, `${path}: exit ${p.rb} as the real daemon`);
      t.same(existsSync(p.a) ? readdirSync(p.a) : [], [], `${path}: nothing received`);
      const msg = (s: string): string => s.split('\n').find((l) => l.startsWith('rsync: [sender]')) ?? '';
      t.equal(msg(p.ea), msg(p.eb), `${path}: same message`);
    }
    const list = join(dir, 'files');
    writeFileSync(list, '../outside.txt\n/etc/passwd\netclink/passwd\na.txt\n');
    const p = pair(['-a', `--files-from=${list}`], ['mod/']);
    t.equal(p.ra, p.rb, '--files-from with outside paths: same exit code');
    t.same(readdirSync(p.a), ['a.txt'], 'only the inside file arrived');
  });
  t.test('a file truncated while it is sent', async (t) => {
    const run = async (url: (p: string) => string, tag: string): Promise<{ code: number | null; stderr: string; size: number }> => {
      writeFileSync(join(mod, 'trunc.bin'), randomBytes(3_000_000));
      const dst = join(dir, `trunc-${tag}`);
      mkdirSync(dst);
      const p = start(t, real, ['-a', '--bwlimit=400', url('munge/trunc.bin'), `${dst}/`]);
      await waitFor('the transfer to be under way', () => readdirSync(dst).some((f) => f.startsWith('.trunc.bin.') && statSync(join(dst, f)).size > 100_000), 60_000);
      truncateSync(join(mod, 'trunc.bin'), 1_000_000);
      const e = await p.exited;
      return { code: e.code, stderr: p.stderr(), size: statSync(join(dst, 'trunc.bin')).size };
    };
    const a = await run(ours.url, 'ours');
    const b = await run(theirs.url, 'real');
    t.equal(a.code, b.code, `exit code as against the real daemon (${b.code})`);
    t.match(a.stderr, /read errors mapping "trunc\.bin" \(in munge\): No data available \(61\)/);
    t.equal(a.size, b.size, 'same file after the redo');
  });
  t.test('unreadable files, with and without ignore nonreadable', { skip: isRoot ? false : 'needs root to run the modules as nobody' }, async (t) => {
    const unr = join(dir, 'unr');
    mkdirSync(unr, { mode: 0o755 });
    writeFileSync(join(unr, 'private.txt'), 'secret\n', { mode: 0o600 });
    writeFileSync(join(unr, 'public.txt'), 'public\n', { mode: 0o644 });
    const sub = join(dir, 'unr-daemons');
    mkdirSync(sub);
    const both = await startBothDaemons(t, sub, real, { unr, unrig: unr }, {
      unr: 'uid = nobody\ngid = nogroup\n', unrig: 'uid = nobody\ngid = nogroup\nignore nonreadable = yes\n',
    });
    for (const m of ['unr', 'unrig']) {
      const a = join(dir, `${m}-ours`);
      const b = join(dir, `${m}-real`);
      const x = rsync(real, ['-a', both.ours.url(`${m}/`), `${a}/`]);
      const y = rsync(real, ['-a', both.real.url(`${m}/`), `${b}/`]);
      t.equal(x.status, y.status, `${m}: exit ${y.status} as the real daemon`);
      t.same(readdirSync(a).sort(), readdirSync(b).sort(), `${m}: same files`);
      const msg = (e: string): string => e.split('\n').find((l) => l.startsWith('rsync: [sender]')) ?? '';
      t.equal(msg(x.stderr), msg(y.stderr), `${m}: same message`);
    }
  });
});
