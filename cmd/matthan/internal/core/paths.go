package core

import (
	"os"
	"path/filepath"
)

// depsPath finds a file installed by "make deps" under .deps: beside the
// binary (bin/../.deps), in the working folder, or system-wide. It returns
// the first candidate that exists, else the one beside the binary, so the
// error that follows names a useful place.
func depsPath(rel, system string) string {
	var candidates []string
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Join(filepath.Dir(exe), "..", ".deps", rel))
	}
	candidates = append(candidates, filepath.Join(".deps", rel))
	if system != "" {
		candidates = append(candidates, system)
	}
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			abs, _ := filepath.Abs(c)
			return abs
		}
	}
	return candidates[0]
}
