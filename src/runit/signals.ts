// SPDX-License-Identifier: MIT
// Give signals back their default action. runit's runsv and runsvdir leave every
// signal but TERM, CHLD (and HUP for runsvdir) at the default, so SIGUSR1 or SIGPIPE
// kill them; Node instead ignores SIGPIPE and starts its inspector on SIGUSR1.
// Adding a listener and removing it again makes libuv restore SIG_DFL.
export const NODE_CLAIMED_SIGNALS: readonly NodeJS.Signals[] = ['SIGUSR1', 'SIGPIPE'];

export function restoreDefaultSignals(signals: readonly NodeJS.Signals[] = NODE_CLAIMED_SIGNALS): void {
  const noop = (): void => {};
  for (const s of signals) {
    process.on(s, noop);
    process.off(s, noop);
  }
}
