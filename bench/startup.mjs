// SPDX-License-Identifier: MIT
// Start-up cost: `sv --help` through the single executable against `node -e 0` of
// the same pinned Node, alternating, median of each. Goal: ratio <= 1.2.
import { alternate, appletLinks, median, NODE, report, tempDir, timeRun } from './lib.mjs';

export default async function startup({ runs = 30 } = {}) {
  const { sv } = appletLinks(tempDir(), ['sv']);
  // Warm the page cache for both binaries before measuring.
  timeRun(sv, ['--help']);
  timeRun(NODE, ['-e', '0']);
  const [ours, theirs] = await alternate(runs, () => timeRun(sv, ['--help']), () => timeRun(NODE, ['-e', '0']));
  console.log(`startup: ${runs} alternating runs each`);
  return { ratio: report('startup median wall (sv --help vs node -e 0)', median(ours), median(theirs), 'ms', 1.2) };
}
