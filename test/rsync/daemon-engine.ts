import t from 'tap';
import { defaultModuleSettings } from '../../src/rsync/config.js';
import { daemonFilterRules, fileRules, splitFilterParam } from '../../src/rsync/daemon-engine.js';

t.test('daemon filter rules in rsync_module order', async (t) => {
  t.same(splitFilterParam('- *.tmp + /keep/ exclude core !'), ['- *.tmp', '+ /keep/', 'exclude core', '!']);
  t.same(fileRules('# c\n; c\n\n*.o\n+ keep.o\n- drop\r\n', '-'), ['- *.o', '+ keep.o', '- drop']);
  const s = { ...defaultModuleSettings(), filter: '- a', includeFrom: '/inc', include: 'b c', excludeFrom: '/exc', exclude: 'd' };
  const files: Record<string, string> = { '/inc': 'i1\n', '/exc': 'e1\n' };
  t.same(daemonFilterRules(s, (p) => files[p]!), ['- a', '+ i1', '+ b', '+ c', '- e1', '- d']);
  t.same(daemonFilterRules(defaultModuleSettings()), []);
});
