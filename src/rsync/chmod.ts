// SPDX-License-Identifier: MIT
// rsync's --chmod syntax (chmod.c: parse_chmod, tweak_mode), used for a module's
// `outgoing chmod`: comma-separated items, each optionally led by D (directories
// only) or F (non-directories only), then an octal mode or [ugoa]*[-+=][rwxXst]*.

interface Item { dirs: boolean; files: boolean; octal?: number; who: number; op: string; perm: number; bigX: boolean }

export type ChmodSpec = Item[];

export function parseChmod(spec: string): ChmodSpec | undefined {
  const out: Item[] = [];
  for (let part of spec.split(',').filter((s) => s !== '')) {
    let dirs = true;
    let files = true;
    if (part[0] === 'D') { files = false; part = part.slice(1); } else if (part[0] === 'F') { dirs = false; part = part.slice(1); }
    if (/^[0-7]+$/.test(part)) {
      out.push({ dirs, files, octal: parseInt(part, 8), who: 0, op: '=', perm: 0, bigX: false });
      continue;
    }
    const m = /^([ugoa]*)([-+=])([rwxXst]*)$/.exec(part);
    if (!m) return undefined;
    let who = 0;
    for (const c of m[1]!) who |= c === 'u' ? 0o4700 : c === 'g' ? 0o2070 : c === 'o' ? 0o1007 : 0o7777;
    let perm = 0;
    let bigX = false;
    for (const c of m[3]!) {
      if (c === 'r') perm |= 0o444;
      else if (c === 'w') perm |= 0o222;
      else if (c === 'x') perm |= 0o111;
      else if (c === 'X') bigX = true;
      else if (c === 's') perm |= 0o6000;
      else if (c === 't') perm |= 0o1000;
    }
    out.push({ dirs, files, who: who || 0o7777, op: m[2]!, perm, bigX });
  }
  return out;
}

/** chmod.c: tweak_mode — apply the items to the permission bits of `mode`. */
export function tweakMode(mode: number, spec: ChmodSpec): number {
  const isDir = (mode & 0o170000) === 0o040000;
  let bits = mode & 0o7777;
  const type = mode & ~0o7777;
  for (const it of spec) {
    if (isDir ? !it.dirs : !it.files) continue;
    if (it.octal !== undefined) {
      bits = it.octal & 0o7777;
      continue;
    }
    let perm = it.perm;
    if (it.bigX && (isDir || (bits & 0o111))) perm |= 0o111;
    perm &= it.who;
    if (it.op === '+') bits |= perm;
    else if (it.op === '-') bits &= ~perm;
    else bits = (bits & ~(it.who & 0o7777)) | perm;
  }
  return type | bits;
}
