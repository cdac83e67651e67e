// The dependency rules of the layout (style-anchors §4.1), checked on the sources:
// src/lib imports node:* only; src/rsync/wire imports nothing of ours; runit code does
// not reach rsync code; and `sv`'s static import graph holds no rsync code at all,
// so the lazy applet table really keeps it unevaluated.
import t from 'tap';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { ROOT } from './fixtures/bin.js';

const SRC = join(ROOT, 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

interface Imp { spec: string; typeOnly: boolean; dynamic: boolean }

function imports(file: string): Imp[] {
  const text = readFileSync(file, 'utf8');
  const out: Imp[] = [];
  for (const m of text.matchAll(/^\s*(import|export)(\s+type)?\b[^;'"]*?from\s*['"]([^'"]+)['"]/gm)) out.push({ spec: m[3]!, typeOnly: !!m[2], dynamic: false });
  for (const m of text.matchAll(/^\s*import\s*['"]([^'"]+)['"]/gm)) out.push({ spec: m[1]!, typeOnly: false, dynamic: false });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) out.push({ spec: m[1]!, typeOnly: false, dynamic: true });
  return out;
}

const local = (from: string, spec: string): string => resolve(dirname(from), spec.replace(/\.js$/, '.ts'));
const area = (p: string): string => relative(SRC, p);

t.test('layering rules', async (t) => {
  const all = files(SRC);
  t.ok(all.length > 10, 'sources found');
  for (const f of all) {
    const a = area(f);
    for (const { spec } of imports(f)) {
      const isLocal = spec.startsWith('.');
      const target = isLocal ? area(local(f, spec)) : spec;
      if (a.startsWith('lib/')) {
        t.ok(spec.startsWith('node:') || (isLocal && target.startsWith('lib/')), `${a} -> ${spec}: lib imports node:* only`);
      } else if (a.startsWith('rsync/wire/')) {
        t.ok(spec.startsWith('node:') || (isLocal && target.startsWith('rsync/wire/')), `${a} -> ${spec}: rsync/wire imports nothing of ours`);
      } else if (a.startsWith('runit/')) {
        t.ok(!isLocal || target.startsWith('lib/') || target.startsWith('runit/'), `${a} -> ${spec}: runit imports lib and runit only`);
      } else if (a.startsWith('rsync/')) {
        t.ok(!isLocal || target.startsWith('lib/') || target.startsWith('rsync/'), `${a} -> ${spec}: rsync imports lib and rsync only`);
      }
      if (isLocal) t.notOk(target.startsWith('applets/') && !a.startsWith('applets/') && a !== 'main.ts', `${a} -> ${spec}: nobody below applets imports an applet`);
    }
  }
});

t.test('sv loads no rsync code', async (t) => {
  const seen = new Set<string>();
  const walk = (f: string): void => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const i of imports(f)) {
      if (i.dynamic || i.typeOnly) continue;
      if (i.spec.startsWith('.')) walk(local(f, i.spec));
      else seen.add(i.spec);
    }
  };
  walk(join(SRC, 'applets', 'sv.ts'));
  walk(join(SRC, 'main.ts'));
  const bad = [...seen].filter((s) => s.includes('/rsync/') || s === 'hash-wasm' || s.includes('/applets/rsyncd'));
  t.same(bad, [], 'no rsync module or hash library in the static graph of main.ts and sv');
});
