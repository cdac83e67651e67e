// SPDX-License-Identifier: MIT
// The wildcard matching the daemon front end needs for host names (hosts allow/deny)
// and user names (auth users): rsync's wildmatch.c semantics for names without '/':
// `*` any run, `?` one character, `[...]` a class with `!` or `^` negation, ranges
// and [:alpha:]-style names, `\` quoting the next character. The whole name must
// match. Compiled to a RegExp per call: patterns are short and checked once per connection.
// The file-list matcher with `/` and `**` rules lives with the transfer engine.

const CLASSES: Record<string, string> = {
  alnum: 'A-Za-z0-9', alpha: 'A-Za-z', blank: ' \\t', cntrl: '\\x00-\\x1f\\x7f', digit: '0-9',
  graph: '\\x21-\\x7e', lower: 'a-z', print: '\\x20-\\x7e', punct: '!-\\/:-@\\[-`{-~', space: ' \\t\\n\\r\\f\\v',
  upper: 'A-Z', xdigit: '0-9A-Fa-f',
};

const esc = (c: string): string => c.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function compile(pattern: string): RegExp | null {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\' && i + 1 < pattern.length) re += esc(pattern[++i]!);
    else if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      let j = i + 1;
      let neg = false;
      if (pattern[j] === '!' || pattern[j] === '^') { neg = true; j++; }
      let body = '';
      let first = true;
      for (; j < pattern.length && (first || pattern[j] !== ']'); j++, first = false) {
        const d = pattern[j]!;
        if (d === '[' && pattern[j + 1] === ':') {
          const end = pattern.indexOf(':]', j + 2);
          const cls = end > 0 ? CLASSES[pattern.slice(j + 2, end)] : undefined;
          if (cls === undefined) return null; // rsync: a bad class never matches
          body += cls;
          j = end + 1;
        } else if (d === '\\' && j + 1 < pattern.length) body += esc(pattern[++j]!);
        else if (d === '-' && body !== '' && pattern[j + 1] !== ']' && j + 1 < pattern.length) body += '-';
        else body += esc(d);
      }
      if (j >= pattern.length) return null; // unterminated class: no match, as wildmatch
      re += `[${neg ? '^' : ''}${body}]`;
      i = j;
    } else re += esc(c);
  }
  try {
    return new RegExp(`${re}$`, 's');
  } catch {
    return null;
  }
}

export function wildmatch(pattern: string, text: string): boolean {
  const re = compile(pattern);
  return re !== null && re.test(text);
}

/** Case-insensitive (rsync iwildmatch): used for host names. */
export function iwildmatch(pattern: string, text: string): boolean {
  return wildmatch(pattern.toLowerCase(), text.toLowerCase());
}
