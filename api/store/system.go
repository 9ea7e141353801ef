package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// System is a camera system: one tier, one managing agency, optionally an
// operating unit (another agency that runs it day to day). Both have full
// access to the system's cameras.
type System struct {
	// ID is the system's id; CreateSystem makes one when empty.
	ID string `json:"id"`
	// Name is the system's name.
	Name string `json:"name"`
	// Tier is I, II or III.
	Tier Tier `json:"tier"`
	// ManagingAgency is the owner's agency id.
	ManagingAgency string `json:"managing_agency"`
	// OperatingUnit is the operating agency's id, empty when the managing
	// agency runs the system itself.
	OperatingUnit string `json:"operating_unit,omitempty"`
	// Created is when the system was registered.
	Created time.Time `json:"created"`
}

// Manages reports whether agency is the system's managing agency or its
// operating unit.
func (y System) Manages(agency string) bool {
	return agency != "" && (agency == y.ManagingAgency || agency == y.OperatingUnit)
}

// validate checks the fields and that the agencies exist.
func (y *System) validate(ctx context.Context, q querier) error {
	if err := checkID("system id", y.ID); err != nil {
		return err
	}
	if err := checkText("system name", y.Name, 200); err != nil {
		return err
	}
	if y.Tier < TierI || y.Tier > TierIII {
		return fmt.Errorf("%w: system tier %d: want 1, 2 or 3", ErrInvalid, y.Tier)
	}
	for _, f := range []struct{ name, id string }{{"managing_agency", y.ManagingAgency}, {"operating_unit", y.OperatingUnit}} {
		if f.id == "" && f.name == "operating_unit" {
			continue
		}
		ok, err := exists(ctx, q, "agencies", f.id)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: system %s %q: no such agency", ErrInvalid, f.name, f.id)
		}
	}
	return nil
}

const systemColumns = `id, name, tier, managing_agency, operating_unit, created_ms`

func scanSystem(row scanner) (System, error) {
	var y System
	var op sql.NullString
	var created int64
	if err := row.Scan(&y.ID, &y.Name, &y.Tier, &y.ManagingAgency, &op, &created); err != nil {
		return System{}, err
	}
	y.OperatingUnit, y.Created = op.String, msTime(created)
	return y, nil
}

func getSystem(ctx context.Context, q querier, id string) (System, error) {
	y, err := scanSystem(q.QueryRowContext(ctx, "SELECT "+systemColumns+" FROM systems WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return System{}, fmt.Errorf("system %q: %w", id, ErrNotFound)
	}
	return y, err
}

// nullString stores "" as NULL.
func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

// CreateSystem registers a camera system and returns it as stored.
func (s *Store) CreateSystem(ctx context.Context, by audit.Actor, y System) (System, error) {
	if y.ID == "" {
		y.ID = newID()
	}
	y.Created = truncMS(s.now())
	err := s.change(ctx, "create system", by, "system.create", "system:"+y.ID, func(tx *sql.Tx) (any, any, error) {
		if err := y.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		if ok, err := exists(ctx, tx, "systems", y.ID); err != nil || ok {
			return nil, nil, errors.Join(err, existsErr("system", y.ID, ok))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO systems (`+systemColumns+`) VALUES ($1, $2, $3, $4, $5, $6)`,
			y.ID, y.Name, int(y.Tier), y.ManagingAgency, nullString(y.OperatingUnit), msOf(y.Created))
		return nil, y, err
	})
	if err != nil {
		return System{}, err
	}
	return y, nil
}

// existsErr is ErrExists for kind id when ok.
func existsErr(kind, id string, ok bool) error {
	if !ok {
		return nil
	}
	return fmt.Errorf("%s %q: %w", kind, id, ErrExists)
}

// UpdateSystem changes a system's name, tier, managing agency and
// operating unit.
func (s *Store) UpdateSystem(ctx context.Context, by audit.Actor, y System) (System, error) {
	err := s.change(ctx, "update system", by, "system.update", "system:"+y.ID, func(tx *sql.Tx) (any, any, error) {
		old, err := getSystem(ctx, tx, y.ID)
		if err != nil {
			return nil, nil, err
		}
		y.Created = old.Created
		if err := y.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE systems SET name = $1, tier = $2, managing_agency = $3, operating_unit = $4 WHERE id = $5`,
			y.Name, int(y.Tier), y.ManagingAgency, nullString(y.OperatingUnit), y.ID)
		return old, y, err
	})
	if err != nil {
		return System{}, err
	}
	return y, nil
}

// System returns one system.
func (s *Store) System(ctx context.Context, id string) (System, error) {
	y, err := getSystem(ctx, s.db, id)
	if err != nil {
		return System{}, fmt.Errorf("get system: %w", err)
	}
	return y, nil
}

// Systems returns every system by name.
func (s *Store) Systems(ctx context.Context) ([]System, error) {
	out, err := list(ctx, s.db, scanSystem, "SELECT "+systemColumns+" FROM systems ORDER BY name, id")
	if err != nil {
		return nil, fmt.Errorf("list systems: %w", err)
	}
	return out, nil
}
