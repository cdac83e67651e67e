import t from 'tap';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { ConfigError, expandVars, findModule, findParam, loadConfig, parseConfig, parseDparam } from '../../src/rsync/config.js';

t.test('global section, modules, comments, continuation lines', async (t) => {
  const c = parseConfig(`# comment
; another
  motd file = /etc/motd
Read Only = no
readonly=no
timeout = 30

[pub]
  path = /srv/pub/
  comment = public \\
     files
  hosts allow = 10.0.0.0/8, 192.168.1.1
[ two  words ] trailing text is ignored
  path = /
  list = False
  use chroot = unset
[Pub]
  max connections = 4
`, 'rsyncd.conf');
  t.equal(c.global.motdFile, '/etc/motd');
  t.equal(c.defaults.readOnly, false, 'a local parameter in the global section is the default');
  t.equal(c.defaults.timeout, 30);
  t.equal(c.modules.length, 2, 'a name equal up to case and spaces continues the module (add_a_section)');
  const pub = findModule(c, 'pub')!;
  t.equal(pub.settings.path, '/srv/pub', 'trailing slash dropped from a path');
  t.equal(pub.settings.comment, 'public      files', 'continuation joined, the next line\'s indentation kept (params.c)');
  t.equal(pub.settings.readOnly, false, 'inherits the global default');
  t.equal(pub.settings.maxConnections, 4);
  t.equal(pub.line, 8);
  const two = findModule(c, 'two words')!;
  t.ok(two, 'section names collapse white space');
  t.equal(two.settings.path, '/');
  t.equal(two.settings.list, false);
  t.equal(two.settings.useChroot, undefined);
  t.equal(findModule(c, 'PUB'), undefined, 'module lookup is exact (lp_number)');
  t.same(c.warnings, []);
});

t.test('parameter names: case and white space do not matter, aliases', async (t) => {
  t.equal(findParam('HostsAllow')?.key, 'hostsAllow');
  t.equal(findParam('  hosts   deny ')?.key, 'hostsDeny');
  t.equal(findParam('bind address')?.key, 'address');
  t.equal(findParam('rsync port')?.key, 'port');
  t.equal(findParam('-path'), undefined);
  const c = parseConfig('[m]\npath=/x\nmunge symlinks = yes\nnumeric ids = 0\nstrict modes = FALSE\n', 'f');
  t.equal(c.modules[0]!.settings.mungeSymlinks, true);
  t.equal(c.modules[0]!.settings.numericIds, false);
  t.equal(c.modules[0]!.settings.strictModes, false);
});

t.test('warnings in rsync\'s words', async (t) => {
  const c = parseConfig('frobnicate = 1\n[m]\npath = /x\nport = 99\n', 'f.conf');
  t.same(c.warnings.map((w) => `${w.line}: ${w.text}`), [
    '1: Unknown Parameter encountered: "frobnicate"',
    '1: IGNORING unknown parameter "frobnicate"',
    '4: Global parameter port found in module section!',
  ]);
  t.equal(c.global.port, 0, 'the misplaced global is ignored');
});

t.test('errors carry file and line', async (t) => {
  const cases: [string, number, RegExp][] = [
    ['[m]\npath=/x\nno equals here\n', 3, /badly formed line/],
    ['\n\n[m\npath=/x\n', 3, /badly formed section header/],
    ['[]\n', 1, /empty section name/],
    ['[a/b]\n', 1, /invalid section name/],
    ['[m]\nread only = maybe\n', 2, /Badly formed boolean in configuration file: "maybe"/],
    ['[m]\nmax connections = lots\n', 2, /badly formed number/],
    [' = x\n', 1, /invalid parameter name/],
    ['&include /etc/x\n', 1, /unsupported directive: &include/],
  ];
  for (const [text, line, re] of cases) {
    let caught: unknown;
    try {
      parseConfig(text, '/etc/rsyncd.conf');
    } catch (e) {
      caught = e;
    }
    t.ok(caught instanceof ConfigError, `ConfigError for ${JSON.stringify(text)}`);
    const ce = caught as ConfigError;
    t.equal(ce.line, line, `line of ${JSON.stringify(text)}`);
    t.match(ce.message, new RegExp(`^/etc/rsyncd\\.conf:${line}: `));
    t.match(ce.message, re);
  }
});

t.test('--dparam applies at the end of the global section', async (t) => {
  t.same(parseDparam('lockfile=/tmp/l'), ['lockfile', '/tmp/l']);
  t.equal(parseDparam('nosuch=1'), 'Unknown parameter "nosuch"');
  t.equal(parseDparam('=1'), 'Malformed dparam: =1');
  const c = parseConfig('timeout = 5\n[m]\npath=/x\n[n]\npath=/y\ntimeout=7\n', 'f', [['timeout', '9'], ['motdfile', '/m']]);
  t.equal(c.defaults.timeout, 9);
  t.equal(c.global.motdFile, '/m');
  t.equal(findModule(c, 'm')!.settings.timeout, 9, 'modules get it as a default');
  t.equal(findModule(c, 'n')!.settings.timeout, 7, 'a module setting still wins');
});

t.test('loadConfig and expandVars', async (t) => {
  const dir = t.testdir({ 'a.conf': '[m]\npath = /home/%RSYNC_USER_NAME%\n' });
  const c = loadConfig(join(dir, 'a.conf'));
  t.equal(expandVars(c.modules[0]!.settings.path, { RSYNC_USER_NAME: 'alice' }), '/home/alice');
  t.equal(expandVars('%NOPE%/x', {}), '%NOPE%/x');
  t.throws(() => loadConfig(join(dir, 'missing.conf')), /unable to open config file ".*missing\.conf": ENOENT/);
  writeFileSync(join(dir, 'crlf.conf'), '[m]\r\npath = /x\r\n');
  t.equal(loadConfig(join(dir, 'crlf.conf')).modules[0]!.settings.path, '/x', 'CR dropped');
});
