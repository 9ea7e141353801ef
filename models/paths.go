package models

import (
	"os"
	"path/filepath"
)

// Environment variables that say where the model dependencies are; each wins
// over every other location.
const (
	// RuntimeEnv names the ONNX Runtime shared library.
	RuntimeEnv = "MATTHAN_ONNXRUNTIME_LIB"
	// ModelsDirEnv names the folder holding the weights files.
	ModelsDirEnv = "MATTHAN_MODELS_DIR"
)

// runtimeLibName is the file name of the ONNX Runtime shared library.
const runtimeLibName = "libonnxruntime.so.1"

// systemRuntimePath is where a system-wide ONNX Runtime install puts the library.
const systemRuntimePath = "/usr/local/lib/" + runtimeLibName

// DefaultRuntimePath returns where the ONNX Runtime library is looked for,
// first match wins: $MATTHAN_ONNXRUNTIME_LIB; <dir of the executable>/../.deps/lib
// (bin/matthan in a checkout after "make deps"); ./.deps/lib; /usr/local/lib.
// When none exists it returns the first candidate that applies, so that the
// error of InitRuntime names it.
func DefaultRuntimePath() string {
	if p := os.Getenv(RuntimeEnv); p != "" {
		return p
	}
	return firstExisting(append(depsCandidates("lib", runtimeLibName), systemRuntimePath))
}

// DefaultModelsDir returns where the weights files are looked for, first
// match wins: $MATTHAN_MODELS_DIR; <dir of the executable>/../.deps/models;
// ./.deps/models. When none exists it returns the first candidate.
func DefaultModelsDir() string {
	if p := os.Getenv(ModelsDirEnv); p != "" {
		return p
	}
	return firstExisting(depsCandidates("models"))
}

// depsCandidates lists <dir of the executable>/../.deps/<rel> and
// ./.deps/<rel>.
func depsCandidates(rel ...string) []string {
	var c []string
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		c = append(c, filepath.Join(append([]string{filepath.Dir(exe), "..", ".deps"}, rel...)...))
	}
	return append(c, filepath.Join(append([]string{".deps"}, rel...)...))
}

func firstExisting(candidates []string) string {
	for _, c := range candidates {
		if _, err := os.Stat(c); err == nil {
			return filepath.Clean(c)
		}
	}
	return filepath.Clean(candidates[0])
}
