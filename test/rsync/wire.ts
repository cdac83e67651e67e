// The wire codec against byte sequences captured between real rsync peers.
import t from 'tap';
import { OutBuf, NdxState, writeNdx, varintExtra, decodeVarint, decodeVarlong, varlongExtra, muxHeader, parseMuxHeader, NDX_DONE, NDX_DEL_STATS, NDX_FLIST_EOF } from '../../src/rsync/wire/codec.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

t.test('varint', async (t) => {
  const cases: [number, string][] = [[0, '00'], [511, '81ff'], [0x9a, '809a'], [65534, 'c0feff'], [0x2019, 'a019'], [170364239, 'ea4f8d27'], [-1, 'f0ffffffff'], [0x1fe, '81fe']];
  for (const [v, h] of cases) {
    const o = new OutBuf(4);
    o.varint(v);
    t.equal(hex(o.take()), h, `encode ${v}`);
    const b = Buffer.from(h, 'hex');
    t.equal(varintExtra(b[0]!), b.length - 1);
    t.equal(decodeVarint(b[0]!, b.subarray(1)), v, `decode ${h}`);
  }
});

t.test('varlong', async (t) => {
  const cases: [number, number, string][] = [[4096, 3, '000010'], [3000, 3, '00b80b'], [1704164645, 4, '65257d93'], [197, 3, '00c500'], [0, 3, '000000'], [2 ** 40 + 5, 3, 'e10500000000'], [64 * 1024 * 1024, 3, '84000000']];
  for (const [v, min, h] of cases) {
    const o = new OutBuf(4);
    o.varlong(v, min);
    t.equal(hex(o.take()), h, `encode ${v}`);
    const b = Buffer.from(h, 'hex');
    t.equal(min + varlongExtra(b[0]!), b.length, `length of ${h}`);
    t.equal(decodeVarlong(b[0]!, b.subarray(1)), v, `decode ${h}`);
  }
  for (let v = 1; v < 2 ** 52; v = v * 3 + 1) {
    for (const min of [3, 4]) {
      const o = new OutBuf(4);
      o.varlong(v, min);
      const b = o.take();
      if (decodeVarlong(b[0]!, b.subarray(1)) !== v || b.length !== min + varlongExtra(b[0]!)) t.fail(`roundtrip ${v}/${min}`);
    }
  }
});

t.test('vstring and ndx', async (t) => {
  const o = new OutBuf(2);
  o.vstring('md5');
  o.vstring('x'.repeat(300));
  const b = o.take();
  t.equal(hex(b.subarray(0, 4)), '036d6435');
  t.equal(hex(b.subarray(4, 6)), '812c');
  const st = new NdxState();
  const n = new OutBuf();
  writeNdx(n, st, 0); writeNdx(n, st, 1); writeNdx(n, st, NDX_DONE); writeNdx(n, st, NDX_DEL_STATS); writeNdx(n, st, 300); writeNdx(n, st, 100000); writeNdx(n, st, 5);
  t.equal(hex(n.take()), '010100ff02fe012bfe80a08601fe80050000');
  const s2 = new NdxState();
  writeNdx(n, s2, -102); writeNdx(n, s2, NDX_FLIST_EOF);
  t.equal(hex(n.take()), 'ff65fffe80020000');
});

t.test('mux header', async (t) => {
  t.equal(hex(muxHeader(0, 4)), '04000007');
  t.equal(hex(muxHeader(86, 4)), '0400005d');
  t.same(parseMuxHeader(Buffer.from('0700006c', 'hex')), [101, 7]);
});
