// The %i, %B and %M texts of a transfer-log line (log.c log_formatted).
import t from 'tap';
import { logMtime } from '../../src/rsync/daemon-log.js';
import { itemizeString, permString, ITEM_IS_NEW, ITEM_LOCAL_CHANGE, ITEM_REPORT_SIZE, ITEM_REPORT_TIME, ITEM_TRANSFER, ITEM_XNAME_FOLLOWS } from '../../src/rsync/itemize.js';

const o = { sender: true, times: true, symlinkTimes: true };

t.test('itemize strings as rsync logs them', async (t) => {
  t.equal(itemizeString(ITEM_TRANSFER | ITEM_IS_NEW, 0o100644, o), '<f+++++++++');
  t.equal(itemizeString(ITEM_LOCAL_CHANGE | ITEM_IS_NEW, 0o040755, o), 'cd+++++++++');
  t.equal(itemizeString(ITEM_LOCAL_CHANGE | ITEM_IS_NEW, 0o120777, o), 'cL+++++++++');
  t.equal(itemizeString(ITEM_TRANSFER | ITEM_REPORT_SIZE | ITEM_REPORT_TIME, 0o100644, o), '<f.st......');
  t.equal(itemizeString(ITEM_REPORT_TIME, 0o040755, o), '.d..t......');
  t.equal(itemizeString(ITEM_REPORT_TIME, 0o120777, { ...o, symlinkTimes: false }), '.L..T......');
  t.equal(itemizeString(ITEM_REPORT_TIME, 0o100644, { ...o, times: false }), '.f..T......');
  t.equal(itemizeString(0, 0o100644, o), '.f         ', 'nothing changed: blanks');
  t.equal(itemizeString(ITEM_LOCAL_CHANGE | ITEM_XNAME_FOLLOWS, 0o100644, o), 'hf         ');
  t.equal(itemizeString(ITEM_TRANSFER, 0o020644, o), '<D.........');
  t.equal(itemizeString(ITEM_TRANSFER, 0o010644, o), '<S.........');
});

t.test('permission letters', async (t) => {
  t.equal(permString(0o100644), 'rw-r--r--');
  t.equal(permString(0o120777), 'rwxrwxrwx');
  t.equal(permString(0o104755), 'rwsr-xr-x');
  t.equal(permString(0o102644), 'rw-r-Sr--');
  t.equal(permString(0o041777), 'rwxrwxrwt');
  t.equal(permString(0o041776), 'rwxrwxrwT');
});

t.test('%M is local time with a dash', async (t) => {
  const d = new Date(2024, 0, 2, 3, 4, 5);
  t.equal(logMtime(d.getTime() / 1000), '2024/01/02-03:04:05');
});
