// Server argument parsing and `refuse options` as rsync's options.c does them.
import t from 'tap';
import { parseServerArgs, RefuseRules, OptionError, capabilityLetters, optionErrorLine } from '../../src/rsync/options.js';
import { wildmatch } from '../../src/rsync/wildmatch.js';

t.test('a real pull argument list', async (t) => {
  const o = parseServerArgs(['--server', '--sender', '-vlogDtpre.iLsfxCIvu', '.', 'mod/']);
  t.ok(o.server && o.sender);
  t.equal(o.verbose, 1);
  t.ok(o.links && o.owner && o.group && o.devices && o.specials && o.times && o.perms && o.recursive);
  t.equal(o.capabilities, '.iLsfxCIvu');
  t.equal(capabilityLetters(o), 'iLsfxCIvu');
  t.same(o.operands, ['.', 'mod/']);
});

t.test('long options, attached and separate values, -B and -e', async (t) => {
  const o = parseServerArgs(['--server', '--sender', '-cWe.LsfxCIvu', '-B2048', '--delete', '--files-from', 'list', '--checksum-seed=7', '--no-W', '.', 'm/a', 'm/b']);
  t.ok(o.checksum);
  t.equal(o.blockSize, 2048);
  t.equal(o.capabilities, '.LsfxCIvu');
  t.equal(o.wholeFile, false);
  t.ok(o.delete);
  t.equal(o.filesFrom, 'list');
  t.equal(o.checksumSeed, 7);
  t.same(o.operands, ['.', 'm/a', 'm/b']);
});

t.test('unknown options are reported as rsync does', async (t) => {
  t.throws(() => parseServerArgs(['--server', '--frobnicate', '.']), new OptionError('on remote machine: --frobnicate: unknown option'));
  t.throws(() => parseServerArgs(['--server', '-vQ', '.']), /-Q: unknown option/);
});

t.test('refuse options', async (t) => {
  const r = new RefuseRules('checksum delete*');
  const err = (() => { try { parseServerArgs(['--server', '--sender', '-vlogDtpcre.iLsfxCIvu', '.', 'm/'], r); } catch (e) { return e; } return undefined; })();
  t.ok(err instanceof OptionError && err.refused);
  t.equal(optionErrorLine(err as OptionError), 'rsync: The server is configured to refuse --checksum (-c)\n');
  t.throws(() => parseServerArgs(['--server', '--delete-after', '.'], r), /refuse --delete-after$/);
  t.doesNotThrow(() => parseServerArgs(['--server', '-vlogDtpre.iLsfxCIvu', '.'], r));
  // `a` means the archive letters; an exact rule marks one option; ! accepts again.
  const a = new RefuseRules('a !t');
  t.throws(() => parseServerArgs(['--server', '-rt', '.'], a), /refuse --recursive \(-r\)/);
  t.doesNotThrow(() => parseServerArgs(['--server', '-t', '.'], a));
  // wildcards never match exact-only options such as --server, -e or -n
  const w = new RefuseRules('*');
  t.doesNotThrow(() => parseServerArgs(['--server', '--sender', '-ne.LsfxCIvu', '.'], w));
  t.throws(() => parseServerArgs(['--server', '-v', '.'], w), /refuse --verbose \(-v\)/);
  // always refused by a daemon
  t.throws(() => parseServerArgs(['--server', '--copy-devices', '.'], new RefuseRules('')), /refuse --copy-devices$/);
  t.doesNotThrow(() => parseServerArgs(['--server', '--copy-devices', '.'], new RefuseRules('!copy-devices')));
});

t.test('wildmatch', async (t) => {
  const yes: [string, string][] = [['*.c', 'a.c'], ['a/*', 'a/b'], ['**', 'a/b/c'], ['a/**/c', 'a/b/x/c'], ['[a-c]x', 'bx'], ['[!a]x', 'bx'], ['[[:digit:]]', '7'], ['\\*', '*'], ['?', 'x'], ['delete*', 'delete-after'], ['[]]', ']']];
  const no: [string, string][] = [['*.c', 'a/b.c'], ['a/*', 'a/b/c'], ['?', '/'], ['[a-c]x', 'dx'], ['[!a]x', 'ax'], ['x', 'xy']];
  for (const [p, s] of yes) t.ok(wildmatch(p, s), `${p} ~ ${s}`);
  for (const [p, s] of no) t.notOk(wildmatch(p, s), `${p} !~ ${s}`);
});
