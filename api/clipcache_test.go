package api

import (
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/matthan/matthan/ingest/record"
)

// TestClipCache: a clip covered to the end of its window is kept and served
// until clipCacheTTL, the least recently used leave beyond the size bound,
// and an incomplete clip is not kept.
func TestClipCache(t *testing.T) {
	data := t.TempDir()
	c := newClipCache(filepath.Join(data, "clip-cache"))
	c.max = 250
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	cut := func(id string, size int64, complete bool, at time.Time) {
		t.Helper()
		tmp := filepath.Join(data, ".clip-"+id)
		if err := os.WriteFile(tmp, []byte(id), 0o600); err != nil {
			t.Fatal(err)
		}
		clip := record.Clip{From: t0, To: t0.Add(10 * time.Second), End: t0.Add(10 * time.Second), Size: size}
		if !complete {
			clip.End = t0.Add(9 * time.Second)
		}
		c.keep(id, tmp, clip, at)
	}
	has := func(id string, now time.Time) bool {
		t.Helper()
		f, _, ok := c.get(id, now)
		if ok {
			b, _ := io.ReadAll(f)
			f.Close()
			if string(b) != id {
				t.Errorf("clip of %s holds %q", id, b)
			}
		}
		return ok
	}

	cut("a", 100, true, t0)
	cut("b", 100, true, t0)
	cut("partial", 10, false, t0)
	if !has("b", t0.Add(time.Second)) || !has("a", t0.Add(2*time.Second)) || has("partial", t0) {
		t.Fatal("want a and b kept, not the partial clip")
	}
	cut("c", 100, true, t0.Add(3*time.Second)) // 300 > 250: b, used least recently, leaves
	if !has("a", t0) || has("b", t0) || !has("c", t0) {
		t.Error("want b evicted, a and c kept")
	}
	if has("a", t0.Add(clipCacheTTL+time.Second)) {
		t.Error("a served past its time to live")
	}
	if files, _ := os.ReadDir(c.dir); len(files) != 1 {
		t.Errorf("%d files in the cache, want c's only", len(files))
	}
	// A new server starts with an empty cache.
	if c2 := newClipCache(c.dir); has2(c2, "c") {
		t.Error("a restarted cache serves an old clip")
	}
	if _, err := os.Stat(c.dir); !os.IsNotExist(err) {
		t.Errorf("cache folder left at start: %v", err)
	}
}

func has2(c *clipCache, id string) bool {
	f, _, ok := c.get(id, time.Now())
	if ok {
		f.Close()
	}
	return ok
}
