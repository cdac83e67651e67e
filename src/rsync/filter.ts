// SPDX-License-Identifier: MIT
// Filter rules as the sender applies them: the client's list (read from the wire) and
// the module's own exclude/include/filter settings. Mirrors exclude.c: parse_filter_str
// (the short "- pat"/"+ pat" forms with modifiers, the long "exclude pat" forms, "!"
// to clear), rule_matches and check_filter. Pure: no I/O.
//
// compat: per-directory merge files (": .rsync-filter", "dir-merge") are recognised
// but not read; a list containing one is reported by `hasMerge` so the caller can say so.
import { wildmatch, hasWildcards } from './wildmatch.js';

export interface Rule {
  include: boolean;
  pattern: string;
  anchored: boolean;
  dirOnly: boolean;
  negate: boolean;
  /** `**` present: match against every suffix of the path starting after a '/'. */
  wild2: boolean;
  wild: boolean;
  slashes: number;
  /** pattern ended in `/***`: matches the directory itself and everything below. */
  tripleStar: boolean;
  senderSide: boolean;
  receiverSide: boolean;
  perishable: boolean;
}

// exclude.c: default_cvsignore
const CVS_IGNORE = 'RCS SCCS CVS CVS.adm RCSLOG cvslog.* tags TAGS .make.state .nse_depinfo *~ #* .#* ,* _$* *$ *.old *.bak *.BAK *.orig *.rej .del-* *.a *.olb *.o *.obj *.so *.exe *.Z *.elc *.ln core .svn/ .git/ .hg/ .bzr/';

export class FilterList {
  rules: Rule[] = [];
  hasMerge = false;

  /** Add one rule in rsync's syntax; returns false for forms we cannot use (merge files). */
  add(text: string): boolean {
    let t = text;
    let kind: string;
    let mods = '';
    const long = /^(exclude|include|hide|show|protect|risk|clear|merge|dir-merge)(?:,([^ ]*))?(?: |$)/.exec(t);
    if (long) {
      kind = { exclude: '-', include: '+', hide: 'H', show: 'S', protect: 'P', risk: 'R', clear: '!', merge: '.', 'dir-merge': ':' }[long[1]!]!;
      mods = long[2] ?? '';
      t = t.slice(long[0].length);
    } else {
      const m = /^([-+HSPR!.:])([^ _]*)[ _]?/.exec(t);
      if (!m) {
        return this.push('-', '', t);
      }
      kind = m[1]!;
      mods = m[2] ?? '';
      t = t.slice(m[0].length);
    }
    if (kind === '!') {
      this.rules = [];
      return true;
    }
    if (kind === '.' || kind === ':') {
      this.hasMerge = true;
      return false;
    }
    if (mods.includes('C') && t === '') {
      for (const w of CVS_IGNORE.split(' ')) this.push('-', mods.replace('C', ''), w);
      return true;
    }
    return this.push(kind, mods, t);
  }

  private push(kind: string, mods: string, pattern: string): boolean {
    if (kind === 'P' || kind === 'R') return true; // receiver-side only
    let p = pattern;
    const r: Rule = {
      include: kind === '+' || kind === 'S',
      pattern: '', anchored: false, dirOnly: false, negate: mods.includes('!'), wild2: false, wild: false,
      slashes: 0, tripleStar: false, senderSide: kind === 'H' || kind === 'S' || mods.includes('s'),
      receiverSide: mods.includes('r'), perishable: mods.includes('p'),
    };
    if (r.receiverSide && !r.senderSide) return true;
    if (mods.includes('/')) r.anchored = true;
    if (p.startsWith('/')) {
      r.anchored = true;
      p = p.replace(/^\/+/, '');
    }
    if (p.endsWith('/***')) {
      r.tripleStar = true;
      p = p.slice(0, -4);
    } else if (p.length > 1 && p.endsWith('/')) {
      r.dirOnly = true;
      p = p.replace(/\/+$/, '');
    }
    r.pattern = p;
    r.wild = hasWildcards(p) || r.tripleStar;
    r.wild2 = p.includes('**');
    r.slashes = (p.match(/\//g) ?? []).length;
    this.rules.push(r);
    return true;
  }

  /** Add a module setting's words: `exclude = a b c` and `include = ...` (space-separated patterns). */
  addWords(kind: '-' | '+', value: string): void {
    for (const w of value.split(/\s+/).filter(Boolean)) this.add(/^[-+] /.test(w) ? w : `${kind} ${w}`);
  }

  /** check_filter: the first matching rule decides; no match means included. `path` has no leading '/'. */
  excluded(path: string, isDir: boolean): boolean {
    for (const r of this.rules) {
      if (ruleMatches(r, path, isDir)) return !r.include;
    }
    return false;
  }
}

function matchOne(r: Rule, pat: string, target: string): boolean {
  return r.wild ? wildmatch(pat, target) : pat === target;
}

// exclude.c: rule_matches
export function ruleMatches(r: Rule, path: string, isDir: boolean): boolean {
  let hit: boolean;
  if (r.tripleStar) {
    hit = matchPath(r, r.pattern, path) || matchPath(r, `${r.pattern}/**`, path);
  } else {
    if (r.dirOnly && !isDir) return r.negate;
    hit = matchPath(r, r.pattern, path);
  }
  return r.negate ? !hit : hit;
}

function matchPath(r: Rule, pat: string, path: string): boolean {
  if (r.anchored) return matchOne(r, pat, path);
  if (r.wild2 || pat.includes('**')) {
    if (matchOne(r, pat, path)) return true;
    for (let i = path.indexOf('/'); i >= 0; i = path.indexOf('/', i + 1)) {
      if (matchOne(r, pat, path.slice(i + 1))) return true;
    }
    return false;
  }
  if (r.slashes === 0) {
    const slash = path.lastIndexOf('/');
    return matchOne(r, pat, slash < 0 ? path : path.slice(slash + 1));
  }
  // the last slashes+1 components
  let at = path.length;
  for (let n = 0; n <= r.slashes; n++) {
    at = path.lastIndexOf('/', at - 1);
    if (at < 0) {
      if (n === r.slashes) return matchOne(r, pat, path);
      return false;
    }
  }
  return matchOne(r, pat, path.slice(at + 1));
}
