// SPDX-License-Identifier: MIT
// ipsvd_scan.c: ipsvd_scan_port — a port operand is first looked up as a service
// name (getservbyname, here: /etc/services), then read as a decimal number.
// compat: Node has no getservbyname; only /etc/services is consulted.

/** The tcp port of service name in an /etc/services text, or undefined. */
export function servicePort(name: string, services: string): number | undefined {
  for (const raw of services.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') continue;
    const [svc, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!m || m[2] !== 'tcp') continue;
    if (svc === name || aliases.includes(name)) return Number(m[1]);
  }
  return undefined;
}

/** ipsvd_scan_port: undefined for an unknown name or a malformed number. */
export function scanPort(s: string, services: string): number | undefined {
  if (s === '') return undefined;
  const p = servicePort(s, services);
  if (p !== undefined) return p;
  if (!/^\d+$/.test(s)) return undefined;
  // scan_ulong then htons: ipsvd keeps the low 16 bits.
  return Number(BigInt(s) & 0xffffn);
}
