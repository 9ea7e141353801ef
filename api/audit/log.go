package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Query limits.
const (
	// DefaultLimit is the page size when Filter.Limit is 0.
	DefaultLimit = 100
	// MaxLimit caps one page, so that one request cannot read the whole log.
	MaxLimit = 1000
)

// Log reads and appends the audit log in a metadata database whose schema
// api/store created. It is safe for concurrent use.
type Log struct {
	db  *sql.DB
	now func() time.Time
}

// New returns the log kept in db. now defaults to time.Now.
func New(db *sql.DB, now func() time.Time) *Log {
	if now == nil {
		now = time.Now
	}
	return &Log{db: db, now: now}
}

// Record appends one entry in a transaction of its own, for events that
// change no other data: logins, live views, playbacks, exports.
func (l *Log) Record(ctx context.Context, e Entry) (Entry, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return Entry{}, fmt.Errorf("audit record: %w", err)
	}
	defer tx.Rollback()
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	out, err := Append(ctx, tx, e)
	if err != nil {
		return Entry{}, err
	}
	if err := tx.Commit(); err != nil {
		return Entry{}, fmt.Errorf("audit record: %w", err)
	}
	return out, nil
}

// Append adds e to the chain inside the caller's transaction, so that the
// entry commits or rolls back with the change it describes. It fills Seq,
// PrevHash and Hash, and Time when zero, and returns the stored entry.
func Append(ctx context.Context, tx *sql.Tx, e Entry) (Entry, error) {
	if e.Action == "" {
		return Entry{}, fmt.Errorf("audit append: %w: no action", ErrInvalidEntry)
	}
	before, err := compactJSON(e.Before)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w: before: %v", ErrInvalidEntry, err)
	}
	after, err := compactJSON(e.After)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w: after: %v", ErrInvalidEntry, err)
	}
	e.Before, e.After = nil, nil
	if before != "" {
		e.Before = []byte(before)
	}
	if after != "" {
		e.After = []byte(after)
	}
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	e.Time = time.UnixMilli(e.Time.UnixMilli()).UTC()

	// Writing first takes the write lock, so appenders queue here.
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET seq = seq + 1 WHERE id = 1`); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&e.Seq, &e.PrevHash); err != nil {
		return Entry{}, fmt.Errorf("audit append: head: %w", err)
	}
	if e.Hash, err = e.computeHash(e.PrevHash); err != nil {
		return Entry{}, fmt.Errorf("audit append: head: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_entries
		(seq, at_ms, actor_user, actor_name, actor_agency, client, purpose, requester,
		 action, object, before_json, after_json, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		e.Seq, e.Time.UnixMilli(), e.Actor.UserID, e.Actor.Username, e.Actor.AgencyID, e.Actor.Address,
		e.Actor.Purpose, e.Actor.Requester, e.Action, e.Object, before, after, e.PrevHash, e.Hash)
	if err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE audit_head SET hash = $1 WHERE id = 1`, e.Hash); err != nil {
		return Entry{}, fmt.Errorf("audit append: %w", err)
	}
	return e, nil
}

// Filter selects entries for Query. Zero fields select everything.
type Filter struct {
	// UserID keeps entries whose actor is this user.
	UserID string
	// AgencyID keeps entries whose actor belongs to this agency.
	AgencyID string
	// Action keeps entries with this action; a trailing '*' matches a
	// prefix ("camera.*").
	Action string
	// Object keeps entries about this object ("camera:gate-1").
	Object string
	// From and To keep entries written in [From, To).
	From, To time.Time
	// After keeps entries with Seq > After (paging forward); Before keeps
	// entries with Seq < Before (paging backward). 0 = no bound.
	After, Before int64
	// Newest lists newest first.
	Newest bool
	// Limit is the page size; 0 means DefaultLimit, at most MaxLimit.
	Limit int
}

// entryColumns are the columns scanEntry reads, in order.
const entryColumns = `seq, at_ms, actor_user, actor_name, actor_agency, client, purpose, requester,
	action, object, before_json, after_json, prev_hash, hash`

// Query returns one page of entries matching f, in sequence order (or
// newest first). Page on with f.After (or f.Before when Newest) set to the
// last Seq returned.
func (l *Log) Query(ctx context.Context, f Filter) ([]Entry, error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 0 || limit > MaxLimit:
		return nil, fmt.Errorf("audit query: %w: limit %d: want 1 to %d", ErrInvalidFilter, limit, MaxLimit)
	}
	if f.After < 0 || f.Before < 0 {
		return nil, fmt.Errorf("audit query: %w: negative sequence bound", ErrInvalidFilter)
	}
	var where []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if f.UserID != "" {
		add("actor_user = ?", f.UserID)
	}
	if f.AgencyID != "" {
		add("actor_agency = ?", f.AgencyID)
	}
	if p, ok := strings.CutSuffix(f.Action, "*"); ok {
		// substr instead of LIKE: no wildcards to escape, no collation
		// involved, the same on SQLite and PostgreSQL.
		args = append(args, utf8.RuneCountInString(p), p)
		where = append(where, fmt.Sprintf("substr(action, 1, $%d) = $%d", len(args)-1, len(args)))
	} else if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Object != "" {
		add("object = ?", f.Object)
	}
	if !f.From.IsZero() {
		add("at_ms >= ?", f.From.UnixMilli())
	}
	if !f.To.IsZero() {
		add("at_ms < ?", f.To.UnixMilli())
	}
	if f.After > 0 {
		add("seq > ?", f.After)
	}
	if f.Before > 0 {
		add("seq < ?", f.Before)
	}
	q := "SELECT " + entryColumns + " FROM audit_entries"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Newest {
		q += " ORDER BY seq DESC"
	} else {
		q += " ORDER BY seq"
	}
	args = append(args, limit)
	q += fmt.Sprintf(" LIMIT $%d", len(args))
	rows, err := l.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return nil, fmt.Errorf("audit query: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("audit query: %w", err)
	}
	return out, nil
}

// scanEntry reads one row of entryColumns.
func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var ms int64
	var before, after string
	err := rows.Scan(&e.Seq, &ms, &e.Actor.UserID, &e.Actor.Username, &e.Actor.AgencyID, &e.Actor.Address,
		&e.Actor.Purpose, &e.Actor.Requester, &e.Action, &e.Object, &before, &after, &e.PrevHash, &e.Hash)
	if err != nil {
		return Entry{}, err
	}
	e.Time = time.UnixMilli(ms).UTC()
	if before != "" {
		e.Before = []byte(before)
	}
	if after != "" {
		e.After = []byte(after)
	}
	return e, nil
}

// Report is what Verify found.
type Report struct {
	// Entries is how many entries were read.
	Entries int64
	// Head is the hash of the last good entry: keep it elsewhere to detect
	// a later rewrite of the whole chain.
	Head string
	// FirstBad is the sequence number of the first entry that does not
	// verify (edited, inserted, deleted or missing); 0 when the chain is
	// intact.
	FirstBad int64
	// Problem says what is wrong with FirstBad.
	Problem string
}

// OK reports whether the chain verified.
func (r Report) OK() bool { return r.FirstBad == 0 }

// Err returns nil for an intact chain, else ErrTampered with the entry
// and the problem.
func (r Report) Err() error {
	if r.OK() {
		return nil
	}
	return fmt.Errorf("%w: entry %d: %s", ErrTampered, r.FirstBad, r.Problem)
}

// Verify walks the whole chain in sequence order and reports the first
// entry that does not verify. The error is for failures to read, not for
// tampering: see Report.
func (l *Log) Verify(ctx context.Context) (Report, error) {
	var headSeq int64
	var headHash string
	err := l.db.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&headSeq, &headHash)
	if errors.Is(err, sql.ErrNoRows) {
		return Report{FirstBad: 1, Problem: "the chain head is missing"}, nil
	}
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	rows, err := l.db.QueryContext(ctx, "SELECT "+entryColumns+" FROM audit_entries ORDER BY seq")
	if err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	defer rows.Close()
	r := Report{Head: zeroHash}
	bad := func(seq int64, format string, a ...any) {
		if r.FirstBad == 0 {
			r.FirstBad, r.Problem = seq, fmt.Sprintf(format, a...)
		}
	}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Report{}, fmt.Errorf("audit verify: %w", err)
		}
		r.Entries++
		if r.FirstBad != 0 {
			continue // count the rest, report the first
		}
		want := r.Entries
		switch {
		case e.Seq > want:
			bad(want, "missing: the next stored entry is %d (deleted)", e.Seq)
		case e.Seq < want:
			bad(e.Seq, "out of sequence (inserted or duplicated)")
		case e.PrevHash != r.Head:
			bad(e.Seq, "does not link to entry %d (previous entry replaced, or this one inserted)", e.Seq-1)
		default:
			h, err := e.computeHash(e.PrevHash)
			if err != nil || h != e.Hash {
				bad(e.Seq, "content does not match its hash (edited)")
				break
			}
			r.Head = e.Hash
		}
	}
	if err := rows.Err(); err != nil {
		return Report{}, fmt.Errorf("audit verify: %w", err)
	}
	if r.FirstBad == 0 {
		switch {
		case headSeq > r.Entries:
			bad(r.Entries+1, "missing: the head says %d entries, %d are stored (deleted at the end)", headSeq, r.Entries)
		case headSeq < r.Entries:
			bad(headSeq+1, "stored after the head (appended outside the log)")
		case headHash != r.Head:
			bad(headSeq+1, "the head hash is not entry %d's: later entries were deleted, or the head altered", headSeq)
		}
	}
	return r, nil
}
