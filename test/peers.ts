// The skip-or-fail policy for tests that need a real peer.
import t from 'tap';
import { findPeer, peerOptsIn, peerPaths } from './fixtures/peers.js';

t.test('a missing peer skips with a reason, unless peers are required', async (t) => {
  const name = 'svbox-no-such-peer';
  t.equal(findPeer(name), undefined);
  const skip = peerOptsIn({}, [name]).skip;
  t.type(skip, 'string');
  t.match(skip, /real peer not installed: svbox-no-such-peer/);
  t.same(peerOptsIn({ SVBOX_REQUIRE_PEERS: '1' }, [name]), { skip: false }, 'required: the test runs');
  t.throws(() => peerPaths(name), /required .* but not installed/, 'and then fails');
  t.same(peerOptsIn({}, ['sh']), { skip: false }, 'a present peer never skips');
});
