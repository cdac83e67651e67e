// SPDX-License-Identifier: MIT
// One connection after the front end: protocol setup (compat.c: setup_protocol,
// negotiate_the_strings), then the role the client asked for. The sender role (a
// client pull) lives in sender.ts. Errors after setup reach the client the way
// rsync's do: MSG_ERROR text, then MSG_ERROR_EXIT (protocol >= 31) with the code.
import type { ServerParams } from './server.js';
import { Reader, Writer, ProtocolError } from './io.js';
import { capabilityLetters } from './options.js';
import { CHECKSUM_OFFER, chooseChecksum, checksumByName, makeChecksums, type Checksums, type CsumName } from './checksum.js';
import { MSG_ERROR, MSG_ERROR_EXIT, MSG_ERROR_XFER, MSG_INFO, MSG_IO_TIMEOUT, MSG_NOOP, MSG_WARNING } from './wire/codec.js';
import { runSender } from './sender.js';
import type { SumWindow } from './rollsum.js';

export const CF_INC_RECURSE = 1 << 0;
export const CF_SYMLINK_TIMES = 1 << 1;
export const CF_SYMLINK_ICONV = 1 << 2;
export const CF_SAFE_FLIST = 1 << 3;
export const CF_AVOID_XATTR_OPTIM = 1 << 4;
export const CF_CHKSUM_SEED_FIX = 1 << 5;
export const CF_INPLACE_PARTIAL_DIR = 1 << 6;
export const CF_VARINT_FLIST_FLAGS = 1 << 7;
export const CF_ID0_NAMES = 1 << 8;

/** errcode.h exit values used here. */
export const RERR_SYNTAX = 1;
export const RERR_PROTOCOL = 2;
export const RERR_FILESELECT = 3;
export const RERR_UNSUPPORTED = 4;
export const RERR_SOCKETIO = 10;
export const RERR_FILEIO = 11;
export const RERR_STREAMIO = 12;
export const RERR_PARTIAL = 23;
export const RERR_VANISHED = 24;
export const RERR_TIMEOUT = 30;

/** The client ended the run with MSG_ERROR_EXIT, or the connection broke. */
export class Abort extends Error {
  constructor(readonly code: number, message = `exit ${code}`) {
    super(message);
    this.name = 'Abort';
  }
}

export interface Session {
  p: ServerParams;
  r: Reader;
  w: Writer;
  protocol: number;
  compat: number;
  seed: number;
  /** Digest length of the negotiated checksum (known before the hash code is ready). */
  csumLen: number;
  /** The negotiated checksum; its WebAssembly is compiled in the background from setup on. */
  loadCsum(): Promise<Checksums>;
  /** The matcher's read window, reused from file to file. */
  scratch: { win?: SumWindow };
  /** "rsync: [sender] TEXT\n" as MSG_ERROR_XFER (rsync's rsyserr/FERROR_XFER). */
  xferError(text: string): void;
  /** Plain text to the client's stdout (FINFO). */
  info(text: string): void;
  /** Warning text without prefix (FWARNING, MSG_WARNING). */
  warning(text: string): void;
}

function compatFlags(letters: string): number {
  let f = 0;
  if (letters.includes('L')) f |= CF_SYMLINK_TIMES;
  if (letters.includes('s')) f |= CF_SYMLINK_ICONV;
  if (letters.includes('f')) f |= CF_SAFE_FLIST;
  if (letters.includes('x')) f |= CF_AVOID_XATTR_OPTIM;
  if (letters.includes('C')) f |= CF_CHKSUM_SEED_FIX;
  if (letters.includes('I')) f |= CF_INPLACE_PARTIAL_DIR;
  if (letters.includes('u')) f |= CF_ID0_NAMES;
  if (letters.includes('v')) f |= CF_VARINT_FLIST_FLAGS;
  return f;
}

/** Send error lines and the exit code as rsync does after setup; returns the code. */
async function fail(s: Pick<Session, 'w' | 'protocol'>, lines: string[], code: number, exitMessage = true): Promise<number> {
  for (const l of lines) s.w.msg(MSG_ERROR, l.endsWith('\n') ? l : `${l}\n`);
  if (s.protocol >= 31 && exitMessage) s.w.msgInt(MSG_ERROR_EXIT, code);
  await s.w.drain();
  return code;
}

export async function serve(p: ServerParams): Promise<number> {
  const r = new Reader(p.input, p.pending);
  const w = new Writer(p.output);
  r.beforeWait = () => w.flush();
  const protocol = p.protocol;
  if (protocol < 30 || protocol > 32) {
    p.log.error(`protocol version ${protocol} is not supported by this server`);
    return RERR_PROTOCOL;
  }
  const o = p.options;
  let aborted: Abort | undefined;
  r.onMessage = (code, payload) => {
    if (code === MSG_ERROR_EXIT && payload.length === 0) return; // the client's acknowledgement of ours
    if (code === MSG_ERROR_EXIT) {
      const v = payload.length >= 4 ? Buffer.from(payload).readInt32LE(0) : 0;
      if (payload.length >= 4 && protocol >= 31) w.msg(MSG_ERROR_EXIT, new Uint8Array(0));
      aborted = new Abort(v, 'client sent MSG_ERROR_EXIT');
      throw aborted;
    }
    if (code === MSG_ERROR || code === MSG_ERROR_XFER || code === MSG_WARNING || code === MSG_INFO) {
      p.log.info(`client: ${Buffer.from(payload).toString('latin1').trimEnd()}`);
      return;
    }
    if (code === MSG_NOOP) return;
    // MSG_IO_ERROR, MSG_SUCCESS and the rest carry nothing a read-only sender acts on.
  };

  // io.c: check_timeout — with `timeout` (module) or --timeout (client, if shorter),
  // give up when nothing moved either way for that long (RERR_TIMEOUT).
  const limits = [p.module.timeout, o.timeout ?? 0].filter((x) => x > 0);
  const timeout = limits.length ? Math.min(...limits) : 0;
  let timer: NodeJS.Timeout | undefined;
  if (timeout) {
    timer = setInterval(() => {
      const idle = Date.now() - Math.max(r.lastIo, w.lastIo);
      if (idle >= timeout * 1000) {
        clearInterval(timer);
        p.log.error(`io timeout after ${Math.floor(idle / 1000)} seconds -- exiting`);
        const err = new ProtocolError(`io timeout after ${Math.floor(idle / 1000)} seconds -- exiting`, RERR_TIMEOUT);
        r.abort(err);
        w.abort(err);
      }
    }, 1000);
    timer.unref();
  }

  try {
    // compat.c: setup_protocol (server side, protocol >= 30; no binary version exchange here).
    const letters = capabilityLetters(o);
    const compat = p.failure ? compatFlags('') : compatFlags(letters);
    if (letters.includes('V') && !p.failure) w.out.byte(compat);
    else w.out.varint(compat);
    let csumName = 'md5';
    let setupError: string | undefined;
    if (compat & CF_VARINT_FLIST_FLAGS) {
      const wantCsumList = !o.checksumChoice;
      const wantCompressList = o.compress && !o.compressChoice;
      if (wantCsumList) {
        // compat.c: negotiate_the_strings — the client sends its lists as soon as it has
        // read the compat flags, without waiting for ours. Send the flags, wait for the
        // first byte of its list, then send ours: our list carries the TCP acknowledgement
        // of that byte, so the client's Nagle algorithm lets the rest of its list go at
        // once instead of after our delayed ACK (40 ms on Linux; rsync --daemon escapes it
        // by writing its flags and list in separate small writes).
        w.flush();
        await r.need(1);
        w.out.vstring(CHECKSUM_OFFER.join(' '));
      }
      // compat: compression is not implemented yet; the offer is "none", which a client
      // asking for -z refuses with its own "Failed to negotiate a compress choice" (exit 4).
      if (wantCompressList) w.out.vstring('none');
      w.flush();
      if (wantCsumList) {
        const list = await r.vstring(1024);
        const c = chooseChecksum(list);
        if (c) csumName = c;
        else setupError = `rsync: Failed to negotiate a checksum choice (client offered: ${list})`;
      }
      if (wantCompressList) await r.vstring(1024);
    }
    if (o.checksumChoice) {
      const first = o.checksumChoice.split(',')[0]!;
      const c = checksumByName(first);
      if (c) csumName = c;
      else setupError = `rsync: The server does not support the checksum "${first}"`;
    }
    // The seed always follows, even when setup failed: the client reads it before
    // it looks for multiplexed messages.
    const seed = o.checksumSeed ?? p.seed ?? ((Math.floor(Date.now() / 1000) ^ (process.pid << 6)) & 0x7fffffff);
    w.out.int32(seed);
    w.flush();
    w.mux = true;
    r.mux = true;
    if (setupError) return await fail({ w, protocol }, [setupError], RERR_UNSUPPORTED);
    if (p.module.timeout > 0 && protocol >= 31) w.msgInt(MSG_IO_TIMEOUT, p.module.timeout);

    if (p.failure) return await fail({ w, protocol }, p.failure.lines, p.failure.code, p.failure.exitMessage ?? true);
    // Options that change the wire format or the file selection in ways this sender does
    // not implement are refused rather than half-served (options.c: create_refuse_error,
    // "The server does not support ...").
    const unsupported = o.acls ? '--acls (-A)' : o.xattrs ? '--xattrs (-X)' : o.iconv !== undefined ? '--iconv'
      : o.copyLinks ? '--copy-links (-L)' : o.copyUnsafeLinks ? '--copy-unsafe-links' : o.copyDirlinks ? '--copy-dirlinks (-k)'
        : o.crtimes ? '--crtimes (-N)' : undefined;
    if (unsupported) return await fail({ w, protocol }, [`rsync: The server does not support ${unsupported}`], RERR_SYNTAX);
    if (o.compress && o.compressChoice !== 'none') {
      return await fail({ w, protocol }, [`rsync: The server does not support --compress (-z)${o.compressChoice ? ` with ${o.compressChoice}` : ''}`], RERR_UNSUPPORTED);
    }
    if (!o.sender) {
      if (p.module.readOnly) return await fail({ w, protocol }, ['ERROR: module is read only', 'rsync error: syntax or usage error (code 1) at main.c(1185) [Receiver=3.5.0]'], RERR_SYNTAX);
      return await fail({ w, protocol }, ['ERROR: this server does not accept uploads yet'], RERR_UNSUPPORTED);
    }
    if (p.module.writeOnly) return await fail({ w, protocol }, ['ERROR: module is write only', 'rsync error: syntax or usage error (code 1) at main.c(1159) [sender=3.5.0]'], RERR_SYNTAX);

    if (o.bwlimit) {
      // options.c: --bwlimit arrives as whole KiB per second from a client.
      const kib = Number.parseInt(o.bwlimit, 10);
      if (kib > 0) w.setBwlimit(kib);
    }
    // A no-change pull never hashes: do not make it wait for the hash code.
    const csumP = makeChecksums(csumName as CsumName, seed, (compat & CF_CHKSUM_SEED_FIX) !== 0);
    csumP.catch(() => {});
    const s: Session = {
      p, r, w, protocol, compat, seed, scratch: {},
      csumLen: csumName === 'xxh3' || csumName === 'xxh64' ? 8 : 16,
      loadCsum: () => csumP,
      xferError: (text) => w.msg(MSG_ERROR_XFER, `rsync: [sender] ${text}\n`),
      info: (text) => w.msg(MSG_INFO, `${text}\n`),
      warning: (text) => w.msg(MSG_WARNING, `${text}\n`),
    };
    return await runSender(s);
  } catch (e) {
    if (e instanceof Abort) {
      await w.drain().catch(() => {});
      return e.code;
    }
    if (aborted) return aborted.code;
    if (e instanceof ProtocolError) {
      p.log.error(e.message);
      if (e.exitCode !== 12 && e.exitCode !== RERR_TIMEOUT) {
        try {
          return await fail({ w, protocol }, [`rsync: ${e.message}`, `rsync error: protocol incompatibility (code 2) at io.c [sender=3.5.0]`], e.exitCode);
        } catch {
          return e.exitCode;
        }
      }
      return e.exitCode;
    }
    throw e;
  } finally {
    if (timer) clearInterval(timer);
  }
}
