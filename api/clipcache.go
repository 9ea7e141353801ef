package api

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/matthan/matthan/ingest/record"
)

// Limits of the clip cache.
const (
	// clipCacheTTL is how long a cut clip is served again: long enough for
	// a player's range requests and a few replays, short enough that a
	// copy never outlives its recordings by much (they leave under the
	// retention policy).
	clipCacheTTL = 10 * time.Minute
	// clipCacheBytes bounds the clips kept, all events together.
	clipCacheBytes = 512 << 20
)

// clipCache keeps the clips cut from the recordings for events, so that a
// player's range requests and repeated views are answered from one cut
// instead of cutting the window again for each. Only a clip the recording
// covers to the end of its window is kept (a later cut would give the same
// file); the least recently used go first beyond max bytes. The files
// live in one folder of the data folder, emptied when the server starts.
// Safe for concurrent use.
type clipCache struct {
	dir string
	max int64 // bytes; clipCacheBytes

	mu      sync.Mutex
	entries map[string]*cachedClip // by event id
	total   int64

	hits atomic.Int64 // answers from the cache, for tests
}

// cachedClip is one event's clip on disk.
type cachedClip struct {
	path        string
	clip        record.Clip
	added, used time.Time
}

// newClipCache empties dir and returns a cache there; with no dir it keeps
// nothing.
func newClipCache(dir string) *clipCache {
	if dir != "" {
		os.RemoveAll(dir)
	}
	return &clipCache{dir: dir, max: clipCacheBytes, entries: map[string]*cachedClip{}}
}

// get opens the cached clip of event id; ok is false when there is none
// (or it is older than clipCacheTTL, and is dropped).
func (c *clipCache) get(id string, now time.Time) (f *os.File, clip record.Clip, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil {
		return nil, record.Clip{}, false
	}
	if now.Sub(e.added) > clipCacheTTL {
		c.dropLocked(id)
		return nil, record.Clip{}, false
	}
	f, err := os.Open(e.path)
	if err != nil {
		c.dropLocked(id)
		return nil, record.Clip{}, false
	}
	e.used = now
	c.hits.Add(1)
	return f, e.clip, true
}

// keep moves the freshly cut file at tmp (in the same file system) into
// the cache as event id's clip, when the recording covered the clip's
// window to its end; else, or when another request kept it first, tmp is
// left where it is. A file open on tmp stays readable either way.
func (c *clipCache) keep(id, tmp string, clip record.Clip, now time.Time) {
	if c.dir == "" || clip.End.Before(clip.To) || clip.Size > c.max {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries[id] != nil {
		return
	}
	if err := os.MkdirAll(c.dir, 0o750); err != nil {
		return
	}
	name := sha256.Sum256([]byte(id))
	path := filepath.Join(c.dir, hex.EncodeToString(name[:16])+".mp4")
	if err := os.Rename(tmp, path); err != nil {
		return
	}
	c.entries[id] = &cachedClip{path: path, clip: clip, added: now, used: now}
	c.total += clip.Size
	for c.total > c.max {
		oldest := ""
		for k, e := range c.entries {
			if oldest == "" || e.used.Before(c.entries[oldest].used) {
				oldest = k
			}
		}
		c.dropLocked(oldest)
	}
}

// dropLocked forgets event id's clip and removes its file (readers that
// have it open keep reading).
func (c *clipCache) dropLocked(id string) {
	e := c.entries[id]
	os.Remove(e.path)
	c.total -= e.clip.Size
	delete(c.entries, id)
}
