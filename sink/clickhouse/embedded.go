package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"unsafe"

	"github.com/ebitengine/purego"
)

// EnvLibrary names the environment variable OpenEmbedded reads when it is
// given no library path.
const EnvLibrary = "MATTHAN_CHDB_LIB"

// chdb holds the C functions of libchdb.so (chdb.h). Results and connections
// are opaque C pointers that never leave this file.
type chdb struct {
	path          string
	connect       func(argc int32, argv []*byte) unsafe.Pointer // chdb_connection *
	closeConn     func(conn unsafe.Pointer)
	query         func(conn unsafe.Pointer, query, format string) unsafe.Pointer // chdb_result *
	destroyResult func(res unsafe.Pointer)
	resultBuffer  func(res unsafe.Pointer) unsafe.Pointer // char *
	resultLength  func(res unsafe.Pointer) uintptr        // size_t
	resultError   func(res unsafe.Pointer) unsafe.Pointer // const char *, NULL when none
}

var (
	// libMu guards lib and inUse. The library is loaded once per process
	// and never unloaded; chDB allows one connection per process.
	libMu sync.Mutex
	lib   *chdb
	inUse bool
)

// loadLibrary loads libchdb.so from path once per process.
func loadLibrary(path string) (*chdb, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w at %s (set %s or run make deps)", ErrLibraryNotFound, path, EnvLibrary)
	}
	if lib != nil {
		if lib.path != path {
			return nil, fmt.Errorf("load chDB from %s: the process already loaded %s", path, lib.path)
		}
		return lib, nil
	}
	h, err := purego.Dlopen(path, purego.RTLD_NOW|purego.RTLD_GLOBAL)
	if err != nil {
		return nil, fmt.Errorf("%w at %s (set %s or run make deps): %v", ErrLibraryNotFound, path, EnvLibrary, err)
	}
	l := &chdb{path: path}
	for _, f := range []struct {
		fn   any
		name string
	}{
		{&l.connect, "chdb_connect"},
		{&l.closeConn, "chdb_close_conn"},
		{&l.query, "chdb_query"},
		{&l.destroyResult, "chdb_destroy_query_result"},
		{&l.resultBuffer, "chdb_result_buffer"},
		{&l.resultLength, "chdb_result_length"},
		{&l.resultError, "chdb_result_error"},
	} {
		sym, err := purego.Dlsym(h, f.name)
		if err != nil {
			return nil, fmt.Errorf("load chDB from %s: symbol %s: %w", path, f.name, err)
		}
		purego.RegisterFunc(f.fn, sym)
	}
	lib = l
	return lib, nil
}

// Embedded is a Backend on embedded chDB: ClickHouse running inside this
// process, its data persisted in a directory. Queries are serialized; ctx is
// checked before each query but cannot interrupt one that has started.
type Embedded struct {
	lib *chdb
	dir string

	mu   sync.Mutex
	conn unsafe.Pointer // chdb_connection *; nil once closed
}

var _ Backend = (*Embedded)(nil)

// OpenEmbedded starts embedded chDB with its data in dir (created if
// missing). libPath is libchdb.so; "" means $MATTHAN_CHDB_LIB. Loading the
// library the first time takes a moment (it is large). Only one Embedded may
// be open in a process at a time: a second call fails with ErrEmbeddedInUse
// until the first is closed.
func OpenEmbedded(dir, libPath string) (*Embedded, error) {
	if libPath == "" {
		libPath = os.Getenv(EnvLibrary)
	}
	if libPath == "" {
		return nil, fmt.Errorf("%w: no path given (set %s or run make deps)", ErrLibraryNotFound, EnvLibrary)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("open chDB: %w", err)
	}

	libMu.Lock()
	defer libMu.Unlock()
	if inUse {
		return nil, ErrEmbeddedInUse
	}
	l, err := loadLibrary(libPath)
	if err != nil {
		return nil, err
	}
	args := []string{"clickhouse", "--path=" + dir}
	argv := make([]*byte, len(args))
	for i, a := range args {
		argv[i] = &append([]byte(a), 0)[0]
	}
	conn := l.connect(int32(len(argv)), argv)
	if conn == nil {
		return nil, fmt.Errorf("open chDB at %s: chdb_connect failed", dir)
	}
	inUse = true
	return &Embedded{lib: l, dir: dir, conn: conn}, nil
}

// run runs one query and returns its output in format.
func (e *Embedded) run(ctx context.Context, sql, format string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil, ErrClosed
	}
	// chdb_query takes the chdb_connection that chdb_connect's result points at.
	res := e.lib.query(*(*unsafe.Pointer)(e.conn), sql, format)
	if res == nil {
		return nil, errors.New("chdb_query returned no result")
	}
	defer e.lib.destroyResult(res)
	if msg := cString(e.lib.resultError(res)); msg != "" {
		return nil, errors.New(msg)
	}
	n := e.lib.resultLength(res)
	buf := e.lib.resultBuffer(res)
	if n == 0 || buf == nil {
		return nil, nil
	}
	return append([]byte(nil), unsafe.Slice((*byte)(buf), n)...), nil
}

// Exec runs a statement that returns no rows.
func (e *Embedded) Exec(ctx context.Context, sql string) error {
	if _, err := e.run(ctx, sql, "TabSeparated"); err != nil {
		return fmt.Errorf("chDB exec: %w", err)
	}
	return nil
}

// QueryJSON runs a SELECT and returns its rows as JSONEachRow.
func (e *Embedded) QueryJSON(ctx context.Context, sql string) ([]byte, error) {
	out, err := e.run(ctx, sql, "JSONEachRow")
	if err != nil {
		return nil, fmt.Errorf("chDB query: %w", err)
	}
	return out, nil
}

// InsertJSON inserts rows, each one JSON object on one line, into table
// with INSERT ... FORMAT JSONEachRow.
func (e *Embedded) InsertJSON(ctx context.Context, table string, rows [][]byte) error {
	if len(rows) == 0 {
		return nil
	}
	sql, err := insertJSONSQL(table, rows)
	if err != nil {
		return fmt.Errorf("chDB insert: %w", err)
	}
	if _, err := e.run(ctx, sql, "TabSeparated"); err != nil {
		return fmt.Errorf("chDB insert into %s: %w", table, err)
	}
	return nil
}

// Close closes the connection; the process may then open another. Closing
// twice is a no-op.
func (e *Embedded) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.conn == nil {
		return nil
	}
	e.lib.closeConn(e.conn)
	e.conn = nil
	libMu.Lock()
	inUse = false
	libMu.Unlock()
	return nil
}

// Dir is the directory holding the data.
func (e *Embedded) Dir() string { return e.dir }

// cString copies a NUL-terminated C string.
func cString(p unsafe.Pointer) string {
	if p == nil {
		return ""
	}
	n := 0
	for *(*byte)(unsafe.Add(p, n)) != 0 {
		n++
	}
	return string(unsafe.Slice((*byte)(p), n))
}
