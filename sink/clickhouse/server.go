package clickhouse

import (
	"context"
	"fmt"
	"strings"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Server is a Backend on a ClickHouse server (version 23 or later) over the
// native protocol. It is safe for concurrent use.
type Server struct {
	conn driver.Conn
}

var _ Backend = (*Server)(nil)

// OpenServer connects to the ClickHouse server at dsn, for example
// clickhouse://user:password@host:9000/database, and checks it answers
// within the DSN's dial_timeout (10 s if unset).
func OpenServer(dsn string) (*Server, error) {
	opts, err := ch.ParseDSN(dsn)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse: %w", err)
	}
	if opts.Protocol != ch.Native {
		return nil, fmt.Errorf("open ClickHouse: %w: dsn must use the native protocol (clickhouse://host:9000/db)", ErrBadArgument)
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open ClickHouse at %v: %w", opts.Addr, err)
	}
	timeout := opts.DialTimeout
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close() // the ping error says more
		return nil, fmt.Errorf("open ClickHouse at %v: %w", opts.Addr, err)
	}
	return &Server{conn: conn}, nil
}

// Exec runs a statement that returns no rows.
func (s *Server) Exec(ctx context.Context, sql string) error {
	if err := s.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("ClickHouse exec: %w", err)
	}
	return nil
}

// QueryJSON runs a SELECT and returns its rows as JSONEachRow. The native
// protocol carries columns, not formats, so the server formats each row
// with formatRowNoNewline.
func (s *Server) QueryJSON(ctx context.Context, sql string) ([]byte, error) {
	q := "SELECT formatRowNoNewline('JSONEachRow', *) FROM (" + strings.TrimRight(sql, "; \n") + ")"
	rows, err := s.conn.Query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("ClickHouse query: %w", err)
	}
	defer rows.Close()
	var out []byte
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return nil, fmt.Errorf("ClickHouse query: %w", err)
		}
		out = append(append(out, line...), '\n')
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("ClickHouse query: %w", err)
	}
	return out, nil
}

// InsertJSON inserts rows, each one JSON object on one line, into table
// with INSERT ... FORMAT JSONEachRow and the rows inline.
func (s *Server) InsertJSON(ctx context.Context, table string, rows [][]byte) error {
	if len(rows) == 0 {
		return nil
	}
	sql, err := insertJSONSQL(table, rows)
	if err != nil {
		return fmt.Errorf("ClickHouse insert: %w", err)
	}
	if err := s.conn.Exec(ctx, sql); err != nil {
		return fmt.Errorf("ClickHouse insert into %s: %w", table, err)
	}
	return nil
}

// Close closes the connections.
func (s *Server) Close() error {
	if err := s.conn.Close(); err != nil {
		return fmt.Errorf("close ClickHouse: %w", err)
	}
	return nil
}
