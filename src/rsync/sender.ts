// SPDX-License-Identifier: MIT
// The daemon as sender (a client pull): read the client's filter rules (and a
// --files-from list), send the file list and id lists, answer the generator's
// requests with itemize echoes or delta data, run the phase/NDX_DONE machine, send
// the statistics and take part in the final handshake. Mirrors sender.c: send_files,
// receive_sums; main.c: do_server_sender, read_final_goodbye; io.c: read_ndx_and_attrs;
// flist.c: send_file_list's tail; exclude.c: recv_filter_list.
import { openSync, closeSync, fstatSync, readSync, constants, readFileSync } from 'node:fs';
import type { Session } from './session.js';
import { CF_ID0_NAMES, CF_SAFE_FLIST, CF_SYMLINK_TIMES, CF_VARINT_FLIST_FLAGS } from './session.js';
import { ProtocolError } from './io.js';
import { FilterList } from './filter.js';
import { buildFileList, IOERR_GENERAL, IOERR_VANISHED, type Entry } from './flist.js';
import { FlistEncoder, writeIdList, S_IFDIR, S_IFLNK, S_IFMT, S_IFREG } from './wire/flist.js';
import { NDX_DONE, NDX_DEL_STATS, MSG_ERROR_EXIT, MSG_IO_ERROR, MSG_NO_SEND } from './wire/codec.js';
import { Abort } from './session.js';
import { matchFile, type Signatures } from './match.js';
import { fsPath, sanitizePath, resolveConfined } from './confine.js';
import { sysText } from './strerror.js';
import { parseChmod } from './chmod.js';
import { IdNames } from './ids.js';
import type { Checksums } from './checksum.js';
import type { TransferEvent } from './server.js';
import { itemizeString, ITEM_BASIS_TYPE_FOLLOWS, ITEM_TRANSFER, ITEM_XNAME_FOLLOWS, SIGNIFICANT_ITEM_FLAGS } from './itemize.js';

// rsync.h: item flags
/** rsync.h: MAXPATHLEN-bounded rule length (exclude.c: recv_filter_list rejects longer). */
const MAX_RULE = 4096 * 2;
const MAX_BLOCK_SIZE = 1 << 17;

interface Request {
  ndx: number;
  iflags: number;
  basisType: number | undefined;
  xname: Uint8Array | undefined;
}

/** Strip the module name from a source argument, as the daemon receives "mod/path". */
export function moduleRelative(arg: string, moduleName: string): string {
  if (arg === moduleName) return '';
  if (arg.startsWith(`${moduleName}/`)) return arg.slice(moduleName.length + 1);
  return arg;
}

export async function runSender(s: Session): Promise<number> {
  const { p, r, w } = s;
  const o = p.options;
  const mod = p.module;
  const quoted = (rel: string): string => `"${rel || '.'}" (in ${mod.name})`;
  const started = Date.now();

  // exclude.c: recv_filter_list
  const client = new FilterList();
  for (;;) {
    const len = await r.int32();
    if (len === 0) break;
    if (len < 0 || len > MAX_RULE) throw new ProtocolError(`filter rule too long (${len})`);
    const rule = Buffer.from(await r.bytes(len)).toString('latin1');
    client.add(rule);
  }
  if (o.cvsExclude && !client.rules.length) client.add('-C');
  const daemon = new FilterList();
  for (const rule of mod.filter) daemon.add(rule);

  // The source arguments: operands after ".", or a --files-from list under the first one.
  let sources = o.operands.slice(1).map((a) => moduleRelative(Buffer.from(a, 'utf8').toString('latin1'), mod.name));
  if (o.filesFrom !== undefined) {
    const base = sources[0] ?? '';
    let names: string[];
    if (o.filesFrom === '-') {
      // io.c: read_line with RL_EOL_NULLS — the client forwards its file, NUL-terminated names, then an empty one.
      names = [];
      let cur: number[] = [];
      let total = 0;
      for (;;) {
        const b = await r.byte();
        if (b === 0) {
          if (cur.length === 0) break;
          names.push(Buffer.from(cur).toString('latin1'));
          cur = [];
          continue;
        }
        cur.push(b);
        if (++total > 64 * 1024 * 1024 || cur.length > 4096) throw new ProtocolError('--files-from name too long');
      }
    } else {
      // A remote --files-from file: read it inside the module, like any other request.
      const rel = sanitizePath(moduleRelative(o.filesFrom, mod.name));
      try {
        resolveConfined(mod.path, rel);
        const text = readFileSync(fsPath(mod.path, rel), 'latin1');
        names = text.split(o.from0 ? '\0' : /\r?\n/).filter((n) => n !== '' && !n.startsWith('#') && !n.startsWith(';'));
      } catch (e) {
        s.xferError(`failed to open files-from file ${quoted(rel)}: ${sysText((e as NodeJS.ErrnoException).code)}`);
        names = [];
      }
    }
    const b = sanitizePath(base).replace(/\/+$/, '');
    // flist.c: send_file_list sanitizes each name (SP_KEEP_DOT_DIRS), relative to the base directory.
    sources = names.map((n) => {
      const clean = sanitizePath(n);
      return b ? `${b}/./${clean}` : `./${clean}`;
    });
    if (!o.relative) o.relative = true;
  }

  const csumLen = o.checksum ? s.csumLen : 0;
  const csumForList = o.checksum ? await s.loadCsum() : undefined;
  const chmod = mod.outgoingChmod ? parseChmod(mod.outgoingChmod) : undefined;
  let ioError = 0;
  const list = buildFileList({
    root: mod.path, moduleName: mod.name, opts: o, client, daemon,
    ignoreNonreadable: mod.ignoreNonreadable, chmod, mungeSymlinks: mod.mungeSymlinks,
    checksum: csumForList ? (src) => fileDigest(s, csumForList, src) : undefined,
    error: (text) => s.xferError(text),
    info: (text) => s.info(text),
  }, sources);
  ioError |= list.ioError;
  const entries = list.entries;
  const buildTime = Math.max(1, Date.now() - started);
  const xferStart = Date.now();

  // flist.c: send_file_list — entries, end marker, id lists.
  const varintFlags = (s.compat & CF_VARINT_FLIST_FLAGS) !== 0;
  const safeFlist = (s.compat & CF_SAFE_FLIST) !== 0 || s.protocol >= 31;
  const enc = new FlistEncoder({
    protocol: s.protocol, varintFlags, preserveUid: o.owner, preserveGid: o.group, preserveDevices: o.devices,
    preserveSpecials: o.specials, preserveLinks: o.links, atimes: o.atimes, csumLen,
  });
  let totalSize = 0;
  for (const e of entries) {
    enc.entry(w.out, e);
    const type = e.mode & S_IFMT;
    if (type === S_IFREG || type === 0o120000) totalSize += e.size;
    await w.maybeFlush();
  }
  enc.end(w.out, o.ignoreErrors ? 0 : ioError, safeFlist);
  if (!o.numericIds) {
    const names = new IdNames();
    const id0 = (s.compat & CF_ID0_NAMES) !== 0;
    const named = !mod.numericIds;
    if (o.owner) {
      const ids = [...new Set(entries.map((e) => e.uid))];
      writeIdList(w.out, ids.map((id) => [id, named ? names.user(id) : undefined]), id0, named ? names.user(0) : undefined);
    }
    if (o.group) {
      const ids = [...new Set(entries.map((e) => e.gid))];
      writeIdList(w.out, ids.map((id) => [id, named ? names.group(id) : undefined]), id0, named ? names.group(0) : undefined);
    }
  }
  if (!safeFlist && ioError && !o.ignoreErrors) w.msgInt(MSG_IO_ERROR, ioError);
  const listIoError = ioError;
  const xferTime = Date.now() - xferStart;
  w.flush();

  if (entries.length === 0) {
    // main.c: do_server_sender — nothing to send: no transfer phase. cleanup.c:
    // _exit_cleanup turns io_error into the exit code, sends it (protocol >= 31) and
    // waits for the client to hang up (noop_io_until_death).
    const code = ioError & IOERR_GENERAL ? 23 : ioError & IOERR_VANISHED ? 24 : 0;
    if (code && s.protocol >= 31) s.w.msgInt(MSG_ERROR_EXIT, code);
    await w.drain();
    if (code) await untilClosed(s);
    return code;
  }

  // sender.c: send_files
  const readNdx = async (): Promise<number> => {
    for (;;) {
      const ndx = await r.readNdx();
      if (ndx !== NDX_DEL_STATS) return ndx;
      // io.c: read_del_stats; a server sender echoes them (write_del_stats).
      const v: number[] = [];
      for (let i = 0; i < 5; i++) v.push(await r.varint());
      w.writeNdx(NDX_DEL_STATS);
      for (const x of v) w.out.varint(x);
    }
  };
  const readRequest = async (ndx: number): Promise<Request> => {
    const iflags = await r.uint16();
    const basisType = iflags & ITEM_BASIS_TYPE_FOLLOWS ? await r.byte() : undefined;
    let xname: Uint8Array | undefined;
    if (iflags & ITEM_XNAME_FOLLOWS) {
      let len = await r.byte();
      if (len & 0x80) len = ((len & 0x7f) << 8) | (await r.byte());
      if (len > 4096) throw new ProtocolError(`over-long xname (${len})`);
      xname = await r.bytes(len);
    }
    return { ndx, iflags, basisType, xname };
  };
  const echo = (q: Request): void => {
    w.writeNdx(q.ndx);
    w.out.uint16(q.iflags);
    if (q.basisType !== undefined) w.out.byte(q.basisType);
    if (q.xname) w.out.vstring(q.xname);
  };

  // sender.c: send_files -> log_item / maybe_log_item, for the front end's transfer log.
  const report = (e: Entry, q: Request, bytes: number, checksumBytes: number): void => {
    if (!p.onTransfer) return;
    const transferred = (q.iflags & ITEM_TRANSFER) !== 0;
    const type = e.mode & S_IFMT;
    const dir = type === S_IFDIR;
    p.onTransfer({
      op: 'send',
      file: logPath(e.src),
      name: dir ? `${e.name}/` : e.name,
      length: e.size,
      bytes, checksumBytes,
      iflags: q.iflags,
      itemize: itemizeString(q.iflags, e.mode, { sender: true, times: o.times, symlinkTimes: (s.compat & CF_SYMLINK_TIMES) !== 0 }),
      transferred,
      significant: (q.iflags & SIGNIFICANT_ITEM_FLAGS) !== 0 || q.xname !== undefined,
      mode: e.mode,
      mtime: e.mtime,
      uid: o.owner ? e.uid : undefined,
      gid: o.group ? e.gid : undefined,
      link: type === S_IFLNK ? e.link : undefined,
    });
  };

  let phase = 0;
  const maxPhase = 2;
  for (;;) {
    const ndx = await readNdx();
    if (ndx === NDX_DONE) {
      if (++phase > maxPhase) break;
      w.writeNdx(NDX_DONE);
      continue;
    }
    if (ndx < 0 || ndx >= entries.length) {
      throw new ProtocolError(`Invalid file index: ${ndx} (count=${entries.length})`);
    }
    const q = await readRequest(ndx);
    const e = entries[ndx]!;
    if (!(q.iflags & ITEM_TRANSFER)) {
      if (!o.dryRun) report(e, q, 0, 0);
      echo(q);
      await w.maybeFlush();
      continue;
    }
    if (phase === 2) throw new ProtocolError('got transfer request in phase 2 [sender]');
    if ((e.mode & S_IFMT) !== S_IFREG) throw new ProtocolError(`received request to transfer non-regular file: ${ndx}`);
    if (o.dryRun) {
      echo(q);
      continue;
    }
    const sigs = await receiveSums(s);
    const sent = await sendFile(s, await s.loadCsum(), e, q, sigs, echo, quoted);
    ioError |= sent.io;
    if (sent.bytes !== undefined) report(e, q, sent.bytes, 16 + sigs.count * (4 + sigs.s2length));
    await w.maybeFlush();
  }
  w.writeNdx(NDX_DONE);
  if (ioError !== listIoError) w.msgInt(MSG_IO_ERROR, ioError);

  // main.c: do_server_sender -> report: the statistics a server sender owes the client.
  w.flush();
  w.out.varlong(r.total, 3);
  w.out.varlong(w.total, 3);
  w.out.varlong(totalSize, 3);
  w.out.varlong(buildTime, 3);
  w.out.varlong(xferTime, 3);
  w.flush();

  // main.c: read_final_goodbye
  let g = await readNdx();
  if (g === NDX_DONE && s.protocol >= 31) {
    w.writeNdx(NDX_DONE);
    w.flush();
    g = await readNdx();
  }
  if (g !== NDX_DONE) throw new ProtocolError(`Invalid packet at end of run (${g}) [sender]`);
  await w.drain();
  if (ioError & IOERR_GENERAL) return 23;
  if (ioError & IOERR_VANISHED) return 24;
  return 0;
}

/** io.c: noop_io_until_death — read and drop until the client closes (bounded by 10 s). */
async function untilClosed(s: Session): Promise<void> {
  const deadline = Date.now() + 10_000;
  try {
    while (Date.now() < deadline) {
      const more = await Promise.race([s.r.waitAny(), new Promise<boolean>((res) => setTimeout(() => res(false), 1000).unref())]);
      if (!more) break;
      s.r.skipAll();
    }
  } catch (e) {
    if (!(e instanceof Abort)) throw e;
  }
}

/** sender.c: receive_sums — the checksum header and the block signatures. */
async function receiveSums(s: Session): Promise<Signatures> {
  const r = s.r;
  const count = await r.int32();
  const blength = await r.int32();
  const s2length = await r.int32();
  const remainder = await r.int32();
  if (count < 0 || count > 0x7fffffff / 4) throw new ProtocolError(`Invalid checksum count ${count} [sender]`);
  if (blength < 0 || blength > MAX_BLOCK_SIZE || (count > 0 && blength === 0)) throw new ProtocolError(`Invalid block length ${blength} [sender]`);
  if (s2length < 0 || s2length > s.csumLen) throw new ProtocolError(`Invalid checksum length ${s2length} [sender]`);
  if (remainder < 0 || remainder > blength) throw new ProtocolError(`Invalid remainder length ${remainder} [sender]`);
  const sum1 = new Uint32Array(count);
  const strong = new Uint8Array(count * s2length);
  // Whole records as they are buffered, without a promise per field (8,192 blocks for 64 MiB).
  const rec = 4 + s2length;
  for (let i = 0; i < count;) {
    await r.need(rec);
    const b = r.buffered();
    const n = Math.min(count - i, Math.floor(b.length / rec));
    for (let j = 0, at = 0; j < n; j++, at += rec) {
      sum1[i + j] = (b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24)) >>> 0;
      strong.set(b.subarray(at + 4, at + rec), (i + j) * s2length);
    }
    r.consume(n * rec);
    i += n;
  }
  return { count, blength, s2length, remainder, sum1, strong };
}

/** Open, match and send one file; returns io_error bits and, once sent, the protocol bytes it took (log.c %b). */
async function sendFile(
  s: Session, csum: Checksums, e: Entry, q: Request, sigs: Signatures, echo: (q: Request) => void, quoted: (rel: string) => string,
): Promise<{ io: number; bytes?: number }> {
  const { w } = s;
  let fd: number;
  try {
    // O_NOFOLLOW: a leaf swapped for a symlink since the scan is refused (ELOOP).
    fd = openSync(fsPath(s.p.module.path, e.src), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (s.protocol >= 30) w.msgInt(MSG_NO_SEND, q.ndx);
    if (code === 'ENOENT') {
      s.warning(`file has vanished: ${quoted(e.src)}`);
      return { io: IOERR_VANISHED };
    }
    s.xferError(`send_files failed to open ${quoted(e.src)}: ${sysText(code)}`);
    return { io: IOERR_GENERAL };
  }
  try {
    const st = fstatSync(fd, { bigint: true });
    if (!st.isFile() || st.ino !== e.ino || st.dev !== e.dev) {
      // Not the file we listed: a directory on the way was swapped, or the file replaced.
      if (s.protocol >= 30) w.msgInt(MSG_NO_SEND, q.ndx);
      s.warning(`file has vanished: ${quoted(e.src)}`);
      return { io: IOERR_VANISHED };
    }
    const size = Number(st.size);
    // rsync counts the bytes written for the item without the multiplex headers:
    // the echoed index and flags, the checksum header, the tokens and the digest.
    const before = w.out.len;
    echo(q);
    let bytes = w.out.len - before + 16;
    w.out.int32(sigs.count);
    w.out.int32(sigs.blength);
    w.out.int32(sigs.s2length);
    w.out.int32(sigs.remainder);
    const hasher = csum.file();
    const out = w.out;
    const res = await matchFile(
      (buf, off, len, pos) => readSync(fd, buf, off, len, pos),
      size, sigs, (win, start, end) => csum.blockIn(win, start, end),
      {
        literal(data, start, end) {
          w.literal(data, start, end);
          bytes += 4 + end - start;
        },
        block(i) {
          out.int32(-(i + 1));
          bytes += 4;
        },
        literalRoom(n) {
          bytes += 4 + n;
          return w.literalRoom(n);
        },
      },
      (b) => hasher.update(b),
      () => w.maybeFlush(),
      s.scratch,
    );
    out.int32(0);
    const digest = hasher.digest();
    if (res.short) {
      // match.c: match_sums — after a read error send a checksum that cannot match.
      let allZero = true;
      for (const x of digest) if (x !== 0) allZero = false;
      digest.fill(0);
      if (allZero) digest[digest.length - 1] = 1;
    }
    out.bytes(digest);
    bytes += 4 + digest.length;
    if (res.short) {
      s.xferError(`read errors mapping ${quoted(e.src)}: ${sysText('ENODATA')}`);
      return { io: IOERR_GENERAL, bytes };
    }
    return { io: 0, bytes };
  } finally {
    closeSync(fd);
  }
}

/** log.c %f: the module-relative path, "." for the module root. */
function logPath(src: string): string {
  const clean = src.split('/').filter((c) => c !== '' && c !== '.').join('/');
  return clean || '.';
}

/** The unseeded whole-file digest for -c (checksum.c: file_checksum). */
function fileDigest(s: Session, csum: Checksums, src: string): Uint8Array {
  const fd = openSync(fsPath(s.p.module.path, src), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const h = csum.file();
    const buf = new Uint8Array(1024 * 1024);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n <= 0) break;
      h.update(buf.subarray(0, n));
    }
    return h.digest();
  } finally {
    closeSync(fd);
  }
}

