// Package bytelru is a least-recently-used cache bounded by the bytes its entries hold rather than by their
// number, with an admission rule that keeps one-off entries from churning it: while the cache has room any
// entry is admitted; once it is full, a new key is admitted only on its second offer within a window of recent
// first offers. A stream of distinct junk thus fills the budget once at most and can never evict entries that
// are asked for again.
package bytelru

import (
	"container/list"
	"sync"

	lru "github.com/hashicorp/golang-lru/v2"
)

// entryOverhead is what an entry costs beyond its value's own bytes: the list element, the map slot, the key.
const entryOverhead = 128

// Cache is safe for concurrent use. K should be small and fixed in size (a hash): the window of first
// offers keeps only keys.
type Cache[K comparable, V any] struct {
	mu       sync.Mutex
	budget   int64
	maxEntry int64
	used     int64
	order    *list.List // front: most recently used
	items    map[K]*list.Element
	offered  *lru.Cache[K, struct{}] // keys offered once while the cache was full
}

type entry[K comparable, V any] struct {
	key  K
	val  V
	size int64
}

// New returns a cache holding at most budget bytes, refusing entries over maxEntry bytes, and remembering
// the last window keys offered once (window × about 100 bytes).
func New[K comparable, V any](budget, maxEntry int64, window int) *Cache[K, V] {
	offered, err := lru.New[K, struct{}](max(window, 1))
	if err != nil {
		panic(err) // only for a non-positive size, excluded above
	}
	return &Cache[K, V]{budget: budget, maxEntry: min(maxEntry, budget), order: list.New(), items: map[K]*list.Element{}, offered: offered}
}

// Get returns the value under key and marks it recently used.
func (c *Cache[K, V]) Get(key K) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return el.Value.(*entry[K, V]).val, true
	}
	var zero V
	return zero, false
}

// Add offers val, which holds size bytes, under key, and reports whether the cache took it. It refuses
// values over the entry limit, and, while the cache is full, keys not offered before within the window.
func (c *Cache[K, V]) Add(key K, val V, size int64) bool {
	size += entryOverhead
	if size > c.maxEntry {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		e := el.Value.(*entry[K, V])
		c.used += size - e.size
		e.val, e.size = val, size
		c.order.MoveToFront(el)
		c.evict()
		return true
	}
	if c.used+size > c.budget {
		if _, seen := c.offered.Peek(key); !seen {
			c.offered.Add(key, struct{}{})
			return false
		}
		c.offered.Remove(key)
	}
	c.items[key] = c.order.PushFront(&entry[K, V]{key: key, val: val, size: size})
	c.used += size
	c.evict()
	return true
}

// Remove drops key's entry, if any.
func (c *Cache[K, V]) Remove(key K) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.remove(el)
	}
}

// Bytes returns the bytes the entries hold, overheads included; never more than the budget.
func (c *Cache[K, V]) Bytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Len returns the number of entries.
func (c *Cache[K, V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}

func (c *Cache[K, V]) evict() {
	for c.used > c.budget {
		c.remove(c.order.Back())
	}
}

func (c *Cache[K, V]) remove(el *list.Element) {
	e := c.order.Remove(el).(*entry[K, V])
	delete(c.items, e.key)
	c.used -= e.size
}
