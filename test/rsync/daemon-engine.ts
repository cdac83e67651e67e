import t from 'tap';
import { defaultModuleSettings } from '../../src/rsync/config.js';
import { daemonFilterRules, fileRules, splitFilterParam, transferLogger } from '../../src/rsync/daemon-engine.js';
import type { TransferSession } from '../../src/rsync/daemon.js';
import type { TransferEvent } from '../../src/rsync/server.js';

t.test('daemon filter rules in rsync_module order', async (t) => {
  t.same(splitFilterParam('- *.tmp + /keep/ exclude core !'), ['- *.tmp', '+ /keep/', 'exclude core', '!']);
  t.same(fileRules('# c\n; c\n\n*.o\n+ keep.o\n- drop\r\n', '-'), ['- *.o', '+ keep.o', '- drop']);
  const s = { ...defaultModuleSettings(), filter: '- a', includeFrom: '/inc', include: 'b c', excludeFrom: '/exc', exclude: 'd' };
  const files: Record<string, string> = { '/inc': 'i1\n', '/exc': 'e1\n' };
  t.same(daemonFilterRules(s, (p) => files[p]!), ['- a', '+ i1', '+ b', '+ c', '- e1', '- d']);
  t.same(daemonFilterRules(defaultModuleSettings()), []);
});

t.test('transfer logging: one log format line per item rsync would log', async (t) => {
  const logged: string[] = [];
  const session = (settings: Partial<ReturnType<typeof defaultModuleSettings>>): TransferSession => ({
    settings: { ...defaultModuleSettings(), ...settings }, module: { name: 'pub' }, modulePath: '/srv/pub',
    user: 'alice', host: 'UNDETERMINED', addr: '127.0.0.1', log: (l: string) => logged.push(l),
  }) as unknown as TransferSession;
  const ev = (over: Partial<TransferEvent>): TransferEvent => ({
    op: 'send', file: 'd/f', name: 'd/f', length: 6, bytes: 49, checksumBytes: 16, iflags: 0, itemize: '<f+++++++++',
    transferred: true, significant: true, mode: 0o100644, mtime: 0, uid: undefined, gid: 7, link: undefined, ...over,
  });
  t.equal(transferLogger(session({})), undefined, 'transfer logging = no: no hook');
  const plain = transferLogger(session({ transferLogging: true }))!;
  plain(ev({}));
  plain(ev({ transferred: false, name: 'd/', file: 'd' }));
  t.same(logged, ['send UNDETERMINED [127.0.0.1] pub (alice) d/f 6'], 'the default format; an itemized-only item is skipped');
  logged.length = 0;
  const withI = transferLogger(session({ transferLogging: true, logFormat: '%i %n %U %G %B%L %b/%c %P' }))!;
  withI(ev({ transferred: false, significant: true, itemize: 'cL+++++++++', name: 'l', mode: 0o120777, link: 'a', bytes: 0, checksumBytes: 0 }));
  withI(ev({ transferred: false, significant: false, itemize: '.f         ' }));
  withI(ev({ uid: 5 }));
  t.same(logged, ['cL+++++++++ l 0 7 rwxrwxrwx -> a 0/0 /srv/pub', '<f+++++++++ d/f 5 7 rw-r--r-- 49/16 /srv/pub'], '%i logs significant itemized items');
});
