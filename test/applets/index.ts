import t from 'tap';
import { applets, appletNames, findApplet } from '../../src/applets/index.js';

t.test('the table is sorted, unique and complete', async (t) => {
  t.same([...appletNames], [...appletNames].sort(), 'sorted');
  t.equal(new Set(appletNames).size, appletNames.length, 'unique');
  t.same([...appletNames], ['rsyncd', 'runsv', 'runsvdir', 'sv', 'svlogd', 'tcpsvd']);
  for (const a of applets) {
    const m = await a.load();
    t.type(m.main, 'function', `${a.name} main`);
    t.type(m.usage, 'string', `${a.name} usage`);
    t.type(m.help, 'string', `${a.name} help`);
    t.type(m.exitCodes.usage, 'number', `${a.name} usage exit code`);
    t.type(m.exitCodes.fatal, 'number', `${a.name} fatal exit code`);
  }
  t.equal(findApplet('nope'), undefined);
});
