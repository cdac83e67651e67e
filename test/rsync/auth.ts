import t from 'tap';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { authResponse, base64NoPad, checkSecret, chooseAuthDigest, confTokens, makeChallenge, matchAuthRule, parseAuthUsers, sameResponse, unixGroupsOf } from '../../src/rsync/auth.js';
import { UserDb } from '../../src/lib/passwd.js';

t.test('digest choice', async (t) => {
  t.equal(chooseAuthDigest('sha512 sha256 sha1 md5 md4', 32), 'sha512');
  t.equal(chooseAuthDigest('md5 md4', 31), 'md5');
  t.equal(chooseAuthDigest('xxh64 md4', 30), 'md4');
  t.equal(chooseAuthDigest('blake3', 32), undefined, 'nothing in common');
  t.equal(chooseAuthDigest(undefined, 30), 'md5', 'no list at 30+: md5');
  t.equal(chooseAuthDigest(undefined, 29), 'md4-old', 'no list below 30: the seeded old md4');
});

t.test('responses', async (t) => {
  // rsync-protocol.md §4.3, verified against a real 3.5.0 client.
  const chal = '6NQq/xAVjiE4VXvfDz9C7aJvB8zEycBK5MK+W8WPx/GoZ2J++coQOORI7M1aLWKvEcu05A5sNG2zdGuerSttbQ';
  t.equal(await authResponse('sha512', 'secret123', chal), 'MxLbMiaiVjioO4JSP2fAcfhQGziOPgnVaHesZFKx5wvRyK3DomIFaAjnn8KfVvQC6yoU8KspjKCgylXxoh2qig');
  t.equal((await authResponse('md5', 'pw', 'c')).length, 22, 'md5: 22 characters, no padding');
  t.equal((await authResponse('sha1', 'pw', 'c')).length, 27);
  t.equal((await authResponse('md4', 'pw', 'c')).length, 22);
  t.not(await authResponse('md4', 'pw', 'c'), await authResponse('md4-old', 'pw', 'c'), 'old md4 hashes a zero seed first');
  t.equal(base64NoPad(Buffer.from([0xff])), '/w');
  const c1 = await makeChallenge('md5', '127.0.0.1');
  const c2 = await makeChallenge('md5', '127.0.0.1');
  t.not(c1, c2, 'a fresh challenge each time');
  t.match(c1, /^[A-Za-z0-9+/]{22}$/);
  t.equal((await makeChallenge('sha512', '::1')).length, 86, 'challenge length follows the digest, as rsync');
  t.ok(sameResponse('abc', 'abc'));
  t.notOk(sameResponse('abc', 'abd'));
  t.notOk(sameResponse('abc', 'abcd'));
});

t.test('auth users rules', async (t) => {
  t.same(confTokens('alice, bob  carol'), ['alice', 'bob', 'carol']);
  t.same(confTokens(',@my group:ro, bob'), ['@my group:ro', 'bob'], 'leading comma: commas only');
  const rules = parseAuthUsers('eve:deny alice:RO @staff:rw b*:rw');
  t.same(rules, [
    { pattern: 'eve', group: false, opt: 'd' },
    { pattern: 'alice', group: false, opt: 'r' },
    { pattern: 'staff', group: true, opt: 'w' },
    { pattern: 'b*', group: false, opt: 'w' },
  ]);
  const groups = (u: string): string[] => (u === 'carl' ? ['users', 'staff'] : []);
  t.equal(matchAuthRule(rules, 'eve', groups)?.rule.opt, 'd');
  t.equal(matchAuthRule(rules, 'alice', groups)?.rule.opt, 'r');
  t.same(matchAuthRule(rules, 'carl', groups)?.group, 'staff');
  t.equal(matchAuthRule(rules, 'bob', groups)?.rule.pattern, 'b*', 'wildcards');
  t.equal(matchAuthRule(rules, 'zed', groups), undefined);
  const dir = t.testdir({
    passwd: 'root:x:0:0::/root:/bin/sh\ncarl:x:1000:100::/home/carl:/bin/sh\n',
    group: 'root:x:0:\nusers:x:100:\nstaff:x:50:carl,dan\nother:x:60:dan\n',
  });
  const db = UserDb.files(join(dir, 'passwd'), join(dir, 'group'));
  t.same(unixGroupsOf('carl', db), ['users', 'staff'], 'primary group first');
  t.same(unixGroupsOf('nobody-here', db), []);
});

t.test('checkSecret: the secrets file', async (t) => {
  const dir = t.testdir({});
  const file = join(dir, 'secrets');
  writeFileSync(file, '# comment\nalice:first\nalice:second\n@staff:grouppw\n\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  const chal = 'CHALLENGE';
  const logs: string[] = [];
  const log = (l: string): void => { logs.push(l); };
  const s = { file, strictModes: true, uid: process.getuid!() };
  const resp = async (pw: string): Promise<string> => authResponse('md5', pw, chal);
  t.equal(await checkSecret(s, 'alice', undefined, 'md5', chal, await resp('first'), log), undefined, 'ok');
  t.equal(await checkSecret(s, 'alice', undefined, 'md5', chal, await resp('second'), log), 'password mismatch', 'only the first line for a name counts');
  t.equal(await checkSecret(s, 'bob', undefined, 'md5', chal, await resp('x'), log), 'secret not found');
  t.equal(await checkSecret(s, 'carl', 'staff', 'md5', chal, await resp('grouppw'), log), undefined, '@group password');
  t.equal(await checkSecret(s, '#', undefined, 'md5', chal, await resp('x'), log), 'invalid username');
  t.equal(await checkSecret({ ...s, file: join(dir, 'none') }, 'alice', undefined, 'md5', chal, 'x', log), 'no secrets file');
  chmodSync(file, 0o604);
  t.equal(await checkSecret(s, 'alice', undefined, 'md5', chal, await resp('first'), log), 'ignoring secrets file', 'strict modes');
  t.match(logs.join('\n'), /secrets file must not be other-accessible \(see strict modes option\)/);
  t.equal(await checkSecret({ ...s, strictModes: false }, 'alice', undefined, 'md5', chal, await resp('first'), log), undefined, 'strict modes = no');
  chmodSync(file, 0o600);
  if (process.getuid!() === 0) {
    const { chownSync } = await import('node:fs');
    chownSync(file, 65534, 65534);
    t.equal(await checkSecret(s, 'alice', undefined, 'md5', chal, await resp('first'), log), 'ignoring secrets file', 'root needs a root-owned file');
    chownSync(file, 0, 0);
  }
});
