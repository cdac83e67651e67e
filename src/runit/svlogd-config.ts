// SPDX-License-Identifier: MIT
// svlogd's per-directory `config` file, parsed as runit's svlogd.c (logdir_open)
// parses it: one directive letter, the value right after it, unknown lines ignored.
// Pure: bytes in, settings and the warnings runit would print out. The file is
// handled as bytes (latin1) because patterns and prefixes match log bytes, not text.
// compat: the `t` timer's start time is kept by the caller (it needs the clock).

/** A `+`/`-`/`e`/`E` line: the letter and the pattern bytes after it. */
export interface Instruction {
  op: 0x2b | 0x2d | 0x65 | 0x45; // '+' '-' 'e' 'E'
  pattern: Buffer;
}

export interface UdpTarget {
  /** Dotted quad as runit's ip4_scan stores it (each part truncated to a byte). */
  host: string;
  port: number;
}

export interface LogdirConfig {
  /** `s`: rotate current at this many bytes; 0 never. */
  sizemax: number;
  /** `n`: keep at most this many old files; 0 keeps all. */
  nmax: number;
  /** `N`: on a full disk delete old files while more than this many exist. */
  nmin: number;
  /** `t`: rotate a non-empty current every this many seconds; 0 never. */
  tmax: number;
  /** `!`: shell command run on each rotated file; '' none. */
  processor: string;
  /** `u`/`U`: send selected lines by UDP. */
  udp?: UdpTarget;
  /** `U`: send by UDP only, write nothing to the directory. */
  udponly: boolean;
  /** `p`: bytes put before every line written (after the timestamp). */
  prefix: Buffer;
  /** `+ - e E` lines in file order. */
  inst: Instruction[];
}

export function defaultConfig(): LogdirConfig {
  return { sizemax: 1_000_000, nmax: 10, nmin: 10, tmax: 0, processor: '', udponly: false, prefix: Buffer.alloc(0), inst: [] };
}

/** djb scan_ulong: leading decimal digits; returns [value, digits consumed] (value 0 when there are none). */
export function scanUlong(s: Buffer | string, at = 0): [number, number] {
  const b = typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
  let v = 0;
  let i = at;
  while (i < b.length && b[i]! >= 0x30 && b[i]! <= 0x39) {
    v = v * 10 + (b[i]! - 0x30);
    i++;
  }
  return [v, i - at];
}

/** libdjbdns ip4_scan as svlogd.c carries it: four dot-separated numbers; returns [host, length] or undefined. */
function scanIp4(b: Buffer, at: number): [string, number] | undefined {
  const parts: number[] = [];
  let i = at;
  for (let k = 0; k < 4; k++) {
    if (k > 0) {
      if (b[i] !== 0x2e) return undefined;
      i++;
    }
    const [v, n] = scanUlong(b, i);
    if (n === 0) return undefined;
    parts.push(v % 256);
    i += n;
  }
  return [parts.join('.'), i - at];
}

export interface ParsedConfig {
  config: LogdirConfig;
  /** `WHAT: DETAIL` pairs runit prints as `svlogd: warning: WHAT: DETAIL`. */
  warnings: [string, string][];
}

/** svlogd.c: logdir_open, the "read config" loop. */
export function parseConfig(data: Buffer): ParsedConfig {
  const c = defaultConfig();
  const warnings: [string, string][] = [];
  // The loop runs while a line start has at least one byte after it: a last line of
  // one character without a newline is never looked at (for (i =0; i +1 < sa.len; ...)).
  for (let i = 0; i + 1 < data.length; ) {
    let end = data.indexOf(0x0a, i);
    if (end < 0) end = data.length;
    const line = data.subarray(i, end);
    const rest = line.subarray(1);
    switch (line[0]) {
      case 0x2b: case 0x2d: case 0x65: case 0x45: // + - e E
        c.inst.push({ op: line[0] as Instruction['op'], pattern: Buffer.from(rest) });
        break;
      case 0x73: { // s
        const [v, n] = scanUlong(rest);
        c.sizemax = v * suffix(rest[n], { m: 1024 * 1024, k: 1024 });
        break;
      }
      case 0x6e: c.nmax = scanUlong(rest)[0]; break; // n
      case 0x4e: c.nmin = scanUlong(rest)[0]; break; // N
      case 0x74: { // t
        const [v, n] = scanUlong(rest);
        c.tmax = v * suffix(rest[n], { h: 3600, m: 60 });
        break;
      }
      case 0x21: // !
        if (line.length > 1) c.processor = rest.toString('latin1');
        break;
      case 0x55: // U (udponly is set even when the address then fails to scan)
      case 0x75: { // u
        if (line[0] === 0x55) c.udponly = true;
        const ip = scanIp4(rest, 0);
        if (!ip) {
          warnings.push(['unable to scan ip address', rest.toString('latin1')]);
          break;
        }
        let port = 514;
        if (rest[ip[1]] === 0x3a) {
          port = scanUlong(rest, ip[1] + 1)[0];
          if (port === 0) {
            warnings.push(['unable to scan port number', rest.subarray(ip[1] + 1).toString('latin1')]);
            break;
          }
        }
        // sin_port = htons(port): a port that truncates to 0 switches UDP off.
        c.udp = port % 65536 === 0 ? undefined : { host: ip[0], port: port % 65536 };
        break;
      }
      case 0x70: // p
        if (line.length > 1) c.prefix = Buffer.from(rest);
        break;
      default: // '#', empty and unknown lines
        break;
    }
    i = end + 1;
  }
  return { config: c, warnings };
}

function suffix(ch: number | undefined, table: Record<string, number>): number {
  return ch === undefined ? 1 : (table[String.fromCharCode(ch)] ?? 1);
}
