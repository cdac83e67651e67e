// SPDX-License-Identifier: MIT
// `svbox --install [-f] [DIR]`: one symbolic link per applet name, pointing at the
// executable. A name that already exists is replaced only when it is a link that
// already leads to us, or when forced: we never clobber somebody else's `sv`.
import { lstatSync, realpathSync, symlinkSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Fatal, unableText } from './die.js';

export interface Installed { name: string; path: string; replaced: boolean }

function leadsTo(path: string, target: string): boolean {
  try {
    return realpathSync(path) === target;
  } catch {
    return false;
  }
}

export function installLinks(names: readonly string[], dir: string, target: string, force: boolean): Installed[] {
  const done: Installed[] = [];
  for (const name of names) {
    const path = join(dir, name);
    let exists = false;
    try {
      const st = lstatSync(path);
      exists = true;
      if (!force && !(st.isSymbolicLink() && leadsTo(path, target))) {
        throw new Fatal(`refusing to replace ${path}: not a link to ${target} (use -f)`, 1);
      }
    } catch (err) {
      if (err instanceof Fatal) throw err;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Fatal(unableText(`stat ${path}`, err), 1);
    }
    // Make the new link beside the old name, then rename over it: the name is never missing.
    const tmp = `${path}.svbox-new.${process.pid}`;
    try {
      symlinkSync(target, tmp);
      renameSync(tmp, path);
    } catch (err) {
      try { unlinkSync(tmp); } catch { /* not created */ }
      throw new Fatal(unableText(`create link ${path}`, err), 1);
    }
    done.push({ name, path, replaced: exists });
  }
  return done;
}
