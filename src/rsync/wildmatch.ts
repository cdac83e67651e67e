// SPDX-License-Identifier: MIT
// Shell-style wildcard matching as rsync's lib/wildmatch.c does it (dowild): `*`
// matches any run without '/', `**` any run including '/', `?` one non-'/' char,
// `[...]` classes with `!` or `^` negation, ranges and [:name:] classes, and `\`
// escapes. Works on strings whose chars are bytes (latin1-decoded names) or UTF-16;
// callers pass what they compare.

const MATCH = 1;
const NOMATCH = 0;
const ABORT_ALL = -1;
const ABORT_TO_STARSTAR = -2;

function classMatch(name: string, c: string): boolean {
  const code = c.charCodeAt(0);
  switch (name) {
    case 'alnum': return /[A-Za-z0-9]/.test(c);
    case 'alpha': return /[A-Za-z]/.test(c);
    case 'blank': return c === ' ' || c === '\t';
    case 'cntrl': return code < 32 || code === 127;
    case 'digit': return /[0-9]/.test(c);
    case 'graph': return code > 32 && code < 127;
    case 'lower': return /[a-z]/.test(c);
    case 'print': return code >= 32 && code < 127;
    case 'punct': return code > 32 && code < 127 && !/[A-Za-z0-9]/.test(c);
    case 'space': return /[ \t\n\r\v\f]/.test(c);
    case 'upper': return /[A-Z]/.test(c);
    case 'xdigit': return /[0-9A-Fa-f]/.test(c);
    default: return false;
  }
}

// lib/wildmatch.c: dowild
function dowild(p: string, pi: number, t: string, ti: number): number {
  for (; pi < p.length; pi++, ti++) {
    let pc = p[pi]!;
    if (ti >= t.length && pc !== '*') return ABORT_ALL;
    const tc = t[ti];
    switch (pc) {
      case '\\':
        pc = p[++pi] ?? '';
        if (tc !== pc) return NOMATCH;
        continue;
      case '?':
        if (tc === '/') return NOMATCH;
        continue;
      case '*': {
        let matchSlash: boolean;
        if (p[pi + 1] === '*') {
          while (p[pi + 1] === '*') pi++;
          matchSlash = true;
        } else {
          matchSlash = false;
        }
        pi++;
        if (pi >= p.length) {
          if (!matchSlash && t.indexOf('/', ti) >= 0) return NOMATCH;
          return MATCH;
        }
        for (; ti < t.length; ti++) {
          const r = dowild(p, pi, t, ti);
          if (r !== NOMATCH) {
            if (!matchSlash || r !== ABORT_TO_STARSTAR) return r;
          } else if (!matchSlash && t[ti] === '/') {
            return ABORT_TO_STARSTAR;
          }
        }
        return ABORT_ALL;
      }
      case '[': {
        pi++;
        let negate = false;
        if (p[pi] === '!' || p[pi] === '^') { negate = true; pi++; }
        let matched = false;
        let prev = '';
        let first = true;
        for (; ; first = false) {
          if (pi >= p.length) return ABORT_ALL;
          let c = p[pi]!;
          if (c === ']' && !first) break;
          if (c === '\\') {
            c = p[++pi] ?? '';
            if (tc === c) matched = true;
          } else if (c === '-' && prev && pi + 1 < p.length && p[pi + 1] !== ']') {
            let hi = p[++pi]!;
            if (hi === '\\') hi = p[++pi] ?? '';
            if (tc !== undefined && tc <= hi && tc >= prev) matched = true;
            c = '';
          } else if (c === '[' && p[pi + 1] === ':') {
            const end = p.indexOf(':]', pi + 2);
            if (end < 0) { if (tc === '[') matched = true; }
            else {
              if (tc !== undefined && classMatch(p.slice(pi + 2, end), tc)) matched = true;
              pi = end + 1;
              c = '';
            }
          } else if (tc === c) {
            matched = true;
          }
          prev = c;
          pi++;
        }
        if (matched === negate || tc === '/') return NOMATCH;
        continue;
      }
      default:
        if (tc !== pc) return NOMATCH;
    }
  }
  return ti >= t.length ? MATCH : NOMATCH;
}

/** True when `text` matches the wildcard `pattern` as a whole. */
export function wildmatch(pattern: string, text: string): boolean {
  return dowild(pattern, 0, text, 0) === MATCH;
}

/** True when the pattern holds a wildcard character (rsync checks for these three). */
export function hasWildcards(pattern: string): boolean {
  return /[*?[]/.test(pattern);
}
