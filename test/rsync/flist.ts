// File-list order (flist.c: f_name_cmp for protocol >= 29), filter rules as the
// sender applies them, sanitizing of requested paths, and chmod rules.
import t from 'tap';
import { compareEntries, type Entry } from '../../src/rsync/flist.js';
import { FilterList } from '../../src/rsync/filter.js';
import { sanitizePath } from '../../src/rsync/confine.js';
import { parseChmod, tweakMode } from '../../src/rsync/chmod.js';
import { FlistEncoder } from '../../src/rsync/wire/flist.js';
import { OutBuf } from '../../src/rsync/wire/codec.js';

const entry = (name: string, dir: boolean): Entry => ({
  name, src: name, mode: dir ? 0o40755 : 0o100644, size: 0, mtime: 0, nsec: 0, atime: 0, uid: 0, gid: 0, rdevMajor: 0, rdevMinor: 0,
  link: undefined, dirFlags: 0, hlinkFirstIndex: -1, hlinked: false, sum: undefined, dev: 0n, ino: 0n, parts: name === '.' ? [] : name.split('/'),
});

t.test('protocol 29+ order: files before directories, a directory sorts as NAME/', async (t) => {
  // The order the protocol notes verified against a real client.
  const want = ['.', '.hidden', 'a-b', 'a.txt', 'z', 'B', 'B/c', 'a.d', 'a.d/x', 'a', 'a/b'];
  const dirs = new Set(['.', 'B', 'a.d', 'a']);
  const shuffled = [...want].reverse().map((n) => entry(n, dirs.has(n)));
  t.same(shuffled.sort(compareEntries).map((e) => e.name), want);
});

t.test('filter rules', async (t) => {
  const f = new FilterList();
  for (const r of ['- *.tmp', '+ keep/', '- /top', '- sub/deep', '- dir/***']) f.add(r);
  t.ok(f.excluded('x/y.tmp', false), 'basename wildcard anywhere');
  t.ok(f.excluded('top', false), 'anchored at the root');
  t.notOk(f.excluded('a/top', false), 'anchored does not match deeper');
  t.ok(f.excluded('a/sub/deep', false), 'a pattern with a slash matches the tail components');
  t.notOk(f.excluded('a/xsub/deep', false));
  t.ok(f.excluded('dir', true) && f.excluded('dir/a/b', false), 'dir/*** covers the dir and its contents');
  t.notOk(f.excluded('keep', true), 'include for a directory');
  const neg = new FilterList();
  neg.add('-! *.c');
  t.ok(neg.excluded('x.h', false), '-! excludes what does not match');
  t.notOk(neg.excluded('x.c', false));
  const c = new FilterList();
  c.add('-C');
  t.ok(c.excluded('a/core', false) && c.excluded('x.o', false) && c.excluded('.git', true), 'CVS defaults');
  t.notOk(c.excluded('.git', false), '.git/ only matches a directory');
  const clear = new FilterList();
  clear.add('- *');
  clear.add('!');
  t.notOk(clear.excluded('x', false), '! clears the list');
  const m = new FilterList();
  t.notOk(m.add(': .rsync-filter'));
  t.ok(m.hasMerge, 'per-directory merge rules are flagged');
  const r = new FilterList();
  r.add('-r *.x');
  t.notOk(r.excluded('a.x', false), 'receiver-side rules do not affect the sender');
});

t.test('sanitize_path never climbs out', async (t) => {
  t.equal(sanitizePath('../x'), 'x');
  t.equal(sanitizePath('/etc/passwd'), 'etc/passwd');
  t.equal(sanitizePath('a/../../b/./c/'), 'b/c/');
  t.equal(sanitizePath('a//b'), 'a/b');
  t.equal(sanitizePath(''), '');
});

t.test('outgoing chmod', async (t) => {
  const spec = parseChmod('Dg+w,Fo-r,Fa+X')!;
  t.equal(tweakMode(0o40755, spec), 0o40775);
  t.equal(tweakMode(0o100644, spec), 0o100640);
  t.equal(tweakMode(0o100744, spec), 0o100751);
  t.equal(tweakMode(0o100600, parseChmod('644')!), 0o100644);
  t.equal(parseChmod('q+z'), undefined);
});

t.test('file-list entry bytes match a real daemon trace (protocol 32, doc 14.1)', async (t) => {
  const enc = new FlistEncoder({ protocol: 32, varintFlags: true, preserveUid: true, preserveGid: true, preserveDevices: true, preserveSpecials: true, preserveLinks: true, atimes: false, csumLen: 0 });
  const o = new OutBuf();
  const base = { nsec: 0, atime: 0, rdevMajor: 0, rdevMinor: 0, link: undefined, hlinkFirstIndex: -1, hlinked: false, sum: undefined };
  enc.entry(o, { ...base, name: '.', mode: 0o40755, size: 4096, mtime: 1704164645, uid: 0, gid: 0, dirFlags: 1 });
  enc.entry(o, { ...base, name: 'dir', mode: 0o40755, size: 4096, mtime: 1704164645, uid: 0, gid: 0, dirFlags: 0 });
  enc.entry(o, { ...base, name: 'dir/file.txt', mode: 0o100644, size: 6, mtime: 1704164645, uid: 65534, gid: 65534, dirFlags: 0 });
  enc.entry(o, { ...base, name: 'dir/link', mode: 0o120777, size: 8, mtime: 1704164645, uid: 0, gid: 0, dirFlags: 0, link: 'file.txt' });
  enc.end(o, 0, true);
  const hex = Buffer.from(o.take()).toString('hex');
  t.equal(hex, [
    '01', '012e', '000010', '65257d93', 'ed410000', '00', '00',
    '809a', '03646972', '000010',
    '80a0', '03', '092f66696c652e747874', '000600', 'a4810000', 'c0feff', 'c0feff',
    '80a0', '04', '046c696e6b', '000800', 'ffa10000', '00', '00', '0866696c652e747874',
    '0000',
  ].join(''));
});
