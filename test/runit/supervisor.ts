// The supervision rules of supervisor.ts against a recording host: every control
// byte in every state, exits with and without ./finish, the throttle and exit steps
// (runsv.c: ctrl, startservice, stopservice, main; runit-compat.md §1.8-1.10).
import t from 'tap';
import { RunState } from '../../src/runit/status.js';
import { childExited, control, exitStep, finishArgs, Service, startService, statusOf, wantsStart, type SupervisorHost } from '../../src/runit/supervisor.js';

function fakeHost(opts: { finish?: boolean; handled?: string } = {}) {
  const log: string[] = [];
  let clock = 1_000_000;
  let nextPid = 100;
  const h: SupervisorHost & { log: string[]; tick(ms: number): void } = {
    log,
    tick(ms) { clock += ms; },
    now: () => clock,
    custom: (c) => {
      log.push(`custom ${c}`);
      return (opts.handled ?? '').includes(c);
    },
    signal: (pid, sig) => { log.push(`kill ${pid} ${sig}`); },
    spawn: (_s, argv) => { log.push(`spawn ${argv.join(' ')}`); return nextPid++; },
    update: () => { log.push('update'); },
    finishReadable: () => !!opts.finish,
  };
  return h;
}

function running(h: ReturnType<typeof fakeHost>, islog = false): Service {
  const s = new Service(islog, h.now());
  startService(s, h);
  h.log.length = 0;
  return s;
}

t.test('start: control/u, spawn ./run, flags cleared, timestamp now', async (t) => {
  const h = fakeHost();
  const s = new Service(false, 0);
  s.paused = true;
  s.gotTerm = true;
  h.tick(5);
  startService(s, h);
  t.same(h.log, ['custom u', 'spawn ./run', 'update']);
  t.same([s.pid, s.state, s.paused, s.gotTerm, s.startMs], [100, RunState.Run, false, false, h.now()]);
  const l = new Service(true, 0);
  h.log.length = 0;
  startService(l, h);
  t.same(h.log, ['spawn ./run', 'update'], 'the log service never runs control scripts');
});

t.test('loop: who starts', async (t) => {
  const s = new Service(false, 0);
  t.ok(wantsStart(s));
  s.want = 'down';
  t.notOk(wantsStart(s));
  s.state = RunState.Finish;
  t.ok(wantsStart(s), 'finish starts whatever the want');
  s.pid = 5;
  t.notOk(wantsStart(s));
});

t.test('control bytes on a running service', async (t) => {
  const cases: [string, string[], Partial<Service>][] = [
    ['d', ['update', 'custom t', 'kill 100 SIGTERM', 'update', 'kill 100 SIGCONT', 'custom d'], { want: 'down', gotTerm: true }],
    ['x', ['update', 'custom t', 'kill 100 SIGTERM', 'update', 'kill 100 SIGCONT', 'custom x'], { want: 'exit', gotTerm: true }],
    ['t', ['custom t', 'kill 100 SIGTERM', 'update'], { want: 'up', gotTerm: true }],
    ['u', ['update'], { want: 'up', pid: 100 }],
    ['o', ['update'], { want: 'down', pid: 100 }],
    ['k', ['custom k', 'kill 100 SIGKILL'], { state: RunState.Down }],
    ['p', ['custom p', 'kill 100 SIGSTOP', 'update'], { paused: true }],
    ['c', ['custom c', 'kill 100 SIGCONT', 'update'], { paused: false }],
    ['h', ['custom h', 'kill 100 SIGHUP'], {}],
    ['a', ['custom a', 'kill 100 SIGALRM'], {}],
    ['i', ['custom i', 'kill 100 SIGINT'], {}],
    ['q', ['custom q', 'kill 100 SIGQUIT'], {}],
    ['1', ['custom 1', 'kill 100 SIGUSR1'], {}],
    ['2', ['custom 2', 'kill 100 SIGUSR2'], {}],
    ['e', [], {}],
    ['?', [], {}],
    ['\n', [], {}],
  ];
  for (const [c, want, fields] of cases) {
    const h = fakeHost();
    const s = running(h);
    control(s, c, h);
    t.same(h.log, want, `byte ${JSON.stringify(c)}`);
    for (const [k, v] of Object.entries(fields)) t.same((s as unknown as Record<string, unknown>)[k], v, `byte ${JSON.stringify(c)}: ${k}`);
  }
});

t.test('control bytes on a down service', async (t) => {
  const cases: [string, string[], string][] = [
    ['u', ['update', 'custom u', 'spawn ./run', 'update'], 'up'],
    ['o', ['update', 'custom u', 'spawn ./run', 'update'], 'down'],
    ['d', ['update'], 'down'],
    ['x', ['update'], 'exit'],
    ['t', [], 'up'],
    ['k', [], 'up'],
    ['p', ['update'], 'up'],
    ['c', ['update'], 'up'],
    ['h', [], 'up'],
  ];
  for (const [c, want, wantWant] of cases) {
    const h = fakeHost();
    const s = new Service(false, h.now());
    control(s, c, h);
    t.same(h.log, want, `byte ${c}`);
    t.equal(s.want, wantWant, `byte ${c}: want`);
  }
  const h = fakeHost();
  const s = new Service(false, h.now());
  control(s, 'p', h);
  t.same(statusOf(s).paused, true, 'p while down sets the paused flag');
});

t.test('custom control scripts that handle the command', async (t) => {
  const h = fakeHost({ handled: 'tpk' });
  const s = running(h);
  control(s, 'd', h);
  t.same(h.log, ['update', 'custom t', 'kill 100 SIGCONT', 'custom d'], 'control/t exit 0: no TERM, CONT still sent');
  t.equal(s.gotTerm, false);
  h.log.length = 0;
  s.state = RunState.Run;
  control(s, 'p', h);
  t.same(h.log, ['custom p', 'update'], 'no SIGSTOP, flag set');
  t.equal(s.paused, true);
  h.log.length = 0;
  control(s, 'k', h);
  t.same(h.log, ['custom k']);
  t.equal(s.state, RunState.Down, 'k marks down even when handled');
});

t.test('log service: x ignored, no custom scripts', async (t) => {
  const h = fakeHost();
  const s = running(h, true);
  control(s, 'x', h);
  t.same(h.log, []);
  t.equal(s.want, 'up');
  control(s, 'd', h);
  t.same(h.log, ['update', 'kill 100 SIGTERM', 'update', 'kill 100 SIGCONT']);
});

t.test('t with want down or exit also sends CONT', async (t) => {
  const h = fakeHost();
  const s = running(h);
  control(s, 'o', h);
  h.log.length = 0;
  control(s, 't', h);
  t.same(h.log, ['custom t', 'kill 100 SIGTERM', 'update', 'kill 100 SIGCONT', 'custom d']);
});

t.test('exit without finish: down, throttle within a second', async (t) => {
  const h = fakeHost();
  const s = running(h);
  h.tick(300);
  t.equal(childExited(s, { code: 3, signal: 0, core: false }, h), true, 'ran 0.3 s: throttle');
  t.same([s.pid, s.state, s.startMs], [0, RunState.Down, h.now()]);
  t.same(h.log, ['update']);
  startService(s, h);
  h.tick(1500);
  t.equal(childExited(s, { code: 0, signal: 0, core: false }, h), false, 'ran 1.5 s: no throttle');
});

t.test('exit with finish: finish state, args, then down', async (t) => {
  const h = fakeHost({ finish: true });
  const s = running(h);
  s.gotTerm = true;
  const started = s.startMs;
  h.tick(200);
  t.equal(childExited(s, { code: 0, signal: 15, core: false }, h), false, 'no throttle before finish');
  t.same([s.state, s.pid, s.gotTerm], [RunState.Finish, 0, false]);
  t.ok(wantsStart(s));
  h.log.length = 0;
  startService(s, h);
  t.same(h.log, ['spawn ./finish -1 15', 'update'], 'finish gets -1 and the signal; no control/u');
  t.equal(s.startMs, started, 'timestamp kept while finish runs');
  t.equal(s.state, RunState.Finish);
  h.tick(100);
  t.equal(childExited(s, { code: 0, signal: 0, core: false }, h), true, 'finish exit: down, throttled from the run start');
  t.equal(s.state, RunState.Down);
});

t.test('k during finish runs finish again (runit quirk)', async (t) => {
  const h = fakeHost({ finish: true });
  const s = running(h);
  childExited(s, { code: 3, signal: 0, core: false }, h);
  startService(s, h);
  control(s, 'k', h);
  t.equal(s.state, RunState.Down);
  childExited(s, { code: 0, signal: 0, core: false }, h);
  t.equal(s.state, RunState.Finish, 'finish taken for run');
});

t.test('finish arguments', async (t) => {
  t.same(finishArgs({ code: 3, signal: 0, core: false }), ['3', '0']);
  t.same(finishArgs({ code: 0, signal: 9, core: false }), ['-1', '9']);
  t.same(finishArgs({ code: 0, signal: 11, core: true }), ['-1', '139']);
  t.same(finishArgs({ code: 111, signal: 0, core: false }), ['111', '0']);
});

t.test('exit steps', async (t) => {
  const main = new Service(false, 0);
  const log = new Service(true, 0);
  t.equal(exitStep(main, log), 'none');
  main.want = 'exit';
  t.equal(exitStep(main, undefined), 'exit');
  t.equal(exitStep(main, log), 'exit', 'log not running');
  log.pid = 7;
  t.equal(exitStep(main, log), 'close-log');
  log.want = 'exit';
  t.equal(exitStep(main, log), 'none', 'waiting for the logger to drain');
  main.state = RunState.Run;
  t.equal(exitStep(main, log), 'none', 'service still up');
});

t.test('status record', async (t) => {
  const s = new Service(false, 1795314794992.7);
  s.pid = 9464;
  s.state = RunState.Run;
  const st = statusOf(s);
  t.same([st.pid, st.want, st.state, st.time.sec, st.time.nsec % 1000], [9464, 'u', RunState.Run, 1795314794n, 500]);
  s.want = 'exit';
  t.equal(statusOf(s).want, 'd', "want exit is written as 'd'");
});
