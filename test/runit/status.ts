import t from 'tap';
import { formatStat, packStatus, RunState, STATUS_SIZE, StatusFormatError, unpackStatus } from '../../src/runit/status.js';

// Real records written by runit's runsv (runit-compat.md §1.6).
const REAL_RUN = Buffer.from('400000006b0254743b2b6854f824000000750001', 'hex');
const REAL_TERM = Buffer.from('400000006b02548e35f846ccf628000000640101', 'hex');

t.test('unpacks runit records', async (t) => {
  const s = unpackStatus(REAL_RUN);
  t.equal(s.time.sec, 1795314794n);
  t.equal(s.time.nsec, 992700500);
  t.equal(s.pid, 9464);
  t.same([s.paused, s.want, s.gotTerm, s.state], [false, 'u', false, RunState.Run]);
  const u = unpackStatus(REAL_TERM);
  t.same([u.pid, u.want, u.gotTerm, u.state], [10486, 'd', true, RunState.Run]);
});

t.test('pack is the inverse, 20 bytes', async (t) => {
  t.equal(packStatus(unpackStatus(REAL_RUN)).toString('hex'), REAL_RUN.toString('hex'));
  t.equal(packStatus(unpackStatus(REAL_TERM)).length, STATUS_SIZE);
  t.throws(() => unpackStatus(REAL_RUN.subarray(0, 18)), StatusFormatError);
});

t.test('stat lines', async (t) => {
  t.equal(formatStat(RunState.Run, false, false, 'up'), 'run\n');
  t.equal(formatStat(RunState.Run, false, true, 'down'), 'run, got TERM, want down\n');
  t.equal(formatStat(RunState.Run, true, true, 'up'), 'run, paused, got TERM\n');
  t.equal(formatStat(RunState.Finish, false, false, 'down'), 'finish, want down\n');
  t.equal(formatStat(RunState.Run, false, false, 'exit'), 'run, want exit\n');
  t.equal(formatStat(RunState.Down, true, false, 'down'), 'down, paused\n');
});
