import t from 'tap';
import { getopt } from '../../src/lib/getopt.js';
import { UsageError } from '../../src/lib/die.js';

t.test('attached and separate values', async (t) => {
  t.equal(getopt(['-w7', 'up', 'x'], 'vw:').values.get('w'), '7');
  const o = getopt(['-w', '7', 'up', 'x'], 'vw:');
  t.equal(o.values.get('w'), '7');
  t.same(o.operands, ['up', 'x']);
});

t.test('bundling counts repeats and may end in a value', async (t) => {
  const o = getopt(['-tttv', '-vl80', 'dir'], 'tvl:');
  t.equal(o.flags.get('t'), 3);
  t.equal(o.flags.get('v'), 2);
  t.equal(o.values.get('l'), '80');
  t.same(o.operands, ['dir']);
});

t.test('stops at the first operand and at --', async (t) => {
  t.same(getopt(['-v', '0', '7007', 'prog', '-x'], 'v').operands, ['0', '7007', 'prog', '-x']);
  t.same(getopt(['--', '-v', 'a'], 'v').operands, ['-v', 'a']);
  t.same(getopt(['-', 'a'], 'v').operands, ['-', 'a'], 'a lone - is an operand');
});

t.test('repeated values are all kept', async (t) => {
  t.same(getopt(['-Rab', '-R', 'cd'], 'R:').all.get('R'), ['ab', 'cd']);
});

t.test('errors in getopt words', async (t) => {
  t.throws(() => getopt(['-x'], 'v'), new UsageError('illegal option -- x'));
  t.throws(() => getopt(['-w'], 'w:'), new UsageError('option requires an argument -- w'));
  t.throws(() => getopt(['-:'], 'w:'), new UsageError('illegal option -- :'));
  const e = (() => { try { getopt(['-w'], 'w:'); } catch (err) { return err; } })();
  t.ok(e instanceof UsageError);
  t.equal((e as UsageError).line, 'option requires an argument -- w');
});
