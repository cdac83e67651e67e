// SPDX-License-Identifier: MIT
// Our svlogd against runit's /usr/bin/svlogd: for each scenario both get the same
// input, signals and config changes, one after the other, and the log directories
// must hold the same files (TAI64N names normalised) with the same modes and
// contents (timestamps normalised), and stderr must match too.
import t, { type Test } from 'tap';
import { chmodSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTEFACTS, type Artefact } from '../fixtures/bin.js';
import { peerOpts, peerPaths } from '../fixtures/peers.js';
import { waitFor } from '../fixtures/proc.js';
import { normalise, ourSvlogd, snapshot, startLogger, storedLines, waitLines, type FileEntry, type Logger } from '../fixtures/svlogd.js';

interface Side {
  root: string;
  dir(name: string): string;
  log: Logger;
}

interface Scenario {
  args: string[];
  /** Log directory name -> config text (undefined: no config file). */
  dirs: Record<string, string | undefined>;
  /** Files to put in the directories first: path under the side's root -> [content, mode]. */
  files?: Record<string, [string, number]>;
  /** Feed the logger; the harness closes stdin afterwards. */
  steps(s: Side): Promise<void>;
}

interface Result {
  code: number | null;
  stderr: string;
  dirs: Record<string, FileEntry[]>;
}

async function runSide(t: Test, base: string, bin: string, side: string, sc: Scenario): Promise<Result> {
  const root = join(base, side);
  mkdirSync(root);
  for (const [d, config] of Object.entries(sc.dirs)) {
    mkdirSync(join(root, d));
    if (config !== undefined) writeFileSync(join(root, d, 'config'), config);
  }
  for (const [f, [content, mode]] of Object.entries(sc.files ?? {})) {
    writeFileSync(join(root, f), content);
    chmodSync(join(root, f), mode);
  }
  const log = startLogger(t, bin, [...sc.args, ...Object.keys(sc.dirs)], root);
  await sc.steps({ root, dir: (n) => join(root, n), log });
  const ex = await log.end();
  const dirs: Record<string, FileEntry[]> = {};
  for (const d of Object.keys(sc.dirs)) dirs[d] = snapshot(join(root, d));
  // When runit's SIGCHLD handler runs depends on timing; the line itself is not compared.
  const stderr = normalise(log.stderr()).replaceAll('svlogd: info: sigchild received.\n', '');
  return { code: ex.code, stderr, dirs };
}

async function compare(t: Test, sc: Scenario, artefacts: readonly Artefact[] = ['sea']): Promise<Result> {
  const base = t.testdir();
  const { svlogd } = peerPaths('svlogd');
  const theirs = await runSide(t, base, svlogd, 'runit', sc);
  let ours: Result | undefined;
  for (const kind of artefacts) {
    const bins = join(base, `bin-${kind}`);
    mkdirSync(bins);
    ours = await runSide(t, base, ourSvlogd(bins, kind), `ours-${kind}`, sc);
    t.same(ours, theirs, `${kind}: same files, modes, contents and stderr as runit`);
  }
  t.equal(theirs.code, 0, 'runit exits 0');
  return ours!;
}

const lines = (n: number, f: (i: number) => string): string => Array.from({ length: n }, (_, i) => `${f(i)}\n`).join('');

const only = process.env.SVLOGD_ONLY;
/** A scenario needs runit's svlogd; SVLOGD_ONLY=WORD runs only the scenarios whose name holds WORD. */
const scenario = (name: string, fn: (t: Test) => Promise<void>): void => {
  t.test(name, only && !name.includes(only) ? { skip: `SVLOGD_ONLY=${only}` } : peerOpts('svlogd'), fn);
};

scenario('no rotation: bytes kept, empty lines, partial last line dropped', async (t) => {
  const input = `${lines(50, (i) => `line ${i}\twith tab \u0001 ctl`)}\n\n${Buffer.from([0xff, 0x80, 0x41]).toString('latin1')}\nlast without newline`;
  for (const args of [[], ['-t'], ['-tt'], ['-ttt'], ['-tttt']]) {
    const r = await compare(t, {
      args,
      dirs: { log: undefined },
      steps: async (s) => { await s.log.write(Buffer.from(input, 'latin1')); },
    }, ARTEFACTS);
    t.equal(r.dirs.log!.find((f) => f.name === 'current')!.content.split('\n').length, 54, `${args.join('') || 'no -t'}: 53 lines`);
  }
});

scenario('size rotation with n and N, s below -l, k suffix', async (t) => {
  const r = await compare(t, {
    // s >= -l keeps lines whole; with s == -l every line rotates at once.
    args: ['-tt', '-l', '100', '-b', '200'],
    dirs: { a: 's500\nn3\nN1\n', b: 's100\nn4\n', c: 's1k\nn0\n# comment\nbogus line\n' },
    steps: async (s) => { await s.log.write(lines(300, (i) => `message number ${i} ${'x'.repeat(i % 37)}`)); },
  });
  t.equal(r.dirs.a!.filter((f) => f.name.startsWith('@')).length, 3, 'n3 keeps three');
  t.equal(r.dirs.b!.filter((f) => f.name.startsWith('@')).length, 4, 'n4 keeps four');
  t.ok(r.dirs.c!.filter((f) => f.name.startsWith('@')).length > 10, 'n0 keeps all');
  // s below -l (default 1000): files are cut at exactly s bytes, inside lines.
  const split = await compare(t, {
    args: [],
    dirs: { d: 's100\nn0\n' },
    steps: async (s) => { await s.log.write(lines(40, (i) => `split line ${i} ${'y'.repeat(i)}`)); },
  });
  t.ok(split.dirs.d!.filter((f) => f.name.startsWith('@')).every((f) => f.content.length === 100), 'every rotated file is 100 bytes');
});

scenario('+ and - patterns over two dirs, e and E to stderr, prefix', async (t) => {
  const input = lines(60, (i) => [`tcpsvd: info: pid ${i} from 127.0.0.1`, `debug: value ${i}`, `error: failed ${i}`, `warn: slow ${i}`, `plain ${i}`, `aaab${i}`][i % 6]!);
  await compare(t, {
    args: ['-tt'],
    dirs: {
      one: '-*debug*\n+*: *: pid *\ne*error*\nearror: *\nE*7\npONE: \n',
      two: '-*\n+*: *: pid *\n+warn*\n++ab*\n-*9\ne*\nE*: *: pid *\n',
    },
    steps: async (s) => { await s.log.write(input); },
  });
});

scenario('-l truncation: file gets the whole line, stderr and patterns only -l bytes', async (t) => {
  const input = lines(20, (i) => `${'abcdefghij'.repeat(1 + (i % 5))}${i}`) + `${'z'.repeat(300)}\n${'q'.repeat(40)}`;
  await compare(t, {
    args: ['-t', '-l', '20', '-b', '64'],
    dirs: { log: 'e*\n-abcdefghij*1\npP: \n' },
    steps: async (s) => { await s.log.write(input); },
  });
});

scenario('-r and -R replacement', async (t) => {
  const input = Buffer.from(`${lines(10, (i) => `tab\there ${i} x y \u0007 bell`)}caf\u00e9 \u00ff end\n`, 'latin1');
  for (const args of [['-r', '#', '-R', 'xy'], ['-R', 'ab'], ['-R', 'e', '-r', '!'], ['-r', '.', '-l', '8', '-b', '9']]) {
    await compare(t, {
      args,
      dirs: { log: 'e*\n-*#y*\n' },
      steps: async (s) => { await s.log.write(input); },
    });
  }
});

scenario('a gzip processor, and a processor keeping state on fd 4/5', async (t) => {
  const r = await compare(t, {
    args: ['-tt', '-l', '100', '-b', '200'],
    dirs: {
      z: 's400\nn3\n!gzip\n',
      c: 's300\nn0\n!cat; read n <&4; echo $((${n:-0}+1)) >&5\n',
    },
    steps: async (s) => { await s.log.write(lines(60, (i) => `processed line ${i}`)); },
  });
  t.equal(r.dirs.z!.filter((f) => f.name.endsWith('.s')).length, 4, 'n3 with a processor keeps four .s (Debian runit)');
  t.match(r.dirs.c!.find((f) => f.name === 'state')!.content, /^\d+\n$/, 'state counter written');
});

scenario('HUP mid-stream with a changed config', async (t) => {
  await compare(t, {
    args: ['-v', '-tt', '-l', '100', '-b', '101'],
    dirs: { log: 's2000\n' },
    steps: async (s) => {
      await s.log.write(lines(20, (i) => `before ${i}`));
      await waitLines(s.dir('log'), 20);
      writeFileSync(join(s.dir('log'), 'config'), 's200\nn2\n-*skip*\npNEW: \n');
      s.log.signal('SIGHUP');
      await waitFor('config re-read', () => s.log.stderr().includes('append: log/current'));
      await s.log.write(lines(20, (i) => (i % 3 ? `after ${i}` : `skip ${i}`)));
    },
  });
});

scenario('ALRM rotates at once; never an empty current', async (t) => {
  await compare(t, {
    args: ['-v', '-t'],
    dirs: { log: undefined, other: 'n2\n' },
    steps: async (s) => {
      const alarms = (): number => s.log.stderr().split('sigalarm received.').length - 1;
      let sent = 0;
      for (const n of [10, 5, 7, 0]) {
        await s.log.write(lines(n, (i) => `batch ${sent} line ${i}`));
        sent += n;
        await waitLines(s.dir('log'), sent);
        const before = alarms();
        s.log.signal('SIGALRM');
        await waitFor('ALRM handled', () => alarms() === before + 1);
      }
      await s.log.write('tail\n');
      await waitFor('tail', () => readFileSync(join(s.dir('log'), 'current'), 'latin1').includes(' tail'));
    },
  });
});

scenario('start-up after a crash: unclean current kept as .u, pruned by n; clean current appended', async (t) => {
  const old = (i: number): string => `a/@4000000060000000000000${String(i).padStart(2, '0')}.s`;
  await compare(t, {
    args: ['-v'],
    dirs: { a: 'n2\n!cat\n', b: undefined },
    files: {
      [old(1)]: ['one\n', 0o744],
      [old(2)]: ['two\n', 0o744],
      [old(3)]: ['three\n', 0o744],
      'a/@400000006000000000000004.t': ['leftover\n', 0o644],
      'a/current': ['crashed\n', 0o644],
      'b/current': ['clean\n', 0o744],
    },
    steps: async (s) => { await s.log.write('after restart\n'); },
  });
});

scenario('HUP while a processor runs: it is forgotten, its .u stays, its .t is cleaned up', async (t) => {
  const r = await compare(t, {
    args: ['-v'],
    dirs: { log: 's100\n!sleep 1; cat\n' },
    steps: async (s) => {
      await s.log.write(lines(8, (i) => `line ${i} padding padding`));
      await waitFor('processor started', () => s.log.stderr().includes('processing: log/'));
      writeFileSync(join(s.dir('log'), 'config'), 's100\n');
      s.log.signal('SIGHUP');
      await waitFor('config re-read', () => s.log.stderr().includes('append: log/current'));
      await s.log.write(lines(8, (i) => `line ${i + 8} padding padding`));
      await waitFor('two more rotations', () => s.log.stderr().split('rename:').length === 4);
    },
  });
  t.same(r.dirs.log!.filter((f) => f.name.startsWith('@')).map((f) => `${f.name} ${f.mode}`), ['@TAI64N.u 744', '@TAI64N.s 744', '@TAI64N.s 744']);
});

scenario('a failing processor is restarted on the same .u; nothing is lost', async (t) => {
  const r = await compare(t, {
    args: ['-l', '100', '-b', '101'],
    // Fails on the first try of every file (a marker per input name), then compresses.
    dirs: { log: 's300\nn0\n!f=$(ls -1 @*.u | head -1); if [ ! -e "tried$f" ]; then : >"tried$f"; echo broken; exit 7; fi; gzip\n' },
    steps: async (s) => { await s.log.write(lines(40, (i) => `retried line ${i}`)); },
  });
  const text = r.dirs.log!.filter((f) => f.name.endsWith('.s') || f.name === 'current').map((f) => f.content).join('');
  t.equal(text, lines(40, (i) => `retried line ${i}`), 'every line once, in order, after the retries');
  t.match(r.stderr, /svlogd: warning: processor failed, restart: log\n/);
});
