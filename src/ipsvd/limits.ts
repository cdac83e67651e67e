// SPDX-License-Identifier: MIT
// Connection accounting for tcpsvd: the global count against -c and the
// per-host count for -C (ipsvd_phcc.c: a connection counts from accept until its
// child is reaped, denied ones included; the count includes the new connection).

export class PerHost {
  private readonly byIp = new Map<string, number>();
  private readonly ipOf = new Map<number, string>();

  /** Count a new connection from ip; returns connections from ip including it. */
  add(ip: string): number {
    const n = (this.byIp.get(ip) ?? 0) + 1;
    this.byIp.set(ip, n);
    return n;
  }

  /** Tie a counted connection to the id its end will be reported under. */
  bind(id: number, ip: string): void {
    this.ipOf.set(id, ip);
  }

  /** The connection known as id ended. */
  remove(id: number): void {
    const ip = this.ipOf.get(id);
    if (ip === undefined) return;
    this.ipOf.delete(id);
    this.release(ip);
  }

  /** Uncount one connection from ip that was never bound. */
  release(ip: string): void {
    const n = (this.byIp.get(ip) ?? 0) - 1;
    if (n > 0) this.byIp.set(ip, n);
    else this.byIp.delete(ip);
  }

  count(ip: string): number {
    return this.byIp.get(ip) ?? 0;
  }
}
