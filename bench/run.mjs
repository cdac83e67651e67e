// SPDX-License-Identifier: MIT
// `npm run bench -- NAME [NAME...]` runs bench/NAME.mjs (all of them without a name).
// A benchmark is a module with a default export; other modules here (lib.mjs, tree
// makers) are helpers.
import { readdirSync } from 'node:fs';
import { ensureBuilt, ROOT } from './lib.mjs';
import { join } from 'node:path';

const candidates = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.mjs') && f !== 'run.mjs').map((f) => f.slice(0, -4)).sort();
const modules = Object.fromEntries(await Promise.all(candidates.map(async (n) => [n, await import(`./${n}.mjs`)])));
const known = candidates.filter((n) => typeof modules[n].default === 'function');
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !known.includes(w));
if (unknown.length) {
  console.error(`bench: unknown benchmark: ${unknown.join(' ')} (known: ${known.join(' ')})`);
  process.exitCode = 1;
} else {
  ensureBuilt();
  for (const name of wanted.length ? wanted : known) {
    console.log(`== ${name}`);
    await modules[name].default();
  }
}
