// The block matcher: the token stream rebuilds the file from the basis, and matches
// are found where the data agrees. The rolling sum is checked against a value a real
// rsync client sent (protocol doc §10.2).
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { matchFile, rollingSum, type Signatures, type StrongSum } from '../../src/rsync/match.js';

const strong = (b: Uint8Array): Uint8Array => createHash('md5').update(b).digest();
const strongIn: StrongSum = (win, start, end) => strong(win.buf.subarray(start, end));

function signatures(basis: Uint8Array, blength: number, s2length: number): Signatures {
  const count = Math.ceil(basis.length / blength);
  const sigs: Signatures = { count, blength, s2length, remainder: basis.length % blength, sum1: new Uint32Array(count), strong: new Uint8Array(count * s2length) };
  for (let i = 0; i < count; i++) {
    const b = basis.subarray(i * blength, Math.min(basis.length, (i + 1) * blength));
    sigs.sum1[i] = rollingSum(b);
    sigs.strong.set(strong(b).subarray(0, s2length), i * s2length);
  }
  return sigs;
}

async function run(data: Uint8Array, basis: Uint8Array, blength: number, s2length = 16) {
  const sigs = signatures(basis, blength, s2length);
  const out: Uint8Array[] = [];
  const hashed: Uint8Array[] = [];
  let blocks = 0;
  const res = await matchFile(
    (buf, off, len, pos) => {
      // As read(2) through fs.readSync: whole numbers only (a fraction is truncated there).
      if (![off, len, pos].every(Number.isInteger)) throw new Error(`read(${off}, ${len}, ${pos}): not whole numbers`);
      const n = Math.max(0, Math.min(len, data.length - pos)); buf.set(data.subarray(pos, pos + n), off); return n;
    },
    data.length, sigs, strongIn,
    {
      literal(b, s, e) { if (e - s > 32768) throw new Error('literal too long'); out.push(b.slice(s, e)); },
      block(i, len) { blocks++; out.push(basis.slice(i * blength, i * blength + len)); },
    },
    (b) => hashed.push(b.slice()),
  );
  return { rebuilt: Buffer.concat(out), hashed: Buffer.concat(hashed), res, blocks };
}

t.test('signed rolling checksum', async (t) => {
  // 700 bytes 0x80..: signed bytes differ from unsigned
  const b = new Uint8Array(700).map((_, i) => (i * 37 + 200) & 0xff);
  let s1 = 0; let s2 = 0;
  for (const x of b) { const v = x > 127 ? x - 256 : x; s1 = (s1 + v) | 0; s2 = (s2 + s1) | 0; }
  t.equal(rollingSum(b), ((s1 & 0xffff) | (s2 << 16)) >>> 0);
});

t.test('delta rebuilds the file', async (t) => {
  const basis = randomBytes(3_000_000);
  const data = Buffer.concat([basis.subarray(0, 100_000), randomBytes(5000), basis.subarray(100_000, 2_000_000), basis.subarray(2_000_333)]);
  data.writeUInt8(data[1_500_000]! ^ 0xff, 1_500_000);
  const r = await run(data, basis, 1736);
  t.ok(r.rebuilt.equals(data), 'rebuilt equals the new file');
  t.ok(r.hashed.equals(data), 'whole-file hash input is the file, in order');
  t.ok(r.res.matchedBytes > 2_900_000, `most bytes matched (${r.res.matchedBytes})`);
  t.ok(r.res.literalBytes < 20_000, `few literal bytes (${r.res.literalBytes})`);
});

t.test('odd sizes under the largest window: a byte-by-byte scan to the end reads every byte', async (t) => {
  // A file smaller than the largest window gets a window of its own size; half of an odd
  // size once made a fractional read target, read as the end of the file (zeros sent).
  for (const size of [3 * 1024 * 1024 + 1, 3 * 1024 * 1024, 2 * 1024 * 1024 + 7]) {
    const data = randomBytes(size);
    const r = await run(data, randomBytes(70_000), 700);
    t.equal(r.res.short, false, `${size}: not taken for a file that shrank`);
    t.ok(r.rebuilt.equals(data), `${size}: rebuilt equals the file`);
    t.equal(r.res.literalBytes, size, `${size}: all literal (unrelated basis)`);
  }
});

t.test('identical, empty, tiny and no-basis cases', async (t) => {
  const basis = randomBytes(10_000_001);
  const same = await run(basis, basis, 3160);
  t.ok(same.rebuilt.equals(basis));
  t.equal(same.res.literalBytes, 0);
  const tiny = await run(Buffer.from('abc'), Buffer.from('abc'), 700);
  t.ok(tiny.rebuilt.equals(Buffer.from('abc')));
  t.equal(tiny.blocks, 1);
  const empty = await run(Buffer.alloc(0), basis, 700);
  t.equal(empty.rebuilt.length, 0);
  const whole = await run(basis, Buffer.alloc(0), 700);
  t.ok(whole.rebuilt.equals(basis));
  const shifted = await run(Buffer.concat([Buffer.from('x'), basis]), basis, 3160, 2);
  t.ok(shifted.rebuilt.equals(Buffer.concat([Buffer.from('x'), basis])), 'short strong sums still rebuild');
});

t.test('a file shorter than announced is zero-filled and flagged', async (t) => {
  const data = randomBytes(100_000);
  const sigs: Signatures = { count: 0, blength: 0, s2length: 0, remainder: 0, sum1: new Uint32Array(0), strong: new Uint8Array(0) };
  const out: Uint8Array[] = [];
  const res = await matchFile((buf, off, len, pos) => { const n = Math.max(0, Math.min(len, 60_000 - pos)); buf.set(data.subarray(pos, pos + n), off); return n; },
    100_000, sigs, strongIn, { literal(b, s, e) { out.push(b.slice(s, e)); }, block() { throw new Error('no blocks'); } }, () => {});
  t.ok(res.short);
  const got = Buffer.concat(out);
  t.equal(got.length, 100_000);
  t.ok(got.subarray(0, 60_000).equals(data.subarray(0, 60_000)));
  t.equal(got.subarray(60_000).every((x) => x === 0), true);
});

/** A small deterministic PRNG (xorshift32), so a failure can be replayed. */
function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x / 0x100000000;
  };
}

type Token = { lit: Buffer } | { block: number };

/**
 * The matcher written the slow, obvious way (match.c: hash_search without the rolling
 * update or hash table): at each offset sum the window from scratch, take the first
 * block (lowest index) whose weak sum, length and strong sum agree, but the block after
 * the previous match when that one agrees too; offsets past size - lastLen are literal.
 */
function reference(data: Uint8Array, sigs: Signatures): Token[] {
  const out: Token[] = [];
  let lit: number[] = [];
  const flush = (): void => { if (lit.length) out.push({ lit: Buffer.from(lit) }); lit = []; };
  const lastLen = sigs.remainder || sigs.blength;
  const end = sigs.count ? data.length + 1 - lastLen : 0;
  const len = (i: number): number => (i === sigs.count - 1 ? lastLen : sigs.blength);
  const agrees = (i: number, sum: number, digest: Uint8Array, l: number): boolean =>
    sigs.sum1[i] === sum && len(i) === l && Buffer.from(sigs.strong.subarray(i * sigs.s2length, (i + 1) * sigs.s2length)).equals(digest.subarray(0, sigs.s2length));
  let offset = 0;
  let want = 0;
  while (offset < end) {
    const l = Math.min(sigs.blength, data.length - offset);
    const win = data.subarray(offset, offset + l);
    const sum = rollingSum(win);
    const digest = strong(win);
    let hit = -1;
    for (let i = 0; i < sigs.count; i++) {
      if (agrees(i, sum, digest, l)) { hit = i; break; }
    }
    if (hit >= 0 && want < sigs.count && hit !== want && agrees(want, sum, digest, l)) hit = want;
    if (hit >= 0) {
      flush();
      out.push({ block: hit });
      offset += l;
      want = hit + 1;
    } else {
      lit.push(data[offset]!);
      offset++;
    }
  }
  for (; offset < data.length; offset++) lit.push(data[offset]!);
  flush();
  return out;
}

/** The matcher's tokens with adjacent literals joined (their split into chunks is free). */
async function tokens(data: Uint8Array, sigs: Signatures): Promise<Token[]> {
  const out: Token[] = [];
  let lit: Buffer[] = [];
  const flush = (): void => { if (lit.length) out.push({ lit: Buffer.concat(lit) }); lit = []; };
  await matchFile(
    (buf, off, len, pos) => {
      // As read(2) through fs.readSync: whole numbers only (a fraction is truncated there).
      if (![off, len, pos].every(Number.isInteger)) throw new Error(`read(${off}, ${len}, ${pos}): not whole numbers`);
      const n = Math.max(0, Math.min(len, data.length - pos)); buf.set(data.subarray(pos, pos + n), off); return n;
    },
    data.length, sigs, strongIn,
    { literal(b, s, e) { lit.push(Buffer.from(b.slice(s, e))); }, block(i) { flush(); out.push({ block: i }); } },
    () => {},
  );
  flush();
  return out;
}

t.test('token stream equals a reference matcher on random edits', async (t) => {
  const rnd = prng(20261122);
  const bytes = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));
  for (let round = 0; round < 40; round++) {
    const blength = [1, 7, 16, 33, 100, 700, 1000 + Math.floor(rnd() * 1000)][round % 7]!;
    // Some bases repeat a pattern, so that several blocks share sums (the want-next preference).
    const unit = bytes(round % 3 === 0 ? blength * (1 + Math.floor(rnd() * 3)) : 5000 + Math.floor(rnd() * 40_000));
    const basis = round % 3 === 0 ? Buffer.concat(Array.from({ length: 8 }, () => unit)) : unit;
    let data = Buffer.from(basis);
    const edits = Math.floor(rnd() * 6);
    for (let e = 0; e < edits; e++) {
      const at = Math.floor(rnd() * (data.length + 1));
      const kind = Math.floor(rnd() * 3);
      const n = 1 + Math.floor(rnd() * 3000);
      if (kind === 0) data = Buffer.concat([data.subarray(0, at), bytes(n), data.subarray(at)]);
      else if (kind === 1) data = Buffer.concat([data.subarray(0, at), data.subarray(Math.min(data.length, at + n))]);
      else data = Buffer.concat([data.subarray(0, at), bytes(Math.min(n, data.length - at)), data.subarray(Math.min(data.length, at + n))]);
    }
    const s2length = [2, 3, 16][round % 3]!;
    const sigs = signatures(basis, blength, s2length);
    const got = await tokens(data, sigs);
    const want = reference(data, sigs);
    t.same(got, want, `round ${round}: ${data.length} bytes, blength ${blength}, s2length ${s2length}, ${edits} edits, remainder ${sigs.remainder}`);
  }
});

t.test('a whole-file transfer reads straight into the sink, zero-filling a file that shrank', async (t) => {
  const data = randomBytes(200_000);
  const none: Signatures = { count: 0, blength: 0, s2length: 0, remainder: 0, sum1: new Uint32Array(0), strong: new Uint8Array(0) };
  for (const have of [200_000, 70_000]) {
    const slab = new Uint8Array(300_000);
    let at = 0;
    const pieces: Buffer[] = [];
    const hashed: Buffer[] = [];
    const res = await matchFile(
      (buf, off, len, pos) => { const n = Math.max(0, Math.min(len, have - pos)); buf.set(data.subarray(pos, pos + n), off); return n; },
      data.length, none, strongIn,
      {
        literal() { throw new Error('literal() must not be used'); },
        block() { throw new Error('no blocks'); },
        literalRoom(n) {
          t.ok(n > 0 && n <= 32768, `token size ${n}`);
          const room = { buf: slab, off: at };
          at += n;
          // The data is there once the matcher goes on: collect it at the next call or the end.
          pieces.push(Buffer.from(slab.buffer, room.off, n));
          return room;
        },
      },
      (b) => hashed.push(Buffer.from(b)),
    );
    const sent = Buffer.concat(pieces);
    t.equal(sent.length, data.length, 'every byte sent');
    t.ok(sent.subarray(0, have).equals(data.subarray(0, have)), `the ${have} bytes the file has`);
    t.ok(sent.subarray(have).every((x) => x === 0), 'zeros for the rest');
    t.ok(Buffer.concat(hashed).equals(sent), 'the whole-file sum sees what was sent');
    t.equal(res.short, have < data.length);
    t.equal(res.read, have);
  }
});

t.test('a read error in a whole-file transfer sends zeros, not stale bytes', async (t) => {
  const none: Signatures = { count: 0, blength: 0, s2length: 0, remainder: 0, sum1: new Uint32Array(0), strong: new Uint8Array(0) };
  const slab = new Uint8Array(100_000).fill(0xee);
  let at = 0;
  const res = await matchFile(
    (buf, off, len, pos) => { if (pos >= 40_000) throw Object.assign(new Error('EIO'), { code: 'EIO' }); const n = Math.min(len, 40_000 - pos); buf.fill(7, off, off + n); return n; },
    90_000, none, strongIn,
    { literal() { throw new Error('unused'); }, block() { throw new Error('unused'); }, literalRoom(n) { const r = { buf: slab, off: at }; at += n; return r; } },
    () => {},
  );
  t.ok(res.short, 'flagged');
  t.equal(at, 90_000);
  t.ok(slab.subarray(0, 40_000).every((x) => x === 7), 'what was read');
  t.ok(slab.subarray(40_000, 90_000).every((x) => x === 0), 'zeros after the error');
});
