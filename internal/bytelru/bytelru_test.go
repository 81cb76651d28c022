package bytelru

import (
	"fmt"
	"testing"
)

func TestBudgetAndEntryLimit(t *testing.T) {
	c := New[int, string](10_000, 2_000, 64)
	if c.Add(1, "big", 2_000) {
		t.Error("an entry over the entry limit (with its overhead) was taken")
	}
	for i := range 1_000 {
		c.Add(i, "v", 500)
		c.Add(i, "v", 500) // the second offer is admitted even when full
		if c.Bytes() > 10_000 {
			t.Fatalf("after %d entries the cache holds %d bytes, over its budget", i+1, c.Bytes())
		}
	}
	if c.Len() != 10_000/(500+entryOverhead) {
		t.Errorf("%d entries, want %d", c.Len(), 10_000/(500+entryOverhead))
	}
	if _, ok := c.Get(999); !ok {
		t.Error("the newest entry was evicted")
	}
	if _, ok := c.Get(0); ok {
		t.Error("the oldest entry was kept")
	}
}

func TestLeastRecentlyUsedGoesFirst(t *testing.T) {
	c := New[string, int](3*(100+entryOverhead), 1_000, 8)
	for i, k := range []string{"a", "b", "c"} {
		if !c.Add(k, i, 100) {
			t.Fatalf("%s refused with room to spare", k)
		}
	}
	c.Get("a")
	c.Add("d", 3, 100) // full: refused on its first offer
	if _, ok := c.Get("d"); ok {
		t.Fatal("a first offer to a full cache was admitted")
	}
	if !c.Add("d", 3, 100) {
		t.Fatal("a second offer was refused")
	}
	if _, ok := c.Get("b"); ok {
		t.Error("b, the least recently used, is still there")
	}
	for _, k := range []string{"a", "c", "d"} {
		if _, ok := c.Get(k); !ok {
			t.Errorf("%s was evicted", k)
		}
	}
}

// TestJunkCannotChurn offers a full cache a long stream of distinct keys, each once: none is admitted, and
// the entries already there stay.
func TestJunkCannotChurn(t *testing.T) {
	c := New[string, int](10*(100+entryOverhead), 1_000, 16)
	for i := range 10 {
		c.Add(fmt.Sprint("keep", i), i, 100)
	}
	for i := range 100_000 {
		if c.Add(fmt.Sprint("junk", i), i, 100) {
			t.Fatalf("junk %d was admitted", i)
		}
	}
	if c.Len() != 10 || c.offered.Len() > 16 {
		t.Errorf("%d entries, %d keys remembered; want 10 and at most 16", c.Len(), c.offered.Len())
	}
	for i := range 10 {
		if _, ok := c.Get(fmt.Sprint("keep", i)); !ok {
			t.Errorf("keep%d was evicted", i)
		}
	}
}

func TestReplaceUpdatesSize(t *testing.T) {
	c := New[int, int](1_000, 1_000, 4)
	c.Add(1, 1, 100)
	c.Add(1, 2, 300)
	if v, _ := c.Get(1); v != 2 || c.Bytes() != 300+entryOverhead {
		t.Errorf("value %d, %d bytes; want 2 and %d", v, c.Bytes(), 300+entryOverhead)
	}
	c.Remove(1)
	if c.Len() != 0 || c.Bytes() != 0 {
		t.Errorf("after Remove: %d entries, %d bytes", c.Len(), c.Bytes())
	}
}
