package inventory

import (
	"runtime"
	"sync"
)

// buildCtx is what building an asset writes outside its builder: caches of
// ID strings, peer names and identities, and scratch space.
//
// The inventory's own context (Inventory.build) owns the caches. Building
// many assets at once (Flush, Assets) runs on several goroutines, each with
// a context of its own whose parent is the inventory's: it reads the
// parent's caches, which nobody writes meanwhile, keeps what it adds in its
// own, and merge hands that to the parent afterwards.
type buildCtx struct {
	inv    *Inventory
	parent *buildCtx
	// ids caches the ID strings of assets and peers ("mac:<mac>",
	// "ip:<ip>"), which every build of an asset writes again.
	ids map[assetKey]string
	// times is unused: asset formats the times of each asset into one
	// string (see stamps). It goes when nothing sets it any more.
	times map[int64]string
	// idents caches each asset's identity by a hash of what it was
	// computed from: assets are rebuilt for every event, their facts
	// rarely change. Entries are pointers: an identity is a few hundred
	// bytes, which a map would copy at every lookup and store.
	idents map[assetKey]*cachedIdentity
	// shared caches identities by a hash of what Identify alone reads
	// (see sharedHash), for assets that miss in idents: devices of a kind
	// often read alike. Only the fields of an entry that follow from the
	// identity are read: it belongs to the asset that computed it.
	shared map[uint64]*cachedIdentity
	// names caches the names of peers by key.
	names map[peerKey]peerName
	// named and pnames are scratch space for peers; stamps and stamped
	// for the times of an asset.
	named   []namedPeer
	pnames  []peerName
	stamps  stamps
	stamped []int32
	// hashBuf is scratch space for hash.
	hashBuf []byte
}

// maxIDs caps the ID and name caches; a full cache is emptied.
const maxIDs = 1 << 16

// id returns a.String(), cached.
func (c *buildCtx) id(a assetKey) string {
	if c.parent != nil { // the parent holds most: look there first
		if s, ok := c.parent.ids[a]; ok {
			return s
		}
	}
	if s, ok := c.ids[a]; ok {
		return s
	}
	if len(c.ids) >= maxIDs {
		clear(c.ids)
	}
	s := a.String()
	c.ids[a] = s
	return s
}

// lookupIdentity returns the identity cached for asset a when it was
// computed from input hashing to sum.
func (c *buildCtx) lookupIdentity(a assetKey, sum uint64) (*cachedIdentity, bool) {
	if id := c.idents[a]; id != nil && id.sum == sum {
		return id, true
	}
	if c.parent != nil {
		if id := c.parent.idents[a]; id != nil && id.sum == sum {
			return id, true
		}
	}
	return nil, false
}

func (c *buildCtx) cacheIdentity(a assetKey, id *cachedIdentity) {
	if c.idents == nil || len(c.idents) >= 2*c.inv.cfg.MaxAssets {
		c.idents = make(map[assetKey]*cachedIdentity)
	}
	c.idents[a] = id
}

// lookupShared returns the identity cached for any asset whose input to
// Identify hashes to key.
func (c *buildCtx) lookupShared(key uint64) (*cachedIdentity, bool) {
	if id := c.shared[key]; id != nil {
		return id, true
	}
	if c.parent != nil {
		if id := c.parent.shared[key]; id != nil {
			return id, true
		}
	}
	return nil, false
}

func (c *buildCtx) cacheShared(key uint64, id *cachedIdentity) {
	if c.shared == nil || len(c.shared) >= 2*c.inv.cfg.MaxAssets {
		c.shared = make(map[uint64]*cachedIdentity)
	}
	c.shared[key] = id
}

// merge adds what child cached to c.
func (c *buildCtx) merge(child *buildCtx) {
	for a, s := range child.ids {
		if len(c.ids) >= maxIDs {
			clear(c.ids)
		}
		c.ids[a] = s
	}
	for k, n := range child.names {
		if c.names == nil || len(c.names) >= maxIDs {
			c.names = make(map[peerKey]peerName)
		}
		c.names[k] = n
	}
	for a, id := range child.idents {
		c.cacheIdentity(a, id)
	}
	for k, id := range child.shared {
		c.cacheShared(k, id)
	}
}

// parallelBuild is the least number of assets worth building on more than
// one goroutine.
const parallelBuild = 64

// assets builds the assets of bs, in the same order, on up to GOMAXPROCS
// goroutines, and hashes them into sums unless sums is nil. The caller
// holds inv.mu: the goroutines only read the inventory.
func (inv *Inventory) assets(bs []*builder, sums []uint64) []Asset {
	out := make([]Asset, len(bs))
	build := func(c *buildCtx, i int) {
		c.asset(&out[i], bs[i])
		if sums != nil {
			sums[i] = c.hash(&out[i])
		}
	}
	n := min(runtime.GOMAXPROCS(0), len(bs)/parallelBuild)
	if n <= 1 {
		for i := range bs {
			build(&inv.build, i)
		}
		return out
	}
	ctxs := make([]buildCtx, n)
	var wg sync.WaitGroup
	for g := range ctxs {
		c := &ctxs[g]
		*c = buildCtx{inv: inv, parent: &inv.build, ids: make(map[assetKey]string)}
		wg.Go(func() {
			for i := g; i < len(bs); i += n {
				build(c, i)
			}
		})
	}
	wg.Wait()
	for g := range ctxs {
		inv.build.merge(&ctxs[g])
	}
	return out
}
