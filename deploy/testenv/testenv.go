// Package testenv finds, for tests, the real components that "make deps"
// installs and "make test" starts: the shared libraries, models and footage
// under .deps, and the Kafka broker. A test whose component is missing fails
// with a message that says how to get it; it never skips.
package testenv

import (
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Root returns the module root: the nearest folder above the working
// directory that holds go.mod.
func Root(tb testing.TB) string {
	tb.Helper()
	wd, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		if filepath.Dir(dir) == dir {
			tb.Fatalf("no go.mod above %s", wd)
		}
	}
}

// Path returns $env when set, else rel under the module's .deps folder, and
// fails the test when nothing is there.
func Path(tb testing.TB, env, rel string) string {
	tb.Helper()
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join(Root(tb), ".deps", rel)
	}
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("%s is missing (%v): run \"make deps\" or set %s", rel, err, env)
	}
	return p
}

// ONNXRuntime returns the path of the ONNX Runtime shared library.
func ONNXRuntime(tb testing.TB) string {
	return Path(tb, "MATTHAN_ONNXRUNTIME_LIB", "lib/libonnxruntime.so.1")
}

// CHDB returns the path of the chDB shared library.
func CHDB(tb testing.TB) string { return Path(tb, "MATTHAN_CHDB_LIB", "lib/libchdb.so") }

// ModelsDir returns the folder holding the model files.
func ModelsDir(tb testing.TB) string { return Path(tb, "MATTHAN_MODELS_DIR", "models") }

// VideoDir returns the folder holding the sample footage.
func VideoDir(tb testing.TB) string { return Path(tb, "MATTHAN_VIDEO_DIR", "video") }

// Clip returns the path of one clip of the sample footage.
func Clip(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(VideoDir(tb), name)
	if _, err := os.Stat(p); err != nil {
		tb.Fatalf("sample footage %s is missing (%v): run \"make deps\"", name, err)
	}
	return p
}

// KafkaBrokers returns the brokers "make test" started.
func KafkaBrokers(tb testing.TB) string {
	tb.Helper()
	b := os.Getenv("MATTHAN_KAFKA_BROKERS")
	if b == "" {
		tb.Fatal("MATTHAN_KAFKA_BROKERS is not set: run the tests with \"make test\" (it starts a Kafka broker), " +
			"or \"make kafka-up\" and MATTHAN_KAFKA_BROKERS=127.0.0.1:9092")
	}
	return b
}

// FreeAddr returns a loopback TCP address nobody listens on at the moment.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
