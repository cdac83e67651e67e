// The pure rules of sv: command words, status lines, send skipping, wait letters.
// Expected values are runit's sv behaviour (runit-compat.md §4.3-4.5, checked
// against the real sv by test/interop/sv-*.ts).
import t from 'tap';
import { lettersDone, planFor, rawStatus, scanUlong, skipSend, statusText, taiSecond, type RawStatus } from '../../src/runit/sv-command.js';
import { TAI64_BASE } from '../../src/lib/tai64n.js';

t.test('command words', async (t) => {
  const p = (w: string, v = false, lsb = false) => {
    const x = planFor(w, v, lsb);
    return x ? `${x.act} ${x.letters}${x.wait ? ' wait' : ''}${x.kill ? ' kill' : ''}` : 'usage';
  };
  const table: [string, string][] = [
    ['status', 'status s'], ['s', 'status s'], ['sxyz', 'status s'],
    ['up', 'control u'], ['u', 'control u'], ['down', 'control d'], ['once', 'control o'],
    ['pause', 'control p'], ['cont', 'control c'], ['hup', 'control h'], ['hello', 'control h'],
    ['alarm', 'control a'], ['interrupt', 'control i'], ['quit', 'control q'],
    ['1', 'control 1'], ['2', 'control 2'], ['term', 'control t'], ['kill', 'control k'],
    ['exit', 'control x'], ['e', 'control x'],
    ['start', 'control u wait'], ['stop', 'control d wait'], ['reload', 'control h wait'],
    ['restart', 'control tcu wait'], ['shutdown', 'control x wait'], ['try-restart', 'control tc wait'],
    ['check', 'none C wait'],
    ['force-stop', 'control d wait kill'], ['force-reload', 'control tc wait kill'],
    ['force-restart', 'control tcu wait kill'], ['force-shutdown', 'control x wait kill'],
    ['D', 'control d wait kill'], ['T', 'control tc wait kill'], ['X', 'control x wait kill'], ['Exit', 'control x wait kill'],
    ['r', 'usage'], ['res', 'usage'], ['f', 'usage'], ['force', 'usage'], ['bogus', 'usage'], ['', 'usage'], ['U', 'usage'],
  ];
  for (const [w, want] of table) t.equal(p(w), want, JSON.stringify(w));
  t.equal(p('up', true), 'control u wait', '-v waits');
  t.equal(p('status', true), 'status s', 'status never waits');
  t.equal(p('x', true), 'control x wait');
  t.equal(p('stat', false, true), 'usage', 'LSB: only the exact word status');
  t.equal(p('status', false, true), 'status s');
  t.equal(p('stop', false, true), 'control d wait');
});

const rec = (o: Partial<RawStatus> = {}): RawStatus => ({ label: TAI64_BASE + 1000n, pid: 0, paused: 0, want: 0x75, term: 0, state: 0, ...o });
const now = TAI64_BASE + 1007n;

t.test('status lines', async (t) => {
  t.equal(statusText('s1', rec({ pid: 14758, state: 1 }), now, true), 'run: s1: (pid 14758) 7s');
  t.equal(statusText('./s2', rec(), now, true), 'down: ./s2: 7s, normally up, want up');
  t.equal(statusText('s8', rec({ want: 0x64 }), now, false), 'down: s8: 7s');
  t.equal(statusText('s8', rec({ pid: 5, state: 1 }), now, false), 'run: s8: (pid 5) 7s, normally down');
  t.equal(statusText('s7', rec({ pid: 9, state: 1, want: 0x64, term: 1, paused: 1 }), now, false),
    'run: s7: (pid 9) 7s, normally down, paused, want down, got TERM', 'flag order');
  t.equal(statusText('s2', rec({ pid: 11, state: 2, want: 0x64 }), now, true), 'finish: s2: (pid 11) 7s, want down');
  t.equal(statusText('x', rec({ state: 9, pid: 3 }), now, true), 'x: (pid 3) 7s', 'unknown state: no word, still a pid');
  t.equal(statusText('x', rec({ want: 0 }), now, true), 'down: x: 7s, normally up', 'want neither u nor d');
  t.equal(statusText('x', rec({ label: now + 5n }), now, true), 'down: x: 0s, normally up, want up', 'future time: 0s');
  t.equal(statusText('x', rec({ pid: 0x80000001, state: 1 }), now, true), 'run: x: (pid 18446744071562067969) 7s', 'pid >= 2^31 as C prints it');
});

t.test('raw status and the clock', async (t) => {
  const b = Buffer.from('400000006b02548e35f846ccf628000000640101', 'hex');
  t.same(rawStatus(b), { label: 0x400000006b02548en, pid: 10486, paused: 0, want: 0x64, term: 1, state: 1 });
  t.equal(taiSecond(1795314794_999), TAI64_BASE + 1795314794n);
});

t.test('what sv does not send', async (t) => {
  t.ok(skipSend('u', rec()), 'up when want up');
  t.notOk(skipSend('d', rec({ want: 0x64 })), 'down is re-sent while no TERM is pending');
  t.ok(skipSend('d', rec({ want: 0x64, term: 1 })), 'down with TERM pending');
  t.notOk(skipSend('d', rec({ want: 0x64, term: 2 })), 'the TERM byte must be exactly 1');
  t.notOk(skipSend('x', rec({ want: 0x64 })), 'exit always');
  t.notOk(skipSend('tcu', rec()), 'restart always');
});

t.test('wait letters', async (t) => {
  const start = TAI64_BASE + 1000n;
  let calls = 0;
  const pass = () => { calls++; return true; };
  const failCheck = () => { calls++; return false; };
  const run = rec({ pid: 5, state: 1, label: start });
  t.ok(lettersDone('u', run, start, pass));
  t.notOk(lettersDone('u', run, start, failCheck), './check holds up');
  t.notOk(lettersDone('u', rec({ pid: 5, state: 2 }), start, pass), 'finish is not up');
  t.ok(lettersDone('d', rec(), start, pass));
  t.notOk(lettersDone('d', rec({ pid: 0, state: 2 }), start, pass), 'finish with no pid is not down');
  t.notOk(lettersDone('x', rec(), start, pass), 'x waits for runsv to go');
  calls = 0;
  t.ok(lettersDone('C', rec(), start, failCheck), 'check: nothing runs, passes without ./check');
  t.equal(calls, 0);
  t.notOk(lettersDone('C', run, start, failCheck));
  t.ok(lettersDone('t', rec({ want: 0x64 }), start, failCheck), 't: down and want down');
  t.notOk(lettersDone('t', rec({ pid: 5, state: 1, label: start - 1n }), start, pass), 't: not restarted since sv started');
  t.ok(lettersDone('t', rec({ pid: 5, state: 1, label: start }), start, pass), 't: same second counts as restarted');
  t.notOk(lettersDone('k', rec({ pid: 5, state: 1, label: start, term: 1 }), start, pass), 'k: TERM pending');
  t.notOk(lettersDone('o', rec({ label: start - 1n }), start, pass), 'o: down since before sv');
  t.ok(lettersDone('o', rec({ label: start }), start, pass), 'o: down since sv started');
  t.notOk(lettersDone('o', run, start, pass), 'o: running, want up');
  t.ok(lettersDone('o', rec({ pid: 5, state: 1, want: 0x64 }), start, pass));
  t.notOk(lettersDone('p', run, start, pass));
  t.ok(lettersDone('p', rec({ pid: 5, paused: 1 }), start, pass));
  t.ok(lettersDone('c', run, start, pass));
  t.ok(lettersDone('hai12qs', run, start, failCheck), 'signals and status: at once');
  t.notOk(lettersDone('tcu', rec({ pid: 5, state: 1, label: start, paused: 1 }), start, pass), 'restart: all letters');
});

t.test('scan_ulong', async (t) => {
  t.equal(scanUlong('7'), 7);
  t.equal(scanUlong('12abc'), 12);
  t.equal(scanUlong('abc'), 0);
  t.equal(scanUlong(''), 0);
  t.equal(scanUlong(' 3'), 0);
  t.equal(scanUlong('-3'), 0);
});
