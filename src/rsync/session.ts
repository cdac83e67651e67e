// SPDX-License-Identifier: MIT
// Placeholder until the transfer engine lands (next commits on this branch).
import type { ServerParams } from './server.js';

export async function serve(_p: ServerParams): Promise<number> {
  throw new Error('rsync transfer engine not yet implemented');
}
