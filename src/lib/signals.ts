// SPDX-License-Identifier: MIT
// Give signals back their default action. Node ignores SIGPIPE and, on SIGUSR1, starts
// its inspector on 127.0.0.1:9229 — a debugger any local user could attach to, so never
// acceptable in a daemon. The C tools we replace leave both at the default (runit's
// runsv and runsvdir handle only TERM, CHLD and HUP), so SIGUSR1 kills them.
// Adding a listener and removing it again makes libuv restore SIG_DFL. The dispatcher
// does this for SIGUSR1 in every applet; runsv and runsvdir also restore SIGPIPE.
export const NODE_CLAIMED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGPIPE'];

export function restoreDefaultSignals(signals: readonly NodeJS.Signals[] = NODE_CLAIMED_SIGNALS): void {
  const noop = (): void => {};
  for (const s of signals) {
    process.on(s, noop);
    process.off(s, noop);
  }
}
