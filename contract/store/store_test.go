package store_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/flashback-network/flashback/contract/store"
)

type kvPair struct{ k, v string }

// collect returns the pairs kv.Iterate yields for [start, end), stopping
// after limit pairs when limit >= 0. It also checks that keys are strictly
// ascending and inside the range.
func collect(t testing.TB, kv store.KV, start, end []byte, limit int) []kvPair {
	t.Helper()
	var out []kvPair
	kv.Iterate(start, end, func(k, v []byte) bool {
		if limit >= 0 && len(out) >= limit {
			t.Fatalf("Iterate called fn again after it returned false (key %q)", k)
		}
		if start != nil && bytes.Compare(k, start) < 0 {
			t.Fatalf("Iterate yielded %q below start %q", k, start)
		}
		if end != nil && bytes.Compare(k, end) >= 0 {
			t.Fatalf("Iterate yielded %q at or above end %q", k, end)
		}
		if n := len(out); n > 0 && out[n-1].k >= string(k) {
			t.Fatalf("Iterate out of order: %q after %q", k, out[n-1].k)
		}
		out = append(out, kvPair{string(k), string(v)})
		return limit < 0 || len(out) < limit
	})
	return out
}

// modelIter is the reference: sorted pairs of m in [start, end), at most limit.
func modelIter(m map[string]string, start, end []byte, limit int) []kvPair {
	var out []kvPair
	for k, v := range m {
		if start != nil && k < string(start) {
			continue
		}
		if end != nil && k >= string(end) {
			continue
		}
		out = append(out, kvPair{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	if limit >= 0 && len(out) > limit {
		out = out[:limit]
	}
	return out
}

func dump(t testing.TB, kv store.KV) []kvPair { return collect(t, kv, nil, nil, -1) }

func memWith(pairs ...string) *store.MemKV {
	m := store.NewMemKV()
	for i := 0; i+1 < len(pairs); i += 2 {
		m.Set([]byte(pairs[i]), []byte(pairs[i+1]))
	}
	return m
}

func pairs(kv ...string) []kvPair {
	var out []kvPair
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, kvPair{kv[i], kv[i+1]})
	}
	return out
}

func TestMemKVBasics(t *testing.T) {
	m := store.NewMemKV()
	if m.Get([]byte("a")) != nil || m.Len() != 0 {
		t.Fatal("new MemKV not empty")
	}
	k, v := []byte("key"), []byte("val")
	m.Set(k, v)
	k[0], v[0] = 'X', 'X' // MemKV must have copied both
	if got := m.Get([]byte("key")); string(got) != "val" {
		t.Fatalf("Get = %q after caller mutated its buffers", got)
	}
	m.Set([]byte("key"), []byte("v2"))
	if string(m.Get([]byte("key"))) != "v2" || m.Len() != 1 {
		t.Fatal("overwrite failed")
	}
	m.Delete([]byte("key"))
	m.Delete([]byte("missing"))
	if m.Get([]byte("key")) != nil || m.Len() != 0 {
		t.Fatal("delete failed")
	}
	m = memWith("a", "1", "b", "2", "c", "3", "d", "4")
	if got := collect(t, m, []byte("b"), []byte("d"), -1); !slices.Equal(got, pairs("b", "2", "c", "3")) {
		t.Fatalf("range [b,d) = %v", got)
	}
	if got := collect(t, m, []byte("bb"), nil, -1); !slices.Equal(got, pairs("c", "3", "d", "4")) {
		t.Fatalf("range [bb,nil) = %v", got)
	}
	if got := collect(t, m, nil, []byte("a"), -1); len(got) != 0 {
		t.Fatalf("range [nil,a) = %v", got)
	}
	if got := collect(t, m, nil, nil, 2); !slices.Equal(got, pairs("a", "1", "b", "2")) {
		t.Fatalf("early stop = %v", got)
	}
}

func TestCacheShadowing(t *testing.T) {
	parent := memWith("a", "pa", "b", "pb", "c", "pc")
	c := store.NewCache(parent)

	if string(c.Get([]byte("a"))) != "pa" {
		t.Fatal("cache does not read through to parent")
	}
	val := []byte("ca")
	c.Set([]byte("a"), val)
	val[0] = 'X' // the cache must have copied the value
	c.Delete([]byte("b"))
	c.Set([]byte("d"), []byte("cd"))
	c.Set([]byte("e"), []byte("ce"))
	c.Delete([]byte("e")) // set then delete
	c.Delete([]byte("f")) // delete of a missing key
	c.Set([]byte("f"), []byte("cf"))

	want := map[string]string{"a": "ca", "c": "pc", "d": "cd", "f": "cf"}
	for _, k := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		got := c.Get([]byte(k))
		w, ok := want[k]
		if !ok && got != nil {
			t.Errorf("Get(%q) = %q, want nil", k, got)
		}
		if ok && string(got) != w {
			t.Errorf("Get(%q) = %q, want %q", k, got, w)
		}
	}
	// The parent is untouched until Write.
	if got := dump(t, parent); !slices.Equal(got, pairs("a", "pa", "b", "pb", "c", "pc")) {
		t.Fatalf("parent changed before Write: %v", got)
	}
	if got := dump(t, c); !slices.Equal(got, pairs("a", "ca", "c", "pc", "d", "cd", "f", "cf")) {
		t.Fatalf("cache view = %v", got)
	}
	// Setting back a deleted key revives it.
	c.Set([]byte("b"), []byte("cb"))
	if string(c.Get([]byte("b"))) != "cb" {
		t.Fatal("re-set after delete not visible")
	}
	c.Delete([]byte("b"))

	c.Write()
	if got := dump(t, parent); !slices.Equal(got, pairs("a", "ca", "c", "pc", "d", "cd", "f", "cf")) {
		t.Fatalf("parent after Write = %v", got)
	}
	// Write empties the buffer: later parent changes show through.
	parent.Set([]byte("a"), []byte("p2"))
	if string(c.Get([]byte("a"))) != "p2" {
		t.Fatal("cache still shadows after Write")
	}
	if got := dump(t, c); !slices.Equal(got, dump(t, parent)) {
		t.Fatalf("cache view after Write = %v", got)
	}
}

func TestCacheDiscard(t *testing.T) {
	parent := memWith("a", "1", "b", "2")
	c := store.NewCache(parent)
	c.Set([]byte("a"), []byte("x"))
	c.Delete([]byte("b"))
	c.Set([]byte("c"), []byte("3"))
	c.Discard()
	if got := dump(t, c); !slices.Equal(got, pairs("a", "1", "b", "2")) {
		t.Fatalf("cache view after Discard = %v", got)
	}
	c.Write() // nothing buffered: a no-op
	if got := dump(t, parent); !slices.Equal(got, pairs("a", "1", "b", "2")) {
		t.Fatalf("parent after Discard+Write = %v", got)
	}
}

func TestCacheIterateMerge(t *testing.T) {
	parent := memWith("a", "pa", "c", "pc", "e", "pe", "g", "pg", "i", "pi")
	c := store.NewCache(parent)
	c.Set([]byte("0"), []byte("c0"))   // before all parent keys
	c.Set([]byte("b"), []byte("cb"))   // between
	c.Set([]byte("c"), []byte("cc"))   // overwrite
	c.Delete([]byte("e"))              // delete a parent key
	c.Delete([]byte("f"))              // delete a key that exists nowhere
	c.Set([]byte("h"), []byte("ch"))   // between
	c.Delete([]byte("i"))              // delete the last parent key
	c.Set([]byte("z"), []byte("cz"))   // after all parent keys
	c.Set([]byte("zz"), []byte("czz")) // after all parent keys

	all := pairs("0", "c0", "a", "pa", "b", "cb", "c", "cc", "g", "pg", "h", "ch", "z", "cz", "zz", "czz")
	if got := dump(t, c); !slices.Equal(got, all) {
		t.Fatalf("merged view = %v\nwant %v", got, all)
	}
	model := map[string]string{}
	for _, p := range all {
		model[p.k] = p.v
	}
	bounds := [][]byte{nil, []byte(""), []byte("0"), []byte("a"), []byte("b"), []byte("c"), []byte("cc"),
		[]byte("e"), []byte("f"), []byte("h"), []byte("i"), []byte("z"), []byte("zz"), []byte("zzz")}
	for _, s := range bounds {
		for _, e := range bounds {
			for _, limit := range []int{-1, 0, 1, 2, 3, 5} {
				var got, want []kvPair
				if limit == 0 {
					// fn returns false on its first call: exactly one pair.
					want = modelIter(model, s, e, 1)
					c.Iterate(s, e, func(k, v []byte) bool {
						got = append(got, kvPair{string(k), string(v)})
						return false
					})
				} else {
					got = collect(t, c, s, e, limit)
					want = modelIter(model, s, e, limit)
				}
				if !slices.Equal(got, want) {
					t.Fatalf("Iterate(%q, %q) limit %d = %v, want %v", s, e, limit, got, want)
				}
			}
		}
	}
}

func TestCacheIterateStopsInEveryPhase(t *testing.T) {
	// Early stop must be honoured whether fn returns false on a cache-only
	// key (flushed before a parent key), an overwritten key, a parent key,
	// or a trailing cache key (flushed after the parent is exhausted).
	parent := memWith("b", "pb", "d", "pd")
	c := store.NewCache(parent)
	c.Set([]byte("a"), []byte("ca"))
	c.Set([]byte("b"), []byte("cb"))
	c.Set([]byte("e"), []byte("ce"))
	c.Set([]byte("f"), []byte("cf"))
	full := pairs("a", "ca", "b", "cb", "d", "pd", "e", "ce", "f", "cf")
	for stopAt := range full {
		var got []kvPair
		c.Iterate(nil, nil, func(k, v []byte) bool {
			got = append(got, kvPair{string(k), string(v)})
			if len(got) > stopAt+1 {
				t.Fatalf("stop at %d: fn called again with %q", stopAt, k)
			}
			return len(got) <= stopAt
		})
		if !slices.Equal(got, full[:stopAt+1]) {
			t.Fatalf("stop at %d: got %v", stopAt, got)
		}
	}
}

func TestCacheOverCache(t *testing.T) {
	base := memWith("a", "1", "b", "2", "c", "3")
	outer := store.NewCache(base)
	outer.Delete([]byte("a"))
	outer.Set([]byte("d"), []byte("4"))
	inner := store.NewCache(outer)
	inner.Set([]byte("a"), []byte("5"))
	inner.Delete([]byte("d"))
	inner.Set([]byte("e"), []byte("6"))
	if got := dump(t, inner); !slices.Equal(got, pairs("a", "5", "b", "2", "c", "3", "e", "6")) {
		t.Fatalf("inner view = %v", got)
	}
	if got := dump(t, outer); !slices.Equal(got, pairs("b", "2", "c", "3", "d", "4")) {
		t.Fatalf("outer view before inner.Write = %v", got)
	}
	inner.Write()
	if got := dump(t, outer); !slices.Equal(got, pairs("a", "5", "b", "2", "c", "3", "e", "6")) {
		t.Fatalf("outer view after inner.Write = %v", got)
	}
	if got := dump(t, base); !slices.Equal(got, pairs("a", "1", "b", "2", "c", "3")) {
		t.Fatalf("base changed before outer.Write: %v", got)
	}
	outer.Write()
	if got := dump(t, base); !slices.Equal(got, pairs("a", "5", "b", "2", "c", "3", "e", "6")) {
		t.Fatalf("base after outer.Write = %v", got)
	}
}

// cacheRound is one round of TestCacheRandomized: the same operations
// applied to a model map and to every store.
type cacheRound struct {
	t      *testing.T
	r      *rand.Rand
	round  int
	model  map[string]string
	stores map[string]store.KV
	cache2 *store.Cache // the inner cache of the two-level stack
}

var cacheAlphabet = []byte{0x00, 0x01, 'a', 'b', 0xfe, 0xff}

// randKey is a short non-empty key over a small alphabet (so keys collide).
// The empty key is covered by TestCacheIterateEmptyParentKey.
func (c *cacheRound) randKey() []byte {
	k := make([]byte, 1+c.r.IntN(3))
	for i := range k {
		k[i] = cacheAlphabet[c.r.IntN(len(cacheAlphabet))]
	}
	return k
}

func (c *cacheRound) randBound() []byte {
	if c.r.IntN(5) == 0 {
		return nil
	}
	return c.randKey()
}

// step applies one random write, delete or push-down and checks Get of the
// key touched on every store.
func (c *cacheRound) step(op int) {
	k := c.randKey()
	switch x := c.r.IntN(10); {
	case x < 5:
		v := fmt.Sprintf("r%d.%d", c.round, op)
		c.model[string(k)] = v
		for _, s := range c.stores {
			s.Set(k, []byte(v))
		}
	case x < 8:
		delete(c.model, string(k))
		for _, s := range c.stores {
			s.Delete(k)
		}
	default:
		if op%3 == 0 {
			// Occasionally push the inner cache down a level: the view
			// must not change.
			c.cache2.Write()
		}
	}
	for name, s := range c.stores {
		want, ok := c.model[string(k)]
		got := s.Get(k)
		if ok != (got != nil) || string(got) != want {
			c.t.Fatalf("round %d op %d %s: Get(%q) = %q, want %q (present %v)", c.round, op, name, k, got, want, ok)
		}
	}
}

// checkIterate compares a random range (sometimes limited) on every store
// with the model.
func (c *cacheRound) checkIterate(op int) {
	start, end := c.randBound(), c.randBound()
	limit := -1
	if c.r.IntN(3) == 0 {
		limit = 1 + c.r.IntN(5)
	}
	want := modelIter(c.model, start, end, limit)
	for name, s := range c.stores {
		if got := collect(c.t, s, start, end, limit); !slices.Equal(got, want) {
			c.t.Fatalf("round %d op %d %s: Iterate(%q, %q, limit %d) = %v, want %v", c.round, op, name, start, end, limit, got, want)
		}
	}
}

// TestCacheRandomized drives random operations through a plain MemKV, a
// Cache over a MemKV, and a Cache over a Cache over a MemKV, checking all of
// them against a map after every step, then writes the caches through and
// compares the parents.
func TestCacheRandomized(t *testing.T) {
	const seed = 20240611
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, seed))
	for round := 0; round < 40; round++ {
		c := &cacheRound{t: t, r: r, round: round, model: map[string]string{}}
		// Start from the same random parent contents everywhere.
		plain, parent1, parent2 := store.NewMemKV(), store.NewMemKV(), store.NewMemKV()
		for i, n := 0, r.IntN(30); i < n; i++ {
			k, v := c.randKey(), fmt.Sprintf("p%d", i)
			c.model[string(k)] = v
			for _, m := range []*store.MemKV{plain, parent1, parent2} {
				m.Set(k, []byte(v))
			}
		}
		before := dump(t, parent1)
		cache1 := store.NewCache(parent1)
		mid := store.NewCache(parent2)
		c.cache2 = store.NewCache(mid)
		c.stores = map[string]store.KV{"memkv": plain, "cache": cache1, "cache²": c.cache2}
		for op := 0; op < 200; op++ {
			c.step(op)
			if op%5 == 0 {
				c.checkIterate(op)
			}
		}
		if got := dump(t, parent1); !slices.Equal(got, before) {
			t.Fatalf("round %d: parent changed before Write", round)
		}
		cache1.Write()
		c.cache2.Write()
		mid.Write()
		want := modelIter(c.model, nil, nil, -1)
		for name, s := range map[string]store.KV{"memkv": plain, "parent1": parent1, "parent2": parent2, "cache": cache1, "cache²": c.cache2} {
			if got := dump(t, s); !slices.Equal(got, want) {
				t.Fatalf("round %d %s after Write = %v, want %v", round, name, got, want)
			}
		}
		if plain.Len() != len(c.model) || parent1.Len() != len(c.model) || parent2.Len() != len(c.model) {
			t.Fatalf("round %d: Len %d/%d/%d, want %d", round, plain.Len(), parent1.Len(), parent2.Len(), len(c.model))
		}
	}
}

// TestCacheIterateEmptyParentKey: MemKV stores the empty key as a nil slice
// (Set copies it with append([]byte(nil), key...)) and Cache.Iterate's flush
// treats a nil limit as "no limit", so every buffered key is emitted before
// the parent's empty key, out of order: the view below comes out as
// a, c, "", b. Skipped until store.go is fixed (see the test report).
func TestCacheIterateEmptyParentKey(t *testing.T) {
	t.Skip("known bug: Cache.Iterate flushes all buffered keys when the parent yields the empty key as nil (store.go flush limit==nil)")
	parent := memWith("", "pe", "b", "pb")
	c := store.NewCache(parent)
	c.Set([]byte("a"), []byte("ca"))
	c.Set([]byte("c"), []byte("cc"))
	if got := dump(t, c); !slices.Equal(got, pairs("", "pe", "a", "ca", "b", "pb", "c", "cc")) {
		t.Fatalf("merged view = %q", got)
	}
}

func TestPrefixEnd(t *testing.T) {
	cases := []struct {
		in, want []byte
	}{
		{nil, nil},
		{[]byte{}, nil},
		{[]byte("a"), []byte("b")},
		{[]byte("acc/"), []byte("acc0")},
		{[]byte{0x00}, []byte{0x01}},
		{[]byte{0xfe}, []byte{0xff}},
		{[]byte{0xff}, nil},
		{[]byte{0xff, 0xff, 0xff}, nil},
		{[]byte{'a', 0xff}, []byte{'b'}},
		{[]byte{'a', 0xff, 0xff}, []byte{'b'}},
		{[]byte{'a', 0xfe, 0xff}, []byte{'a', 0xff}},
		{[]byte{0x01, 0x00, 0xff}, []byte{0x01, 0x01}},
	}
	for _, c := range cases {
		in := bytes.Clone(c.in)
		got := store.PrefixEnd(in)
		if !bytes.Equal(got, c.want) || (c.want == nil) != (got == nil) {
			t.Errorf("PrefixEnd(%x) = %x, want %x", c.in, got, c.want)
		}
		if !bytes.Equal(in, c.in) {
			t.Errorf("PrefixEnd modified its argument %x -> %x", c.in, in)
		}
	}
	// [p, PrefixEnd(p)) holds exactly the keys with prefix p.
	m := memWith("ab", "1", "ab\x00", "2", "ab\xff\xff", "3", "ac", "4", "aa\xff", "5", "\xff\xff", "6", "\xff\xff\x00", "7")
	for _, p := range []string{"ab", "a", "aa", "\xff", "\xff\xff", "b"} {
		var got []string
		m.Iterate([]byte(p), store.PrefixEnd([]byte(p)), func(k, _ []byte) bool {
			got = append(got, string(k))
			return true
		})
		var want []string
		for _, kv := range dump(t, m) {
			if bytes.HasPrefix([]byte(kv.k), []byte(p)) {
				want = append(want, kv.k)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("prefix %q: got %q, want %q", p, got, want)
		}
	}
}

// Memo decodes a key once per outermost cache, serves nested caches from
// it, and decodes again after the key is written.
func TestMemo(t *testing.T) {
	base := store.NewMemKV()
	base.Set([]byte("p"), []byte("1"))
	decodes := 0
	decode := func(b []byte) string { decodes++; return string(b) }
	block := store.NewCache(base)
	for i := 0; i < 3; i++ {
		txCache := store.NewCache(block)
		if v := store.Memo(txCache, []byte("p"), decode); v != "1" {
			t.Fatalf("Memo = %q, want 1", v)
		}
	}
	if decodes != 1 {
		t.Fatalf("decoded %d times over three tx caches, want once", decodes)
	}
	block.Set([]byte("p"), []byte("2"))
	if v := store.Memo(store.NewCache(block), []byte("p"), decode); v != "2" || decodes != 2 {
		t.Fatalf("after a write: Memo = %q after %d decodes, want 2 after 2", v, decodes)
	}
	if v := store.Memo(base, []byte("p"), decode); v != "1" {
		t.Fatalf("Memo on a plain KV = %q, want 1", v)
	}
}
