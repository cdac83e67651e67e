import t from 'tap';
import { allowAccess, matchAddress, normalizeAddr, UNDETERMINED } from '../../src/rsync/access.js';

t.test('matchAddress: IPv4, IPv6, CIDR and netmask', async (t) => {
  t.ok(matchAddress('127.0.0.1', '127.0.0.1'));
  t.notOk(matchAddress('127.0.0.2', '127.0.0.1'));
  t.ok(matchAddress('10.1.2.3', '10.0.0.0/8'));
  t.notOk(matchAddress('11.1.2.3', '10.0.0.0/8'));
  t.ok(matchAddress('192.168.7.9', '192.168.0.0/255.255.0.0'), 'dotted netmask');
  t.notOk(matchAddress('192.169.7.9', '192.168.0.0/255.255.0.0'));
  t.ok(matchAddress('1.2.3.4', '0.0.0.0/0'), '/0 matches everything');
  t.notOk(matchAddress('1.2.3.4', '1.2.3.4/33'), 'a mask wider than the address is malformed');
  t.notOk(matchAddress('1.2.3.4', '1.2.3.4/x'), 'malformed mask');
  t.ok(matchAddress('::1', '::1'));
  t.ok(matchAddress('2001:db8::5', '2001:db8::/32'));
  t.notOk(matchAddress('2001:db9::5', '2001:db8::/32'));
  t.ok(matchAddress('fe80::1:2', 'fe80::/ffff:ffff:ffff:ffff::'), 'IPv6 netmask');
  t.notOk(matchAddress('127.0.0.1', '::1'), 'families differ');
  t.ok(matchAddress('::ffff:10.0.0.1', '10.0.0.0/8'), 'IPv4-mapped is IPv4');
  t.notOk(matchAddress('10.0.0.1', 'example.com'), 'a name is no address');
  t.equal(normalizeAddr('::ffff:127.0.0.1'), '127.0.0.1');
});

t.test('allowAccess follows access.c allow_access', async (t) => {
  const a = (allow: string, deny: string, addr = '10.0.0.1', host = UNDETERMINED) => allowAccess(addr, host, { allow, deny, forwardLookup: false });
  t.ok((await a('', '')).allowed, 'no lists: allowed');
  t.ok((await a('10.0.0.0/8', '')).allowed);
  t.notOk((await a('192.168.0.0/16', '')).allowed, 'allow list only: others refused');
  t.notOk((await a('', '10.0.0.1')).allowed, 'deny list only');
  t.ok((await a('', '10.0.0.2')).allowed);
  t.ok((await a('10.0.0.1', '10.0.0.0/8')).allowed, 'allow wins over deny');
  t.notOk((await a('192.168.0.0/16', '10.0.0.0/8')).allowed);
  t.ok((await a('192.168.0.0/16', '172.16.0.0/12')).allowed, 'on neither list with both lists: allowed');
  t.ok((await a('1.1.1.1,\t10.0.0.1 2.2.2.2', '')).allowed, 'tokens split on commas, spaces, tabs');
  t.notOk((await a('', '*')).allowed, '* matches the UNDETERMINED host name too, as in rsync');
  t.notOk((await a('*.example.com', '')).allowed, 'a name pattern does not match UNDETERMINED');
  t.ok((await a('*.EXAMPLE.com', '', '10.0.0.1', 'Host.Example.COM')).allowed, 'names match case-insensitively');
});

t.test('forward lookup of host-name tokens', async (t) => {
  const resolve = async (n: string): Promise<string[]> => {
    if (n === 'good.test') return ['10.0.0.1'];
    throw new Error('NXDOMAIN');
  };
  const r = await allowAccess('10.0.0.1', UNDETERMINED, { allow: 'good.test', deny: '', forwardLookup: true }, resolve);
  t.same(r, { allowed: true, host: 'good.test' }, 'a resolving token matches and names the host');
  const off = await allowAccess('10.0.0.1', UNDETERMINED, { allow: 'good.test', deny: '', forwardLookup: false }, resolve);
  t.notOk(off.allowed, 'not with forward lookup = no');
  const deny = await allowAccess('10.0.0.9', UNDETERMINED, { allow: '', deny: 'bad.test', forwardLookup: true }, resolve);
  t.notOk(deny.allowed, 'an unresolvable deny token fails closed');
  const allow = await allowAccess('10.0.0.9', UNDETERMINED, { allow: 'bad.test', deny: '', forwardLookup: true }, resolve);
  t.notOk(allow.allowed, 'an unresolvable allow token does not match');
});
