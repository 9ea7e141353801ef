package models

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	ort "github.com/yalue/onnxruntime_go"
)

// The ONNX Runtime environment is process-wide (the library allows one), so
// its state is too.
var ortState struct {
	mu   sync.Mutex
	path string // library the environment was created from; "" before InitRuntime
}

// InitRuntime loads the ONNX Runtime shared library at libPath and creates
// the process-wide environment. Calling it again with the same path does
// nothing; with another path it fails, as the library cannot be swapped.
func InitRuntime(libPath string) error {
	ortState.mu.Lock()
	defer ortState.mu.Unlock()
	abs, err := filepath.Abs(libPath)
	if err != nil {
		abs = libPath
	}
	if ortState.path != "" && ortState.path == abs {
		return nil
	}
	if st, err := os.Stat(abs); err != nil || st.IsDir() {
		return fmt.Errorf("%w at %s (set %s or run \"make deps\")", ErrRuntimeNotFound, abs, RuntimeEnv)
	}
	if ortState.path != "" {
		return fmt.Errorf("init ONNX Runtime from %s: already initialised from %s", abs, ortState.path)
	}
	ort.SetSharedLibraryPath(abs)
	if err := ort.InitializeEnvironment(ort.WithLogLevelError()); err != nil {
		return fmt.Errorf("init ONNX Runtime from %s: %w", abs, err)
	}
	ortState.path = abs
	return nil
}

// RuntimeInitialized reports whether InitRuntime has succeeded.
func RuntimeInitialized() bool {
	ortState.mu.Lock()
	defer ortState.mu.Unlock()
	return ortState.path != ""
}
