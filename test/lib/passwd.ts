import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { latin1Name, parseGroup, parsePasswd, UserDb } from '../../src/lib/passwd.js';
import { IdNames } from '../../src/rsync/ids.js';
import { groupToGid, userGroupIds, userToUid } from '../../src/rsync/daemon-ids.js';
import { unixGroupsOf } from '../../src/rsync/auth.js';

const PASSWD = [
  '# a comment:x:7:7::/:/bin/sh',
  'root:x:0:0:root:/root:/bin/sh',
  '',
  'short:x:5',
  ':x:6:6::/:/bin/sh',
  'badid:x:1x:6::/:/bin/sh',
  'badgid:x:8:::/:/bin/sh',
  'carl:x:1000:100::/home/carl:/bin/sh',
  'carl:x:1001:100::/home/carl2:/bin/sh',
  'alias:x:1000:50::/:/bin/sh',
  '1234:x:4321:100::/:/bin/sh',
  'nomore:x:2000:100',
  '',
].join('\n');

const GROUP = [
  '#comment:x:9:carl',
  'root:x:0:',
  'users:x:100:',
  'staff:x:50:carl,,dan',
  'staff:x:51:',
  'bad:x:abc:carl',
  ':x:52:carl',
  'other:x:60:dan',
  'wheel:x:70:carl',
  'users2:x:100:carl',
  'nomembers:x:80',
  '',
].join('\n');

t.test('parsePasswd: comments, empty and malformed lines skipped, file order kept', async (t) => {
  t.same(parsePasswd(PASSWD), [
    { name: 'root', uid: 0, gid: 0 },
    { name: 'carl', uid: 1000, gid: 100 },
    { name: 'carl', uid: 1001, gid: 100 },
    { name: 'alias', uid: 1000, gid: 50 },
    { name: '1234', uid: 4321, gid: 100 },
    { name: 'nomore', uid: 2000, gid: 100 },
  ]);
  t.same(parsePasswd(''), []);
});

t.test('parseGroup: members split on commas, empty ones dropped', async (t) => {
  t.same(parseGroup(GROUP), [
    { name: 'root', gid: 0, members: [] },
    { name: 'users', gid: 100, members: [] },
    { name: 'staff', gid: 50, members: ['carl', 'dan'] },
    { name: 'staff', gid: 51, members: [] },
    { name: 'other', gid: 60, members: ['dan'] },
    { name: 'wheel', gid: 70, members: ['carl'] },
    { name: 'users2', gid: 100, members: ['carl'] },
    { name: 'nomembers', gid: 80, members: [] },
  ]);
});

t.test('UserDb: first entry wins, by name and by id', async (t) => {
  const db = UserDb.fromTexts(PASSWD, GROUP);
  t.equal(db.userByName('carl')?.uid, 1000);
  t.equal(db.userById(1000)?.name, 'carl');
  t.equal(db.userById(1001)?.name, 'carl');
  t.equal(db.userByName('badid'), undefined, 'malformed uid');
  t.equal(db.userByName('short'), undefined, 'too few fields');
  t.equal(db.userByName('# a comment'), undefined, 'comment');
  t.equal(db.userByName(''), undefined);
  t.equal(db.userByName('1234')?.uid, 4321, 'an all-digit name is a name here');
  t.equal(db.groupByName('staff')?.gid, 50);
  t.equal(db.groupById(100)?.name, 'users');
  t.equal(db.groupById(9), undefined, 'comment');
  t.equal(db.groupByName('bad'), undefined);
});

t.test('UserDb.groupIdsOf: getgrouplist, primary first, each gid once', async (t) => {
  const db = UserDb.fromTexts(PASSWD, GROUP);
  t.same(db.groupIdsOf('carl'), [100, 50, 70]);
  t.same(db.groupIdsOf('dan'), undefined, 'a member without a passwd entry is no user');
  t.same(db.groupIdsOf('root'), [0]);
});

t.test('UserDb reads each source once, only when asked', async (t) => {
  let p = 0;
  let g = 0;
  const db = new UserDb(() => (p++, PASSWD), () => (g++, GROUP));
  t.equal(p + g, 0);
  db.userByName('carl');
  db.userById(0);
  t.same([p, g], [1, 0]);
  db.groupIdsOf('carl');
  db.groupById(0);
  t.same([p, g], [1, 1]);
});

t.test('UserDb.files: latin1 bytes, missing files empty', async (t) => {
  const dir = t.testdir({});
  writeFileSync(join(dir, 'passwd'), Buffer.from('jörg:x:1500:1500::/:/bin/sh\n', 'utf8'));
  writeFileSync(join(dir, 'group'), Buffer.from('\xff:x:1500:\n', 'latin1'));
  const db = UserDb.files(join(dir, 'passwd'), join(dir, 'group'));
  t.equal(db.userByName('jörg'), undefined, 'names are latin1 strings of the bytes');
  t.equal(db.userByName(latin1Name('jörg'))?.uid, 1500);
  t.equal(db.groupById(1500)?.name, '\xff', 'a byte that is not UTF-8 survives');
  const none = UserDb.files(join(dir, 'nope'), join(dir, 'nope2'));
  t.equal(none.userById(0), undefined);
  t.same(none.groupIdsOf('root'), undefined);
});

t.test('rsync callers', async (t) => {
  const long = 'x'.repeat(256);
  const db = UserDb.fromTexts(`${long}:x:3000:3000::/:/bin/sh\nshort3000:x:3000:3000::/:/bin/sh\n${PASSWD}`, `${long}:x:3000:\n${GROUP}`);
  const names = new IdNames(db);
  t.equal(names.user(3000), 'short3000', 'a name over 255 bytes is skipped, the next entry serves');
  t.equal(names.group(3000), undefined);
  t.equal(names.user(1000), 'carl');
  t.equal(names.group(50), 'staff');
  t.equal(names.user(4242), undefined);
  t.equal(userToUid('carl', db), 1000);
  t.equal(userToUid('1234', db), 1234, 'digits are an id, as rsync takes them');
  t.equal(userToUid('nosuch', db), undefined);
  t.equal(groupToGid('staff', db), 50);
  t.equal(groupToGid('77', db), 77);
  t.equal(groupToGid('nosuch', db), undefined);
  t.same(userGroupIds('carl', db), [100, 50, 70]);
  t.same(userGroupIds('1000', db), [100, 50, 70], 'a numeric uid names its user');
  t.same(userGroupIds('nosuch', db), []);
});

t.test('groups of a user that shares its uid with an earlier entry', async (t) => {
  // rsync asks getpwuid(uid) for the user whose groups count: the first entry for the uid.
  const db = UserDb.fromTexts(PASSWD, GROUP);
  t.same(db.groupIdsOf('alias'), [50], 'by name: its own entry');
  t.same(userGroupIds('alias', db), [100, 50, 70], 'gid = *: the first user of uid 1000');
  t.same(unixGroupsOf('alias', db), ['users', 'staff', 'wheel'], '@group: the same');
  t.same(unixGroupsOf('carl', db), ['users', 'staff', 'wheel'], 'each gid named by its first group entry');
  t.same(unixGroupsOf('nosuch', db), []);
});
