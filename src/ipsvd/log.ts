// SPDX-License-Identifier: MIT
// tcpsvd's -v log lines in ipsvd's words (tcpsvd.c, ipsvd_log.c: outfix,
// outinst; shared/docs/runit-compat.md §6.4). Pure formatting: the applet writes
// the lines to stdout, as ipsvd does.

/** ipsvd marks a string cut at its limit, and one exactly AT the limit too (ipsvd 1.0.0 does). */
const truncated = (b: Buffer, limit: number): string => (b.length >= limit ? '...(truncate)' : '');

/** outfix: at most 100 bytes, bytes < 33, > 126 and ':' shown as '?'; 100 or more get `...(truncate)`. */
export function outfix(s: string | undefined): string {
  if (!s) return '';
  const b = Buffer.from(s);
  let out = '';
  for (let i = 0; i < b.length && i < 100; i++) {
    const c = b[i]!;
    out += c < 33 || c > 126 || c === 0x3a ? '?' : String.fromCharCode(c);
  }
  return out + truncated(b, 100);
}

/** outinst: NUL as ',', other bytes < 32 or > 126 as '?', trailing NULs dropped, 140 bytes at most (as outfix). */
export function outinst(text: string): string {
  const b = Buffer.from(text.replace(/\0+$/, ''));
  let out = '';
  for (let i = 0; i < b.length && i < 140; i++) {
    const c = b[i]!;
    out += c === 0 ? ',' : c < 32 || c > 126 ? '?' : String.fromCharCode(c);
  }
  return out + truncated(b, 140);
}

const INFO = 'tcpsvd: info: ';

export const logLine = {
  listening: (ip: string, port: string, ug?: { uid: number; gid: number }) =>
    `${INFO}listening on ${outfix(ip)}:${outfix(port)}${ug ? `, uid ${ug.uid}, gid ${ug.gid}` : ''}, starting.\n`,
  status: (cnum: number, cmax: number) => `${INFO}status ${cnum}/${cmax}\n`,
  pid: (pid: number, ip: string) => `${INFO}pid ${pid} from ${outfix(ip)}\n`,
  concurrency: (pid: number, ip: string, n: number, max: number) => `${INFO}concurrency ${pid} ${outfix(ip)} ${n}/${max}\n`,
  end: (pid: number, code: number) => `${INFO}end ${pid} exit ${code}\n`,
  sigterm: () => `${INFO}sigterm received, exit.\n`,
};

export interface StartLine {
  verb: 'start' | 'exec' | 'deny';
  pid: number;
  localHost?: string;
  localIp: string;
  remoteHost?: string;
  remoteIp: string;
  remotePort: number;
  /** With -i/-x: the match ('' when none), shown through outfix. */
  match?: string;
  /** With -x: `CDB/`, shown as is before the match. */
  matchPrefix?: string;
  /** -vv: the instructions text. */
  inst?: string;
}

/** `VERB PID LHOST:LIP :RHOST:RIP:RPORT[ MATCH[: INST]]` */
export function startLine(s: StartLine): string {
  let l = `${INFO}${s.verb} ${s.pid} ${outfix(s.localHost)}:${s.localIp} :${outfix(s.remoteHost)}:${outfix(s.remoteIp)}:${outfix(String(s.remotePort))}`;
  if (s.match !== undefined) {
    l += ` ${s.matchPrefix ?? ''}${outfix(s.match)}`;
    if (s.inst) l += `: ${outinst(s.inst)}`;
  }
  return `${l}\n`;
}
