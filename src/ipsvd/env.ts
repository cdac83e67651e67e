// SPDX-License-Identifier: MIT
// The UCSPI environment tcpsvd gives a connection's program (ipsvd tcpsvd.c:
// ucspi_env, verified against ipsvd 1.0.0, shared/docs/runit-compat.md §6.3):
// PROTO=TCP, TCPLOCALIP, TCPLOCALPORT, TCPLOCALHOST (removed when unknown),
// TCPREMOTEIP, TCPREMOTEPORT, TCPREMOTEHOST (removed unless -h found a name),
// TCPREMOTEINFO always removed, TCPCONCURRENCY with -C; then the instruction
// changes in order. With -E (ucspi off) only the instruction changes apply.
import type { EnvOp } from './instruct.js';

export interface Connection {
  localIp: string;
  /** As ipsvd: the port operand as given (a service name stays a name). */
  localPort: string;
  localHost?: string;
  remoteIp: string;
  remotePort: number;
  remoteHost?: string;
  /** Connections from this address including this one, with -C; 0 otherwise. */
  concurrency: number;
}

export function ucspiOps(c: Connection): EnvOp[] {
  const ops: EnvOp[] = [
    ['PROTO', 'TCP'],
    ['TCPLOCALIP', c.localIp],
    ['TCPLOCALPORT', c.localPort],
    ['TCPLOCALHOST', c.localHost || undefined],
    ['TCPREMOTEIP', c.remoteIp],
    ['TCPREMOTEPORT', String(c.remotePort)],
    ['TCPREMOTEHOST', c.remoteHost || undefined],
    ['TCPREMOTEINFO', undefined],
  ];
  if (c.concurrency > 0) ops.push(['TCPCONCURRENCY', String(c.concurrency)]);
  return ops;
}

/** A new environment: base with ops applied in order (pathexec_env). */
export function buildEnv(base: NodeJS.ProcessEnv, ...opLists: readonly (readonly EnvOp[])[]): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  for (const ops of opLists) {
    for (const [k, v] of ops) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
  }
  return env;
}
