// SPDX-License-Identifier: MIT
// `npm run bench -- NAME [NAME...]` runs bench/NAME.mjs (all of them without a name).
import { readdirSync } from 'node:fs';
import { ensureBuilt, ROOT } from './lib.mjs';
import { join } from 'node:path';

const known = readdirSync(join(ROOT, 'bench')).filter((f) => f.endsWith('.mjs') && !['lib.mjs', 'run.mjs'].includes(f)).map((f) => f.slice(0, -4)).sort();
const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !known.includes(w));
if (unknown.length) {
  console.error(`bench: unknown benchmark: ${unknown.join(' ')} (known: ${known.join(' ')})`);
  process.exitCode = 1;
} else {
  ensureBuilt();
  for (const name of wanted.length ? wanted : known) {
    console.log(`== ${name}`);
    const mod = await import(`./${name}.mjs`);
    await mod.default();
  }
}
