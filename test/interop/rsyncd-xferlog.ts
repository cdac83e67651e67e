// `transfer logging = yes` with a `log format`: our daemon and the real
// `rsync --daemon` serve the same tree with the same module settings (each with its
// own `log file`: with --log-file on the command line rsync 3.5.0 logs nothing after
// the module is entered), a stock rsync client pulls from both, and the per-item
// log lines must be the same once the timestamp and pid prefix are removed.
import t, { type Test } from 'tap';
import { appendFileSync, chmodSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { linkApplets } from '../fixtures/bin.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { freePort, start, waitFor } from '../fixtures/proc.js';
import { canConnect, client, readLog, RSYNC, url } from '../fixtures/rsyncd.js';

/** Every escape whose value both daemons can know (no %t/%p: they differ by design). */
const FORMAT = 'XFER %o|%h|%a|%m|%u|%f|%n|%l|%b|%c|%i|%M|%B|%U|%G|%L|%P|%10l|%-6o|';

function writeModules(dir: string, log: string): string {
  const conf = join(dir, `${log}.conf`);
  // The daemons run as root here; uid/gid root keep them from switching to nobody.
  const ids = process.getuid?.() === 0 ? '  uid = root\n  gid = root\n' : '';
  writeFileSync(conf, `reverse lookup = no
use chroot = no
log file = ${join(dir, log)}

[m]
  path = ${dir}/tree
${ids}  transfer logging = yes
  log format = ${FORMAT}
[plain]
  path = ${dir}/tree
${ids}  transfer logging = yes
[quiet]
  path = ${dir}/tree
${ids}`);
  return conf;
}

/** The lines a daemon wrote after `from` characters of its log, without date and pid. */
function linesOf(text: string, pick: RegExp): string[] {
  return text.split('\n').map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d \[\d+\] /, '')).filter((l) => pick.test(l));
}

t.test('transfer logging against rsync --daemon', peerOpts('rsync'), async (t) => {
  peerPaths('rsync');
  const dir = t.testdir();
  chmodSync(dir, 0o755);
  const tree = join(dir, 'tree');
  mkdirSync(join(tree, 'sub'), { recursive: true });
  writeFileSync(join(tree, 'a.txt'), 'hello\n');
  writeFileSync(join(tree, 'sub', 'b.bin'), Buffer.alloc(5000, 'b'));
  symlinkSync('a.txt', join(tree, 'link'));
  for (const f of ['a.txt', 'sub/b.bin']) chmodSync(join(tree, f), 0o644);
  for (const d of [tree, join(tree, 'sub')]) chmodSync(d, 0o755);
  for (const f of ['a.txt', 'sub/b.bin', 'sub', '.']) utimesSync(join(tree, f), 1_700_000_000, 1_700_000_000);

  const ours = await freePort();
  const real = await freePort();
  const bin = join(dir, 'bin');
  mkdirSync(bin);
  linkApplets(bin, 'sea', ['rsyncd']);
  start(t, join(bin, 'rsyncd'), ['--daemon', '--no-detach', `--port=${ours}`, `--config=${writeModules(dir, 'ours.log')}`], { detached: true });
  start(t, RSYNC, ['--daemon', '--no-detach', `--port=${real}`, `--config=${writeModules(dir, 'real.log')}`], { detached: true });
  await waitFor('both daemons listening', async () => (await canConnect(ours)) && (await canConnect(real)), 30_000, 50);
  const logs = { [ours]: join(dir, 'ours.log'), [real]: join(dir, 'real.log') };

  /** Pull `path` from both with `opts`; the log lines each daemon added that match `pick`. */
  const pull = async (t: Test, path: string, opts: string[], pick: RegExp, dest: string): Promise<string[]> => {
    const before = { [ours]: readLog(logs[ours]!).length, [real]: readLog(logs[real]!).length };
    const [o, r] = await Promise.all([ours, real].map((port) => client([...opts, url(port, path), join(dir, `${dest}-${port}`)])));
    t.equal(o!.code, 0, `pull ${path} from ours: ${o!.err}`);
    t.equal(r!.code, 0, `pull ${path} from rsync: ${r!.err}`);
    // Each daemon logs "rsync on" before the transfer and its item lines before the
    // client can finish; the wait only guards against a buffered write.
    await waitFor('request logged', () => [ours, real].every((p) => readLog(logs[p]!).slice(before[p]!).includes('rsync on')), 10_000);
    const [mine, theirs] = [ours, real].map((p) => linesOf(readLog(logs[p]!).slice(before[p]!), pick));
    t.same(mine, theirs, `log lines for ${opts.join(' ')} ${path}`);
    return theirs!;
  };
  const xfer = /^XFER /;

  t.test('a first pull logs each new item, with every escape', async (t) => {
    const lines = await pull(t, 'm/', ['-a'], xfer, 'first');
    t.equal(lines.length, 5, 'the module root, a.txt, link, sub, sub/b.bin');
    t.match(lines.join('\n'), /\|a\.txt\|a\.txt\|6\|49\|16\|<f\+{9}\|/, 'a transferred file: length, bytes sent and read, itemized');
    t.match(lines.join('\n'), /\|link\|link\|5\|0\|0\|cL\+{9}\|.*\| -> a\.txt\|/, 'a symlink: itemized only, with its target');
  });

  t.test('an unchanged second pull logs no item', async (t) => {
    const lines = await pull(t, 'm/', ['-a'], xfer, 'first');
    t.same(lines, [], 'rsync logs nothing per file when nothing changed');
  });

  t.test('a changed file is sent as a delta and logged with its flags', async (t) => {
    appendFileSync(join(tree, 'a.txt'), 'more\n');
    utimesSync(join(tree, 'a.txt'), 1_700_000_100, 1_700_000_100);
    utimesSync(join(tree, 'sub', 'b.bin'), 1_700_000_200, 1_700_000_200);
    const lines = await pull(t, 'm/', ['-a'], xfer, 'first');
    t.match(lines.join('\n'), /\|a\.txt\|a\.txt\|11\|\d+\|\d+\|<f\.st\.{6}\|/, 'size and time changed');
  });

  t.test('a file named inside a directory: %f has the directory, %n does not', async (t) => {
    const lines = await pull(t, 'm/sub/b.bin', ['-a'], xfer, 'single');
    t.match(lines.join('\n'), /\|sub\/b\.bin\|b\.bin\|5000\|/);
  });

  t.test('without -o/-g: uid 0 and gid DEFAULT', async (t) => {
    const lines = await pull(t, 'm/', ['-rl'], xfer, 'nog');
    t.ok(lines.length > 0);
  });

  t.test("the default format, which has no %i, logs transferred files only", async (t) => {
    const lines = await pull(t, 'plain/', ['-a'], /^send /, 'plain');
    t.same(lines, [
      'send UNDETERMINED [127.0.0.1] plain () a.txt 11',
      'send UNDETERMINED [127.0.0.1] plain () sub/b.bin 5000',
    ]);
  });

  t.test('transfer logging off: no item lines', async (t) => {
    const lines = await pull(t, 'quiet/', ['-a'], /^send |^XFER /, 'quiet');
    t.same(lines, []);
  });
});
