package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// IncidentDeadline is how long a fault may stay open: 24 hours from
// detection or notification.
const IncidentDeadline = 24 * time.Hour

// Incident is a camera or system fault to fix, opened by the
// engine or filed by a user.
type Incident struct {
	// ID is the incident's id; OpenIncident makes one.
	ID string `json:"id"`
	// CameraID is the camera at fault.
	CameraID string `json:"camera_id"`
	// Kind is a short code ("camera.offline", "picture.frozen", "user.report").
	Kind string `json:"kind"`
	// Detail says more.
	Detail string `json:"detail,omitempty"`
	// Source is who opened it.
	Source IncidentSource `json:"source"`
	// ReportedBy is the filing user for SourceUser.
	ReportedBy string `json:"reported_by,omitempty"`
	// Opened is when the fault was detected or notified.
	Opened time.Time `json:"opened"`
	// Deadline is Opened + IncidentDeadline.
	Deadline time.Time `json:"deadline"`
	// Closed is when it was fixed; zero while open.
	Closed time.Time `json:"closed,omitzero"`
	// Resolution says how it was fixed.
	Resolution string `json:"resolution,omitempty"`
}

// Open reports whether the incident is still open.
func (i Incident) Open() bool { return i.Closed.IsZero() }

// Overdue reports whether the incident is open past its deadline at now
//
func (i Incident) Overdue(now time.Time) bool { return i.Open() && now.After(i.Deadline) }

const incidentColumns = `id, camera_id, kind, detail, source, reported_by, opened_ms, deadline_ms, closed_ms, resolution`

func scanIncident(row scanner) (Incident, error) {
	var i Incident
	var opened, deadline int64
	var closed sql.NullInt64
	err := row.Scan(&i.ID, &i.CameraID, &i.Kind, &i.Detail, &i.Source, &i.ReportedBy, &opened, &deadline, &closed, &i.Resolution)
	if err != nil {
		return Incident{}, err
	}
	i.Opened, i.Deadline, i.Closed = msTime(opened), msTime(deadline), timeOf(closed)
	return i, nil
}

// OpenIncident opens an incident with a 24-hour deadline from Opened
// (defaults to now; never in the future). For SourceUser the filing user
// is by.UserID. When the camera already has an open incident of the same
// kind, that one is returned with opened false, and nothing is written:
// a flapping camera does not flood the list.
func (s *Store) OpenIncident(ctx context.Context, by audit.Actor, in Incident) (_ Incident, opened bool, _ error) {
	now := truncMS(s.now())
	in.ID, in.Closed, in.Resolution = newID(), time.Time{}, ""
	if in.Opened.IsZero() || in.Opened.After(now) {
		in.Opened = now
	}
	in.Opened = truncMS(in.Opened)
	in.Deadline = in.Opened.Add(IncidentDeadline)
	switch in.Source {
	case SourceAuto:
		in.ReportedBy = ""
	case SourceUser:
		in.ReportedBy = by.UserID
	default:
		return Incident{}, false, fmt.Errorf("open incident: %w: source %q: want %q or %q", ErrInvalid, in.Source, SourceAuto, SourceUser)
	}
	if err := checkText("incident kind", in.Kind, 100); err != nil {
		return Incident{}, false, fmt.Errorf("open incident: %w", err)
	}
	if len(in.Detail) > 2000 {
		return Incident{}, false, fmt.Errorf("open incident: %w: detail: longer than 2000 bytes", ErrInvalid)
	}
	var existing Incident
	err := s.change(ctx, "open incident", by, "incident.open", "incident:"+in.ID, func(tx *sql.Tx) (any, any, error) {
		ok, err := exists(ctx, tx, "cameras", in.CameraID)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, fmt.Errorf("%w: incident camera_id %q: no such camera", ErrInvalid, in.CameraID)
		}
		existing, err = scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+
			" FROM incidents WHERE camera_id = $1 AND kind = $2 AND closed_ms IS NULL", in.CameraID, in.Kind))
		if err == nil {
			return nil, nil, errAlreadyDone
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO incidents (`+incidentColumns+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, '')`,
			in.ID, in.CameraID, in.Kind, in.Detail, string(in.Source), in.ReportedBy, msOf(in.Opened), msOf(in.Deadline))
		return nil, in, err
	})
	if errors.Is(err, errAlreadyDone) {
		return existing, false, nil
	}
	if err != nil {
		return Incident{}, false, err
	}
	return in, true, nil
}

// CloseIncident closes an open incident with a resolution.
func (s *Store) CloseIncident(ctx context.Context, by audit.Actor, id, resolution string) (Incident, error) {
	if err := checkText("incident resolution", resolution, 2000); err != nil {
		return Incident{}, fmt.Errorf("close incident: %w", err)
	}
	var out Incident
	err := s.change(ctx, "close incident", by, "incident.close", "incident:"+id, func(tx *sql.Tx) (any, any, error) {
		old, err := scanIncident(tx.QueryRowContext(ctx, "SELECT "+incidentColumns+" FROM incidents WHERE id = $1", id))
		if errors.Is(err, sql.ErrNoRows) {
			return nil, nil, fmt.Errorf("incident %q: %w", id, ErrNotFound)
		}
		if err != nil {
			return nil, nil, err
		}
		if !old.Open() {
			return nil, nil, fmt.Errorf("%w: incident %q is closed already", ErrInvalid, id)
		}
		out = old
		out.Closed, out.Resolution = truncMS(s.now()), resolution
		_, err = tx.ExecContext(ctx, `UPDATE incidents SET closed_ms = $1, resolution = $2 WHERE id = $3`,
			msOf(out.Closed), resolution, id)
		return old, out, err
	})
	if err != nil {
		return Incident{}, err
	}
	return out, nil
}

// IncidentFilter selects incidents; zero fields select all.
type IncidentFilter struct {
	// CameraID keeps one camera's incidents.
	CameraID string
	// OpenOnly keeps open incidents.
	OpenOnly bool
	// OverdueAt, when set, keeps incidents open past their deadline at
	// that time.
	OverdueAt time.Time
}

// Incidents returns the incidents matching f, oldest first.
func (s *Store) Incidents(ctx context.Context, f IncidentFilter) ([]Incident, error) {
	var where []string
	var args []any
	if f.CameraID != "" {
		args = append(args, f.CameraID)
		where = append(where, fmt.Sprintf("camera_id = $%d", len(args)))
	}
	if f.OpenOnly || !f.OverdueAt.IsZero() {
		where = append(where, "closed_ms IS NULL")
	}
	if !f.OverdueAt.IsZero() {
		args = append(args, msOf(f.OverdueAt))
		where = append(where, fmt.Sprintf("deadline_ms < $%d", len(args)))
	}
	query := "SELECT " + incidentColumns + " FROM incidents"
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	out, err := list(ctx, s.db, scanIncident, query+" ORDER BY opened_ms, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	return out, nil
}
