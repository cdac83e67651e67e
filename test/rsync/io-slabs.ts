// SPDX-License-Identifier: MIT
// The multiplexed writer reuses 1 MiB output slabs (src/rsync/io.ts): a slab may only be
// written into again once every socket write that refers to it has completed. A reader
// that keeps stalling makes the writes pile up; every byte must still arrive as written,
// through each way of putting data out (literal copies, literalRoom filled in place, and
// small records through the output buffer).
import t from 'tap';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { Writer } from '../../src/rsync/io.js';

const TOTAL = 24 * 1024 * 1024;

/** A small deterministic generator, so that a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x / 2 ** 32; };
}

const byteOf = (tok: number, i: number): number => (tok * 31 + i) & 0xff;

t.test('slabs are reused only after their writes completed: all bytes arrive intact under back-pressure', async (t) => {
  const rnd = prng(7);
  let tokens = 0;
  let bytes = 0; // what the receiver must see after the framing: 4-byte length + payload per token
  const received = new Promise<Buffer>((res) => {
    const srv = createServer((s: Socket) => {
      const chunks: Buffer[] = [];
      // A reader that stalls now and then: the writer's socket buffer fills.
      s.on('data', (c: Buffer) => { chunks.push(c); s.pause(); setTimeout(() => s.resume(), rnd() < 0.05 ? 15 : 0); });
      s.on('end', () => { srv.close(); res(Buffer.concat(chunks)); });
    });
    srv.listen(0, '127.0.0.1', async () => {
      const c = connect((srv.address() as AddressInfo).port, '127.0.0.1');
      await new Promise((r) => c.once('connect', r));
      const w = new Writer(c);
      w.mux = true;
      const src = new Uint8Array(40_000);
      let tok = 0;
      let sent = 0;
      while (sent < TOTAL) {
        const n = 1 + Math.floor(rnd() * 32768);
        if (tok % 7 === 3) {
          const m = 1 + (n % 100);
          for (let i = 0; i < m; i++) src[i] = byteOf(tok, i);
          w.out.int32(m);
          w.out.bytes(src.subarray(0, m));
          bytes += 4 + m;
        } else if (tok % 2) {
          for (let i = 0; i < n; i++) src[i] = byteOf(tok, i);
          w.literal(src, 0, n);
          bytes += 4 + n;
        } else {
          const { buf, off } = w.literalRoom(n);
          for (let i = 0; i < n; i++) buf[off + i] = byteOf(tok, i);
          bytes += 4 + n;
        }
        tok++;
        sent += n;
        if (tok % 20 === 0) await w.maybeFlush();
      }
      tokens = tok;
      await w.drain();
      c.end();
    });
  });
  const got = await received;
  // Undo the multiplexing: 4-byte headers (length, tag MSG_DATA = 7), then the payload.
  const data: Buffer[] = [];
  let foreign = 0;
  for (let at = 0; at < got.length;) {
    const len = got[at]! | (got[at + 1]! << 8) | (got[at + 2]! << 16);
    if (got[at + 3] !== 7) { foreign++; break; }
    data.push(got.subarray(at + 4, at + 4 + len));
    at += 4 + len;
  }
  t.equal(foreign, 0, 'only data frames, framing intact');
  const d = Buffer.concat(data);
  // The tokens: int32 length, then the bytes.
  let p = 0;
  let tok = 0;
  let bad = 0;
  while (p < d.length) {
    const n = d.readInt32LE(p);
    p += 4;
    for (let i = 0; i < n; i++) if (d[p + i] !== byteOf(tok, i)) { bad++; break; }
    p += n;
    tok++;
  }
  t.equal(d.length, bytes, `${bytes} bytes, as written`);
  t.equal(tok, tokens, `${tokens} tokens, as written`);
  t.equal(bad, 0, 'no token with a stale or foreign byte');
});
