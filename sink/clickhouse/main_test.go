package clickhouse

import (
	"os"
	"path/filepath"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// chdbLibrary returns libchdb.so: $MATTHAN_CHDB_LIB, else .deps/lib/libchdb.so
// at the module root. The tests need it: they fail, not skip, without it.
func chdbLibrary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvLibrary); p != "" {
		return p
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, ".deps", "lib", "libchdb.so")
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("chDB library not found at %s: run make deps, or set %s", p, EnvLibrary)
			}
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory; set %s", EnvLibrary)
		}
		dir = parent
	}
}
