package clickhouse

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// Backend runs SQL on a ClickHouse engine. Store uses nothing else, so the
// same SQL runs embedded and on a server.
type Backend interface {
	// Exec runs a statement that returns no rows (DDL, ALTER, ...).
	Exec(ctx context.Context, sql string) error
	// QueryJSON runs a SELECT and returns its rows as JSONEachRow: one JSON
	// object per line.
	QueryJSON(ctx context.Context, sql string) ([]byte, error)
	// InsertJSON inserts rows, each one JSON object, into table.
	InsertJSON(ctx context.Context, table string, rows [][]byte) error
	// Close releases the connection.
	Close() error
}

// identifier matches the table names InsertJSON accepts: [db.]table.
var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

// insertJSONSQL returns the INSERT statement with rows inline as JSONEachRow.
func insertJSONSQL(table string, rows [][]byte) (string, error) {
	if !identifier.MatchString(table) {
		return "", fmt.Errorf("%w: table name %q", ErrBadArgument, table)
	}
	n := 0
	for _, r := range rows {
		n += len(r) + 1
	}
	var b strings.Builder
	b.Grow(len(table) + 40 + n)
	b.WriteString("INSERT INTO ")
	b.WriteString(table)
	b.WriteString(" FORMAT JSONEachRow\n")
	for _, r := range rows {
		if bytes.ContainsAny(r, "\n\x00") {
			return "", fmt.Errorf("%w: row is not one line of JSON", ErrBadArgument)
		}
		b.Write(r)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// quote returns s as a ClickHouse string literal.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `'`, `\'`, "\x00", `\0`)
	return "'" + r.Replace(s) + "'"
}
