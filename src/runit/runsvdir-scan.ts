// SPDX-License-Identifier: MIT
// One scan of runsvdir's directory, as pure data: which entries get a new runsv,
// which known services get their runsv back, which runsv get SIGTERM because their
// directory is gone (runsvdir.c: runsvdir). Services are known by the (device,
// inode) of the directory an entry resolves to, not by name: a rename changes
// nothing, a symlink pointed elsewhere is a removal plus an addition.
// Also the "readproctitle" ring of runsvdir's log argument (runsvdir.c: main).

export const MAXSERVICES = 1000;

export interface Known {
  dev: bigint;
  ino: bigint;
  /** pid of its runsv, 0 while none runs. */
  pid: number;
}

export interface Found { name: string; dev: bigint; ino: bigint }

export interface ScanPlan {
  /** Start a runsv for this entry; `index` into `next`. */
  start: { name: string; index: number }[];
  /** SIGTERM these runsv: their directory is gone. */
  term: number[];
  /** Entries over the limit: runit warns "too many services". */
  refused: string[];
  /** The table after the scan. */
  next: Known[];
  /** A new service appeared or one went away: scan again soon. */
  changed: boolean;
}

export function planScan(known: readonly Known[], found: readonly Found[]): ScanPlan {
  const next = known.map((k) => ({ ...k }));
  const seen = new Set<number>();
  const plan: ScanPlan = { start: [], term: [], refused: [], next: [], changed: false };
  for (const f of found) {
    const i = next.findIndex((k) => k.dev === f.dev && k.ino === f.ino);
    if (i >= 0) {
      if (!seen.has(i)) {
        seen.add(i);
        if (next[i]!.pid === 0) plan.start.push({ name: f.name, index: i });
      }
      continue;
    }
    if (next.length >= MAXSERVICES) {
      plan.refused.push(f.name);
      continue;
    }
    next.push({ dev: f.dev, ino: f.ino, pid: 0 });
    seen.add(next.length - 1);
    plan.start.push({ name: f.name, index: next.length - 1 });
    plan.changed = true;
  }
  const keep: number[] = [];
  next.forEach((k, i) => {
    if (seen.has(i)) keep.push(i);
    else {
      if (k.pid) plan.term.push(k.pid);
      plan.changed = true;
    }
  });
  const remap = new Map(keep.map((old, now) => [old, now]));
  plan.start = plan.start.map((s) => ({ name: s.name, index: remap.get(s.index)! }));
  plan.next = keep.map((i) => next[i]!);
  return plan;
}

/**
 * runsvdir's log argument shown in the process title: its first five characters stay,
 * the rest is a window onto the last bytes written to runsvdir's stderr pipe.
 */
export class TitleRing {
  readonly fixed: string;
  private ring: string;
  constructor(log: string) {
    this.fixed = log.slice(0, 5);
    this.ring = log.slice(5);
  }
  /** Shift in these bytes (NULs dropped: a process title cannot hold them). */
  feed(bytes: string): void {
    const add = bytes.replace(/\0/g, '');
    if (!add) return;
    const n = this.ring.length;
    this.ring = (this.ring + add).slice(-n);
  }
  text(): string {
    return this.fixed + this.ring;
  }
}
