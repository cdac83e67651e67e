import t from 'tap';
import { errstr } from '../../src/lib/errstr.js';
import { Messages, unable } from '../../src/lib/die.js';

t.test('djb strings, not strerror', async (t) => {
  t.equal(errstr('ENOENT'), 'file does not exist');
  t.equal(errstr('EAGAIN'), 'temporary failure');
  t.equal(errstr(Object.assign(new Error('x'), { code: 'EACCES' })), 'access denied');
  t.equal(errstr('EWHATEVER'), 'unknown error');
  t.equal(errstr(undefined), 'unknown error');
});

t.test('message shapes: one write per line', async (t) => {
  const writes: string[] = [];
  const m = new Messages({ write: (s) => { writes.push(String(s)); } }, 'runsv web');
  m.warn('x');
  m.warnUnable('open supervise/stat.new', Object.assign(new Error(), { code: 'EACCES' }));
  m.fatal('y');
  t.same(writes, [
    'runsv web: warning: x\n',
    'runsv web: warning: unable to open supervise/stat.new: access denied\n',
    'runsv web: fatal: y\n',
  ]);
  const f = unable('lock supervise/lock', Object.assign(new Error(), { code: 'EAGAIN' }), 111);
  t.equal(f.message, 'unable to lock supervise/lock: temporary failure');
  t.equal(f.exitCode, 111);
});
