package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// Agency is a Party or State body: it manages camera systems, consumes
// camera data, and its users belong to it.
type Agency struct {
	// ID is the agency's id; CreateAgency makes one when empty.
	ID string `json:"id"`
	// Name is the agency's name, unique.
	Name string `json:"name"`
	// ICT marks the provincial ICT department, which runs tier I and sees
	// everything. There is at most one.
	ICT bool `json:"ict"`
	// Functions are the purposes within the agency's function: a
	// grant for any other purpose needs the People's Committee approval
	//
	Functions []Purpose `json:"functions"`
	// Created is when the agency was registered.
	Created time.Time `json:"created"`
}

// Serves reports whether purpose p is within the agency's function. The
// ICT department's function covers every listed purpose; "other" is
// never within a function.
func (a Agency) Serves(p Purpose) bool {
	if p == PurposeOther {
		return false
	}
	return a.ICT || slices.Contains(a.Functions, p)
}

func (a *Agency) validate() error {
	if err := checkID("agency id", a.ID); err != nil {
		return err
	}
	if err := checkText("agency name", a.Name, 200); err != nil {
		return err
	}
	if slices.Contains(a.Functions, PurposeOther) {
		return fmt.Errorf("%w: agency functions: %q is not a function", ErrInvalid, PurposeOther)
	}
	return checkPurposes("agency functions", a.Functions)
}

const agencyColumns = `id, name, ict, functions, created_ms`

func scanAgency(row scanner) (Agency, error) {
	var a Agency
	var ict int
	var fns string
	var created int64
	if err := row.Scan(&a.ID, &a.Name, &ict, &fns, &created); err != nil {
		return Agency{}, err
	}
	a.ICT, a.Functions, a.Created = ict == 1, splitList[Purpose](fns), msTime(created)
	return a, nil
}

func getAgency(ctx context.Context, q querier, id string) (Agency, error) {
	a, err := scanAgency(q.QueryRowContext(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Agency{}, fmt.Errorf("agency %q: %w", id, ErrNotFound)
	}
	return a, err
}

// CreateAgency registers an agency and returns it as stored.
func (s *Store) CreateAgency(ctx context.Context, by audit.Actor, a Agency) (Agency, error) {
	if a.ID == "" {
		a.ID = newID()
	}
	a.Created = truncMS(s.now())
	if err := a.validate(); err != nil {
		return Agency{}, fmt.Errorf("create agency: %w", err)
	}
	err := s.change(ctx, "create agency", by, "agency.create", "agency:"+a.ID, func(tx *sql.Tx) (any, any, error) {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM agencies WHERE id = $1 OR name = $2 OR (ict = 1 AND $3 = 1)`,
			a.ID, a.Name, boolInt(a.ICT)).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, fmt.Errorf("agency %q (or its name, or an ICT department): %w", a.ID, ErrExists)
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO agencies (`+agencyColumns+`) VALUES ($1, $2, $3, $4, $5)`,
			a.ID, a.Name, boolInt(a.ICT), joinList(a.Functions), msOf(a.Created))
		return nil, a, err
	})
	if err != nil {
		return Agency{}, err
	}
	return a, nil
}

// UpdateAgency changes an agency's name and functions. The ICT flag does
// not change.
func (s *Store) UpdateAgency(ctx context.Context, by audit.Actor, a Agency) (Agency, error) {
	var out Agency
	err := s.change(ctx, "update agency", by, "agency.update", "agency:"+a.ID, func(tx *sql.Tx) (any, any, error) {
		old, err := getAgency(ctx, tx, a.ID)
		if err != nil {
			return nil, nil, err
		}
		out = old
		out.Name, out.Functions = a.Name, a.Functions
		if err := out.validate(); err != nil {
			return nil, nil, err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM agencies WHERE name = $1 AND id <> $2`, out.Name, out.ID).Scan(&n); err != nil {
			return nil, nil, err
		}
		if n > 0 {
			return nil, nil, fmt.Errorf("agency name %q: %w", out.Name, ErrExists)
		}
		_, err = tx.ExecContext(ctx, `UPDATE agencies SET name = $1, functions = $2 WHERE id = $3`,
			out.Name, joinList(out.Functions), out.ID)
		return old, out, err
	})
	if err != nil {
		return Agency{}, err
	}
	return out, nil
}

// Agency returns one agency.
func (s *Store) Agency(ctx context.Context, id string) (Agency, error) {
	a, err := getAgency(ctx, s.db, id)
	if err != nil {
		return Agency{}, fmt.Errorf("get agency: %w", err)
	}
	return a, nil
}

// ICTAgency returns the ICT department, or ErrNotFound when none is
// registered yet.
func (s *Store) ICTAgency(ctx context.Context) (Agency, error) {
	a, err := scanAgency(s.db.QueryRowContext(ctx, "SELECT "+agencyColumns+" FROM agencies WHERE ict = 1"))
	if errors.Is(err, sql.ErrNoRows) {
		return Agency{}, fmt.Errorf("get ICT agency: %w", ErrNotFound)
	}
	if err != nil {
		return Agency{}, fmt.Errorf("get ICT agency: %w", err)
	}
	return a, nil
}

// Agencies returns every agency by name.
func (s *Store) Agencies(ctx context.Context) ([]Agency, error) {
	out, err := list(ctx, s.db, scanAgency, "SELECT "+agencyColumns+" FROM agencies ORDER BY name")
	if err != nil {
		return nil, fmt.Errorf("list agencies: %w", err)
	}
	return out, nil
}

// The ICT department's id and name when the store creates it (the first
// administrator, or the engine registering its configured cameras).
const (
	ICTAgencyID   = "ict"
	ICTAgencyName = "Sở Thông tin và Truyền thông"
)

// EnsureICTAgency returns the ICT department, creating it with ICTAgencyID
// and ICTAgencyName when the store has none.
func (s *Store) EnsureICTAgency(ctx context.Context, by audit.Actor) (Agency, error) {
	a, err := s.ICTAgency(ctx)
	if errors.Is(err, ErrNotFound) {
		return s.CreateAgency(ctx, by, Agency{ID: ICTAgencyID, Name: ICTAgencyName, ICT: true})
	}
	return a, err
}
