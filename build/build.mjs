// SPDX-License-Identifier: MIT
// Builds both artefacts from src/main.ts:
//   dist/svbox.mjs  the esbuild bundle (ESM, shebang), run with node, directly or through links;
//   dist/svbox      a Node single executable application (SEA): the pinned Node 24 binary
//                   with a CommonJS bundle injected by postject, code cache on.
// Why not pkg: it downloads prebuilt base binaries at build time, which cannot work
// offline, and upstream pkg is archived. SEA needs nothing but the node binary we pin.
// `--if-stale` builds only when a source is newer than the outputs (npm test uses it).
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, 'dist');
const outputs = ['svbox.mjs', 'svbox'].map((f) => join(dist, f));
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((f) => newest(join(path, f))));
}

function stale() {
  if (!outputs.every(existsSync)) return true;
  const built = Math.min(...outputs.map((f) => statSync(f).mtimeMs));
  const inputs = ['src', 'build', 'package.json', 'package-lock.json'].map((p) => join(root, p)).filter(existsSync);
  return Math.max(...inputs.map(newest)) > built;
}

/** The pinned node binary (devDependency node@24), never the machine's own. */
function pinnedNode() {
  const bin = realpathSync(join(root, 'node_modules', '.bin', 'node'));
  const version = execFileSync(bin, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`pinned node is ${version}, expected v24.x (run npm ci)`);
  return bin;
}

/** Run a build step; its chatter (postject warns about ELF note names) is shown only when it fails. */
function quiet(file, args) {
  const r = spawnSync(file, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${file} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
}

const common = {
  entryPoints: [join(root, 'src', 'main.ts')],
  bundle: true,
  platform: 'node',
  target: 'node24',
  legalComments: 'none',
  logLevel: 'warning',
  // Whitespace and syntax only: names stay readable in a BUG stack trace, and a smaller
  // script loads faster from the single executable (measured: a few ms of start-up).
  minifySyntax: true,
  minifyWhitespace: true,
};

async function main() {
  if (process.argv.includes('--if-stale') && !stale()) return;
  const node = pinnedNode();
  mkdirSync(dist, { recursive: true });
  await build({
    ...common,
    format: 'esm',
    outfile: join(dist, 'svbox.mjs'),
    // Bundled CommonJS dependencies may call require(); give them one.
    banner: { js: "#!/usr/bin/env node\nimport { createRequire as __svboxRequire } from 'node:module';\nconst require = __svboxRequire(import.meta.url);" },
  });
  chmodSync(join(dist, 'svbox.mjs'), 0o755);

  // The single executable runs a CommonJS main script.
  const cjs = join(dist, 'svbox-sea.cjs');
  await build({ ...common, format: 'cjs', outfile: cjs });
  const blob = join(dist, 'svbox.blob');
  const config = join(dist, 'sea-config.json');
  writeFileSync(config, JSON.stringify({ main: cjs, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true }));
  quiet(node, ['--experimental-sea-config', config]);
  const exe = join(dist, 'svbox');
  const tmp = `${exe}.new`;
  rmSync(tmp, { force: true });
  copyFileSync(node, tmp);
  chmodSync(tmp, 0o755);
  const postject = join(root, 'node_modules', 'postject', 'dist', 'cli.js');
  quiet(node, [postject, tmp, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE]);
  // Rename last: a failed build never leaves a half-made dist/svbox behind.
  execFileSync('mv', ['-f', tmp, exe]);
}

main().catch((err) => {
  process.stderr.write(`build: ${err.stack ?? err}\n`);
  process.exitCode = 1;
});
