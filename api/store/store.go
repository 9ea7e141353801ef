package store

import (
	"context"
	"crypto/cipher"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver

	"github.com/matthan/matthan/api/audit"
)

// FileName is the metadata database's file name under the data folder.
const FileName = "metadata.db"

// Path returns the metadata database's path under the data folder.
func Path(dataDir string) string { return filepath.Join(dataDir, FileName) }

// Options configure Open.
type Options struct {
	// Key is the 32-byte AES-256 key that seals camera secrets (see
	// ParseKey). Without it the store works, but writing or reading a
	// camera secret fails with ErrNoKey.
	Key []byte
	// Now defaults to time.Now.
	Now func() time.Time
}

// Store is the metadata store. It is safe for concurrent use.
type Store struct {
	db    *sql.DB
	now   func() time.Time
	aead  cipher.AEAD // nil without a key
	audit *audit.Log
}

//go:embed migrations/*.sql
var migrations embed.FS

// busyTimeout is how long a writer waits for another writer's transaction
// on SQLite before failing; transactions here last milliseconds.
const busyTimeout = 10 * time.Second

// Open opens (creating when missing, mode 0600) the SQLite metadata
// database at path and applies the migrations it lacks.
func Open(ctx context.Context, path string, o Options) (*Store, error) {
	if strings.ContainsAny(path, "?#") {
		return nil, fmt.Errorf("open metadata store: path %q: '?' and '#' are not allowed", path)
	}
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600); err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	} else {
		f.Close()
	}
	// WAL lets readers run beside the writer; _txlock=immediate takes the
	// write lock when a transaction begins, so two writers queue instead
	// of deadlocking on a read-to-write upgrade.
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)" +
		"&_pragma=busy_timeout(" + strconv.FormatInt(busyTimeout.Milliseconds(), 10) + ")&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open metadata store: %w", err)
	}
	s, err := newStore(db, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// newStore builds a Store on an open database.
func newStore(db *sql.DB, o Options) (*Store, error) {
	s := &Store{db: db, now: o.Now}
	if s.now == nil {
		s.now = time.Now
	}
	if o.Key != nil {
		a, err := newAEAD(o.Key)
		if err != nil {
			return nil, fmt.Errorf("open metadata store: %w", err)
		}
		s.aead = a
	}
	s.audit = audit.New(db, s.now)
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Audit returns the audit log kept in the same database.
func (s *Store) Audit() *audit.Log { return s.audit }

// migration is one file of migrations/.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads migrations/NNNN_name.sql in version order.
func loadMigrations() ([]migration, error) {
	files, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, f := range files {
		base := filepath.Base(f)
		num, name, ok := strings.Cut(strings.TrimSuffix(base, ".sql"), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v < 1 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", base)
		}
		b, err := migrations.ReadFile(f)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %d: versions must run 1, 2, 3… without gaps", m.version)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, each in its own
// transaction with its schema_migrations row.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := loadMigrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)`); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var have int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&have); err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	if have > len(ms) {
		return fmt.Errorf("migrate: %w: database at version %d, this program knows %d", ErrSchemaTooNew, have, len(ms))
	}
	for _, m := range ms[have:] {
		err := s.tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_ms) VALUES ($1, $2, $3)`,
				m.version, m.name, s.now().UnixMilli())
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate to %d (%s): %w", m.version, m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the highest migration applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := s.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("schema version: %w", err)
	}
	return v, nil
}

// tx runs fn in a transaction and commits when it returns nil.
func (s *Store) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// change runs fn in a transaction and appends the audit entry for it: fn
// returns the object before and after the change (nil when none). The
// error is wrapped with op.
func (s *Store) change(ctx context.Context, op string, by audit.Actor, action, object string,
	fn func(tx *sql.Tx) (before, after any, err error)) error {
	err := s.tx(ctx, func(tx *sql.Tx) error {
		before, after, err := fn(tx)
		if err != nil {
			return err
		}
		e := audit.Entry{Time: s.now(), Actor: by, Action: action, Object: object}
		if e.Before, err = marshalState(before); err != nil {
			return err
		}
		if e.After, err = marshalState(after); err != nil {
			return err
		}
		_, err = audit.Append(ctx, tx, e)
		return err
	})
	if err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return nil
}

// marshalState encodes an audit before/after value; nil stays empty.
func marshalState(v any) (json.RawMessage, error) {
	if v == nil {
		return nil, nil
	}
	return json.Marshal(v)
}

// querier is what reads need of *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// exists reports whether a row of table has id; table is a constant.
func exists(ctx context.Context, q querier, table, id string) (bool, error) {
	var one int
	err := q.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = $1", id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// newID returns a fresh time-ordered id (UUIDv7).
func newID() string { return uuid.Must(uuid.NewV7()).String() }

// msOf is t in Unix milliseconds.
func msOf(t time.Time) int64 { return t.UnixMilli() }

// nullMS is t in Unix milliseconds, NULL when zero.
func nullMS(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// timeOf reads a stored millisecond time; NULL is the zero time.
func timeOf(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return time.UnixMilli(n.Int64).UTC()
}

// msTime reads a NOT NULL millisecond time.
func msTime(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

// truncMS rounds t to what the store keeps: UTC milliseconds.
func truncMS(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMilli(t.UnixMilli()).UTC()
}

// boolInt stores a boolean as 0/1.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// list runs query and scans every row with scan.
func list[T any](ctx context.Context, q querier, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
