// SPDX-License-Identifier: MIT
// The applet table: the only place applet names are registered. Keep it sorted by
// name (test/applets/index.ts checks order, uniqueness and each module's exports).
// Loaders are lazy so that `sv`, started often from scripts, never evaluates the
// rsync code; esbuild keeps each module's body unevaluated until its loader runs.
import type { AppletEntry } from '../lib/applet.js';

export const applets: readonly AppletEntry[] = [
  { name: 'rsyncd', load: () => import('./rsyncd.js') },
  { name: 'runsv', load: () => import('./runsv.js') },
  { name: 'runsvdir', load: () => import('./runsvdir.js') },
  { name: 'sv', load: () => import('./sv.js') },
  { name: 'svlogd', load: () => import('./svlogd.js') },
  { name: 'tcpsvd', load: () => import('./tcpsvd.js') },
];

export const appletNames: readonly string[] = applets.map((a) => a.name);

export function findApplet(name: string): AppletEntry | undefined {
  return applets.find((a) => a.name === name);
}
