// SPDX-License-Identifier: MIT
// Instruction semantics of ipsvd 1.0.0 (ipsvd_check.c), unit by unit: lookup
// order, message escapes, instruction lines, `=` lines and forwards, entry kinds
// by permission, -t expiry, and rules that cannot be read.
import t from 'tap';
import { existsSync, mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeEntries } from '../fixtures/tcpsvd.js';
import { cdbEntry, check, formatMessage, instruct, lookupKeys, RulesError, scanUlong, type CheckOptions } from '../../src/ipsvd/instruct.js';

const noDns: CheckOptions['resolve'] = async (h) => { throw Object.assign(new Error(`no dns for ${h}`), { code: 'ENOTFOUND' }); };
const literal: CheckOptions['resolve'] = async (h) => (/^[\d.]+$/.test(h) ? [h] : []);

t.test('lookup keys in ipsvd order', async (t) => {
  t.same(lookupKeys('10.1.2.3'), ['10.1.2.3', '10.1.2', '10.1', '10', '0']);
  t.same(lookupKeys('10.1.2.3', 'a.example.org'), ['10.1.2.3', '10.1.2', '10.1', '10', 'a.example.org', 'example.org', 'org', '0']);
  t.same(lookupKeys('10.1.2.3', ''), ['10.1.2.3', '10.1.2', '10.1', '10', '0'], 'empty name: no name keys');
  t.same(lookupKeys('10.1.2.3', '.bad'), ['10.1.2.3', '10.1.2', '10.1', '10', '0'], 'name starting with a dot: none');
  t.same(lookupKeys('fe80::1:2'), ['fe80::1:2', 'fe80::1', 'fe80', '0'], 'IPv6: groups removed from the end');
});

t.test('messages and numbers', async (t) => {
  t.equal(formatMessage('busy\\r\\n'), 'busy\r\n');
  t.equal(formatMessage('a\\\\b'), 'a\\b');
  t.equal(formatMessage('a\\tb'), 'a\\tb', 'unknown escape kept');
  t.equal(formatMessage('end\\'), 'end\\', 'final backslash kept');
  t.same(scanUlong('12:x'), [12, 2]);
  t.same(scanUlong('x'), [0, 0]);
});

t.test('instruction lines', async (t) => {
  const o: CheckOptions = { resolve: literal, limit: { max: 5 } };
  const r = await instruct(['+A=1', '+B=', '+C', '+', '+=x', '', '# c', 'junk', 'C2:go\\naway'], 'M', '1.2.3.4', o);
  t.equal(r.verdict, 'instruct');
  t.same(r.env, [['A', '1'], ['B', ''], ['C', undefined]]);
  t.same(r.limit, { max: 2, msg: 'go\naway' });
  t.same(r.warnings, ['bad instruction: M: junk']);
  const noC = await instruct(['C2'], 'M', '1.2.3.4', { resolve: literal });
  t.equal(noC.limit, undefined, 'C ignored without -C');
  const c0 = await instruct(['C0', 'C3'], 'M', '1.2.3.4', o);
  t.same(c0.limit, { max: 0 }, 'C0 turns the check off, later C lines are ignored');
});

t.test('= lines', async (t) => {
  const o: CheckOptions = { resolve: literal };
  t.equal((await instruct(['+X=1', '=9.9.9.9'], 'M', '1.2.3.4', o)).verdict, 'deny', 'no match: deny');
  const m = await instruct(['=9.9.9.9', '=1.2.3.4', '+LATER=1'], 'M', '1.2.3.4', o);
  t.equal(m.verdict, 'instruct', 'a later = line matches');
  t.same(m.env, [], 'lines after the match are not applied');
  t.same(m.lines, ['=9.9.9.9', '=1.2.3.4']);
  const f = await instruct(['+A=1', '=0:fwd', '+B=2'], 'M', '1.2.3.4', o);
  t.equal(f.forward, 'fwd');
  t.same(f.env, [['A', '1']]);
  t.equal((await instruct(['=0:'], 'M', '1.2.3.4', o)).forward, undefined, 'empty forward: none');
  const failed = await instruct(['=some.name'], 'M', '1.2.3.4', { resolve: noDns });
  t.equal(failed.verdict, 'deny', 'failed lookup: deny');
  t.match(failed.warnings[0], /^unable to look up ip address: some\.name/);
  t.equal((await instruct(['=9.9.9.9'], 'M', undefined, o)).verdict, 'instruct', 'forwarded file: = lines ignored');
});

t.test('cdb values', async (t) => {
  t.same(cdbEntry(Buffer.from('D')), { kind: 'deny' });
  t.same(cdbEntry(Buffer.from('echo hiX')), { kind: 'exec', text: 'echo hi' });
  t.same(cdbEntry(Buffer.from('+A=1\0+BI')), { kind: 'instruct', lines: ['+A=1', '+B'] });
  t.equal(cdbEntry(Buffer.from('?')), undefined, 'unknown kind counts as absent');
  t.throws(() => cdbEntry(Buffer.alloc(0)), RulesError, 'empty value is an error');
});

t.test('directory entries by permission, forwards, -t', async (t) => {
  const dir = t.testdir();
  writeEntries(dir, [
    ['10.0.0.1', '', 0o000],
    ['10.0.0.2', 'echo hi\n', 0o700],
    ['10.0.0', '+NET=yes\n', 0o400],
    ['10.0.0.5', '+A=1\n=0:fwd\n', 0o644],
    ['fwd', '+B=2\n=9.9.9.9\n', 0o644],
    ['10.0.0.6', '=0:gone\n', 0o644],
    ['10.0.0.7', '=0:x\n', 0o644],
    ['x', 'exec me', 0o755],
    ['0', '+DEFAULT=1\n', 0o644],
  ]);
  const o: CheckOptions = { resolve: literal };
  t.match(await check('dir', dir, '10.0.0.1', o), { verdict: 'deny', match: `${dir}/10.0.0.1` });
  t.match(await check('dir', dir, '10.0.0.2', o), { verdict: 'exec', exec: 'echo hi' });
  t.match(await check('dir', dir, '10.0.0.3', o), { verdict: 'instruct', match: `${dir}/10.0.0`, env: [['NET', 'yes']] });
  t.match(await check('dir', dir, '10.9.9.9', o), { verdict: 'instruct', match: `${dir}/0` });
  const f = await check('dir', dir, '10.0.0.5', o);
  t.match(f, { verdict: 'instruct', match: `${dir}/10.0.0.5,fwd`, env: [['A', '1'], ['B', '2']], text: '+A=1\0=0:fwd\0+B=2\0=9.9.9.9' });
  t.match(await check('dir', dir, '10.0.0.6', o), { verdict: 'deny', match: `${dir}/10.0.0.6,gone`, warnings: [`${dir}/10.0.0.6,gone: not found`] });
  t.match(await check('dir', dir, '10.0.0.7', o), { verdict: 'exec', exec: 'exec me' }, 'forward to an exec entry');
  // -t: a writable entry not read for that long is removed and skipped; a read-only one stays.
  writeEntries(dir, [['10.0.0.8', '+OLD=1\n', 0o644], ['10.0.0.9', '+KEPT=1\n', 0o444]]);
  const old = Date.now() / 1000 - 3600;
  utimesSync(join(dir, '10.0.0.8'), old, old);
  utimesSync(join(dir, '10.0.0.9'), old, old);
  t.match(await check('dir', dir, '10.0.0.8', { ...o, timeout: 60 }), { match: `${dir}/10.0.0` });
  t.notOk(existsSync(join(dir, '10.0.0.8')), 'expired entry removed');
  t.match(await check('dir', dir, '10.0.0.9', { ...o, timeout: 60 }), { match: `${dir}/10.0.0.9` });
  t.match(await check('dir', dir, '10.0.0.1', { ...o, name: 'h.example' }), { verdict: 'deny' });
});

/** Which way a check failed: 'read' (the rules as a whole) or 'check' (an entry). */
async function failure(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (err) {
    return err instanceof RulesError ? err.what : `not a RulesError: ${String(err)}`;
  }
  return undefined;
}

t.test('rules that cannot be read never allow', async (t) => {
  const dir = t.testdir();
  t.equal(await failure(check('dir', join(dir, 'missing'), '1.2.3.4', { resolve: literal })), 'read');
  t.equal(await failure(check('cdb', join(dir, 'missing.cdb'), '1.2.3.4', { resolve: literal })), 'read');
  mkdirSync(join(dir, 'd'));
  mkdirSync(join(dir, 'd', '1.2.3.4'));
  t.equal(await failure(check('dir', join(dir, 'd'), '1.2.3.4', { resolve: literal })), 'check', 'an entry that is a directory');
  writeFileSync(join(dir, 'bad.cdb'), 'not a cdb');
  t.equal(await failure(check('cdb', join(dir, 'bad.cdb'), '1.2.3.4', { resolve: literal })), 'check', 'a malformed cdb');
});
