package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// Grant gives a consuming agency capabilities on one camera or on every
// camera of one system, for a purpose, until it expires.
type Grant struct {
	// ID is the grant's id; CreateGrant makes one.
	ID string `json:"id"`
	// AgencyID is the consuming agency.
	AgencyID string `json:"agency_id"`
	// CameraID or SystemID (exactly one) is what the grant covers.
	CameraID string `json:"camera_id,omitempty"`
	SystemID string `json:"system_id,omitempty"`
	// Capabilities are what the agency may do.
	Capabilities []Capability `json:"capabilities"`
	// Purpose is what the access serves; PurposeText says more,
	// and is required for PurposeOther.
	Purpose     Purpose `json:"purpose"`
	PurposeText string  `json:"purpose_text,omitempty"`
	// ApprovalRef and ApprovalDate are the People's Committee's written
	// approval, required when Purpose is outside the agency's function
	//
	ApprovalRef  string    `json:"approval_ref,omitempty"`
	ApprovalDate time.Time `json:"approval_date,omitzero"`
	// Expires is when the grant ends. Required.
	Expires time.Time `json:"expires"`
	// Revoked is when the grant was revoked; zero when not.
	Revoked time.Time `json:"revoked,omitzero"`
	// CreatedBy is the user who created the grant.
	CreatedBy string `json:"created_by,omitempty"`
	// Created is when the grant was created.
	Created time.Time `json:"created"`
}

// Live reports whether the grant is in force at now: not revoked, not
// expired.
func (g Grant) Live(now time.Time) bool { return g.Revoked.IsZero() && now.Before(g.Expires) }

// Covers reports whether the grant covers camera c.
func (g Grant) Covers(c Camera) bool {
	return (g.CameraID != "" && g.CameraID == c.ID) || (g.SystemID != "" && g.SystemID == c.SystemID)
}

// Allows reports whether the grant carries capability c.
func (g Grant) Allows(c Capability) bool { return slices.Contains(g.Capabilities, c) }

// validate checks a new grant against the regulation, given the grantee
// agency and the covered camera's system (for a camera grant).
func (g *Grant) validate(ctx context.Context, q querier, now time.Time) error {
	if (g.CameraID == "") == (g.SystemID == "") {
		return fmt.Errorf("%w: grant: exactly one of camera_id and system_id is required", ErrInvalid)
	}
	if len(g.Capabilities) == 0 {
		return fmt.Errorf("%w: grant capabilities: at least one of %v is required", ErrInvalid, Capabilities)
	}
	for i, c := range g.Capabilities {
		if !slices.Contains(Capabilities, c) || slices.Contains(g.Capabilities[:i], c) {
			return fmt.Errorf("%w: grant capabilities: %q is unknown or repeated: want some of %v", ErrInvalid, c, Capabilities)
		}
	}
	if !slices.Contains(Purposes, g.Purpose) {
		return fmt.Errorf("%w: grant purpose %q: want one of %v (R-4.1)", ErrInvalid, g.Purpose, Purposes)
	}
	if g.Purpose == PurposeOther && strings.TrimSpace(g.PurposeText) == "" {
		return fmt.Errorf("%w: grant purpose_text: required for purpose %q (R-4.1)", ErrInvalid, PurposeOther)
	}
	if len(g.PurposeText) > 500 || len(g.ApprovalRef) > 200 {
		return fmt.Errorf("%w: grant purpose_text or approval_ref: too long", ErrInvalid)
	}
	if !g.Expires.After(now) {
		return fmt.Errorf("%w: grant expires %s: must be in the future", ErrInvalid, g.Expires.Format(time.RFC3339))
	}
	agency, err := getAgency(ctx, q, g.AgencyID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: grant agency_id %q: no such agency", ErrInvalid, g.AgencyID)
	}
	if err != nil {
		return err
	}
	// outside the agency's function only with the written approval.
	if !agency.Serves(g.Purpose) && (strings.TrimSpace(g.ApprovalRef) == "" || g.ApprovalDate.IsZero()) {
		return fmt.Errorf("grant of purpose %q to agency %q, outside its function %v: %w: approval_ref and approval_date",
			g.Purpose, agency.ID, agency.Functions, ErrApprovalRequired)
	}
	if g.SystemID != "" {
		ok, err := exists(ctx, q, "systems", g.SystemID)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: grant system_id %q: no such system", ErrInvalid, g.SystemID)
		}
		return nil
	}
	cam, err := getCamera(ctx, q, g.CameraID)
	if errors.Is(err, ErrNotFound) {
		return fmt.Errorf("%w: grant camera_id %q: no such camera", ErrInvalid, g.CameraID)
	}
	if err != nil {
		return err
	}
	sys, err := getSystem(ctx, q, cam.SystemID)
	if err != nil {
		return err
	}
	// a state-secret camera is never granted outside its agency.
	// (A system grant may cover state-secret cameras: Can keeps them out.)
	if cam.StateSecret && sys.ManagingAgency != g.AgencyID {
		return fmt.Errorf("grant of camera %q to agency %q: %w", cam.ID, g.AgencyID, ErrStateSecret)
	}
	return nil
}

const grantColumns = `id, agency_id, camera_id, system_id, capabilities, purpose, purpose_text, approval_ref,
	approval_date_ms, expires_ms, revoked_ms, created_by, created_ms`

func scanGrant(row scanner) (Grant, error) {
	var g Grant
	var cam, sys sql.NullString
	var caps string
	var approval, revoked sql.NullInt64
	var expires, created int64
	err := row.Scan(&g.ID, &g.AgencyID, &cam, &sys, &caps, &g.Purpose, &g.PurposeText, &g.ApprovalRef,
		&approval, &expires, &revoked, &g.CreatedBy, &created)
	if err != nil {
		return Grant{}, err
	}
	g.CameraID, g.SystemID, g.Capabilities = cam.String, sys.String, splitList[Capability](caps)
	g.ApprovalDate, g.Revoked = timeOf(approval), timeOf(revoked)
	g.Expires, g.Created = msTime(expires), msTime(created)
	return g, nil
}

// CreateGrant creates a grant. It refuses a grant outside the agency's
// function without the approval reference and date (ErrApprovalRequired,
// ), and a grant of another agency's state-secret camera
// (ErrStateSecret, R-1.1).
func (s *Store) CreateGrant(ctx context.Context, by audit.Actor, g Grant) (Grant, error) {
	now := truncMS(s.now())
	g.ID, g.Created, g.CreatedBy, g.Revoked = newID(), now, by.UserID, time.Time{}
	g.Expires, g.ApprovalDate = truncMS(g.Expires), truncMS(g.ApprovalDate)
	err := s.change(ctx, "create grant", by, "grant.create", "grant:"+g.ID, func(tx *sql.Tx) (any, any, error) {
		if err := g.validate(ctx, tx, now); err != nil {
			return nil, nil, err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO grants (`+grantColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11, $12)`,
			g.ID, g.AgencyID, nullString(g.CameraID), nullString(g.SystemID), joinList(g.Capabilities),
			string(g.Purpose), g.PurposeText, g.ApprovalRef, nullMS(g.ApprovalDate), msOf(g.Expires), g.CreatedBy, msOf(now))
		return nil, g, err
	})
	if err != nil {
		return Grant{}, err
	}
	return g, nil
}

// RevokeGrant ends a grant now.
func (s *Store) RevokeGrant(ctx context.Context, by audit.Actor, id string) (Grant, error) {
	var out Grant
	err := s.change(ctx, "revoke grant", by, "grant.revoke", "grant:"+id, func(tx *sql.Tx) (any, any, error) {
		old, err := scanGrant(tx.QueryRowContext(ctx, "SELECT "+grantColumns+" FROM grants WHERE id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("grant %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, nil, err
		}
		if !old.Revoked.IsZero() {
			return nil, nil, fmt.Errorf("grant %q: revoked already: %w", id, ErrExists)
		}
		out = old
		out.Revoked = truncMS(s.now())
		_, err = tx.ExecContext(ctx, `UPDATE grants SET revoked_ms = $1 WHERE id = $2`, msOf(out.Revoked), id)
		return old, out, err
	})
	if err != nil {
		return Grant{}, err
	}
	return out, nil
}

// Grant returns one grant.
func (s *Store) Grant(ctx context.Context, id string) (Grant, error) {
	g, err := scanGrant(s.db.QueryRowContext(ctx, "SELECT "+grantColumns+" FROM grants WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Grant{}, fmt.Errorf("get grant %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return Grant{}, fmt.Errorf("get grant: %w", err)
	}
	return g, nil
}

// GrantFilter selects grants; zero fields select all.
type GrantFilter struct {
	// AgencyID keeps grants to this agency.
	AgencyID string
	// CameraID keeps grants of this camera (not of its system).
	CameraID string
	// SystemID keeps grants of this system.
	SystemID string
	// LiveAt, when set, keeps grants in force at that time.
	LiveAt time.Time
}

// Grants returns the grants matching f, oldest first.
func (s *Store) Grants(ctx context.Context, f GrantFilter) ([]Grant, error) {
	out, err := grants(ctx, s.db, f)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	return out, nil
}

func grants(ctx context.Context, q querier, f GrantFilter) ([]Grant, error) {
	var where []string
	var args []any
	add := func(col string, v any) {
		args = append(args, v)
		where = append(where, fmt.Sprintf(col, len(args)))
	}
	if f.AgencyID != "" {
		add("agency_id = $%d", f.AgencyID)
	}
	if f.CameraID != "" {
		add("camera_id = $%d", f.CameraID)
	}
	if f.SystemID != "" {
		add("system_id = $%d", f.SystemID)
	}
	if !f.LiveAt.IsZero() {
		add("revoked_ms IS NULL AND expires_ms > $%d", msOf(f.LiveAt))
	}
	query := "SELECT " + grantColumns + " FROM grants"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	return list(ctx, q, scanGrant, query+" ORDER BY created_ms, id", args...)
}
