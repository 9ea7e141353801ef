package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/matthan/matthan/api/audit"
)

// Camera is a registered camera. It never carries the stream URL
// or credentials: see CameraSecret.
type Camera struct {
	// ID is the camera id the engine uses (letters, digits, '-', '_').
	ID string `json:"id"`
	// SystemID is the system the camera belongs to.
	SystemID string `json:"system_id"`
	// Name is a human name.
	Name string `json:"name"`
	// Lat and Lon are the WGS 84 position in degrees.
	Lat float64 `json:"lat"`
	Lon float64 `json:"lon"`
	// Address is the street address.
	Address string `json:"address,omitempty"`
	// District is the district (quận, huyện, thành phố) the camera stands
	// in, at most 100 bytes.
	District string `json:"district,omitempty"`
	// Installed is when the camera was installed or last changed.
	Installed time.Time `json:"installed,omitzero"`
	// ApprovalRef is the written approval of location and technical plan
	//
	ApprovalRef string `json:"approval_ref,omitempty"`
	// FirstConnected is when tier I first received the stream;
	// zero until then.
	FirstConnected time.Time `json:"first_connected,omitzero"`
	// Public marks a camera whose images the public interface may show
	// . Never together with StateSecret.
	Public bool `json:"public"`
	// StateSecret marks a camera only its own agency and the ICT department
	// may see.
	StateSecret bool `json:"state_secret"`
	// Purposes are what the camera serves.
	Purposes []Purpose `json:"purposes"`
	// HasStream says whether a stream URL is stored (sealed); the URL
	// itself is never part of Camera.
	HasStream bool `json:"has_stream"`
	// Created and Updated are when the record was created and last changed.
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// validate checks the fields and that the system exists.
func (c *Camera) validate(ctx context.Context, q querier) error {
	if err := checkID("camera id", c.ID); err != nil {
		return err
	}
	if err := checkText("camera name", c.Name, 200); err != nil {
		return err
	}
	if len(c.Address) > 500 || len(c.ApprovalRef) > 200 {
		return fmt.Errorf("%w: camera address or approval_ref: too long", ErrInvalid)
	}
	if len(c.District) > maxDistrict {
		return fmt.Errorf("%w: camera district: longer than %d bytes", ErrInvalid, maxDistrict)
	}
	if math.IsNaN(c.Lat) || c.Lat < -90 || c.Lat > 90 || math.IsNaN(c.Lon) || c.Lon < -180 || c.Lon > 180 {
		return fmt.Errorf("%w: camera location %v,%v: want latitude -90..90 and longitude -180..180", ErrInvalid, c.Lat, c.Lon)
	}
	if c.Public && c.StateSecret {
		return fmt.Errorf("camera %q: %w: a state-secret camera cannot be public", c.ID, ErrStateSecret)
	}
	if err := checkPurposes("camera purposes", c.Purposes); err != nil {
		return err
	}
	ok, err := exists(ctx, q, "systems", c.SystemID)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%w: camera system_id %q: no such system", ErrInvalid, c.SystemID)
	}
	return nil
}

// maxDistrict is the longest district name, in bytes.
const maxDistrict = 100

const cameraColumns = `id, system_id, name, lat, lon, address, district, installed_ms, approval_ref, first_connected_ms,
	is_public, state_secret, purposes, secret_enc <> '', created_ms, updated_ms`

func scanCamera(row scanner) (Camera, error) {
	var c Camera
	var installed, connected sql.NullInt64
	var public, secret int
	var purposes string
	var created, updated int64
	err := row.Scan(&c.ID, &c.SystemID, &c.Name, &c.Lat, &c.Lon, &c.Address, &c.District, &installed, &c.ApprovalRef, &connected,
		&public, &secret, &purposes, &c.HasStream, &created, &updated)
	if err != nil {
		return Camera{}, err
	}
	c.Installed, c.FirstConnected = timeOf(installed), timeOf(connected)
	c.Public, c.StateSecret, c.Purposes = public == 1, secret == 1, splitList[Purpose](purposes)
	c.Created, c.Updated = msTime(created), msTime(updated)
	return c, nil
}

func getCamera(ctx context.Context, q querier, id string) (Camera, error) {
	c, err := scanCamera(q.QueryRowContext(ctx, "SELECT "+cameraColumns+" FROM cameras WHERE id = $1", id))
	if errors.Is(err, sql.ErrNoRows) {
		return Camera{}, fmt.Errorf("camera %q: %w", id, ErrNotFound)
	}
	return c, err
}

// secretAudit is what the audit log keeps of a secret change: that it
// happened, not what it is.
type secretAudit struct {
	Camera string `json:"camera"`
	Stream string `json:"stream"`
}

// CreateCamera registers a camera with its stream secret (zero when not
// known yet; sealing needs the key) and returns it as stored.
func (s *Store) CreateCamera(ctx context.Context, by audit.Actor, c Camera, secret CameraSecret) (Camera, error) {
	now := truncMS(s.now())
	c.Created, c.Updated, c.FirstConnected = now, now, time.Time{}
	c.Installed = truncMS(c.Installed)
	sealed, err := s.seal(c.ID, secret)
	if err != nil {
		return Camera{}, fmt.Errorf("create camera: %w", err)
	}
	c.HasStream = sealed != ""
	err = s.change(ctx, "create camera", by, "camera.create", "camera:"+c.ID, func(tx *sql.Tx) (any, any, error) {
		if err := c.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		if ok, err := exists(ctx, tx, "cameras", c.ID); err != nil || ok {
			return nil, nil, errors.Join(err, existsErr("camera", c.ID, ok))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO cameras (id, system_id, name, lat, lon, address, district, installed_ms,
			approval_ref, is_public, state_secret, purposes, secret_enc, created_ms, updated_ms)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`,
			c.ID, c.SystemID, c.Name, c.Lat, c.Lon, c.Address, c.District, nullMS(c.Installed), c.ApprovalRef,
			boolInt(c.Public), boolInt(c.StateSecret), joinList(c.Purposes), sealed, msOf(c.Created), msOf(c.Updated))
		return nil, c, err
	})
	if err != nil {
		return Camera{}, err
	}
	return c, nil
}

// UpdateCamera changes a camera's registry fields: system, name, location,
// address, district, installation date, approval reference, public and
// state-secret flags, purposes. The stream secret and first-connected date stay.
func (s *Store) UpdateCamera(ctx context.Context, by audit.Actor, c Camera) (Camera, error) {
	err := s.change(ctx, "update camera", by, "camera.update", "camera:"+c.ID, func(tx *sql.Tx) (any, any, error) {
		old, err := getCamera(ctx, tx, c.ID)
		if err != nil {
			return nil, nil, err
		}
		c.Created, c.FirstConnected, c.HasStream = old.Created, old.FirstConnected, old.HasStream
		c.Installed, c.Updated = truncMS(c.Installed), truncMS(s.now())
		if err := c.validate(ctx, tx); err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE cameras SET system_id = $1, name = $2, lat = $3, lon = $4, address = $5,
			district = $6, installed_ms = $7, approval_ref = $8, is_public = $9, state_secret = $10, purposes = $11,
			updated_ms = $12 WHERE id = $13`,
			c.SystemID, c.Name, c.Lat, c.Lon, c.Address, c.District, nullMS(c.Installed), c.ApprovalRef,
			boolInt(c.Public), boolInt(c.StateSecret), joinList(c.Purposes), msOf(c.Updated), c.ID)
		return old, c, err
	})
	if err != nil {
		return Camera{}, err
	}
	return c, nil
}

// SetCameraSecret replaces a camera's stream URL and credentials (the zero
// secret clears them). The audit entry says that they changed, not what
// they are.
func (s *Store) SetCameraSecret(ctx context.Context, by audit.Actor, id string, secret CameraSecret) error {
	sealed, err := s.seal(id, secret)
	if err != nil {
		return fmt.Errorf("set camera secret: %w", err)
	}
	return s.change(ctx, "set camera secret", by, "camera.set_secret", "camera:"+id, func(tx *sql.Tx) (any, any, error) {
		old, err := getCamera(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		_, err = tx.ExecContext(ctx, `UPDATE cameras SET secret_enc = $1, updated_ms = $2 WHERE id = $3`,
			sealed, msOf(s.now()), id)
		state := func(set bool) secretAudit {
			if set {
				return secretAudit{Camera: id, Stream: "set (sealed)"}
			}
			return secretAudit{Camera: id, Stream: "none"}
		}
		return state(old.HasStream), state(sealed != ""), err
	})
}

// CameraSecret opens a camera's stream URL and credentials. It is the only
// way they leave the store, and is meant for ingest alone: never
// return or log the result.
func (s *Store) CameraSecret(ctx context.Context, id string) (CameraSecret, error) {
	var sealed string
	err := s.db.QueryRowContext(ctx, `SELECT secret_enc FROM cameras WHERE id = $1`, id).Scan(&sealed)
	if errors.Is(err, sql.ErrNoRows) {
		return CameraSecret{}, fmt.Errorf("camera secret: camera %q: %w", id, ErrNotFound)
	}
	if err != nil {
		return CameraSecret{}, fmt.Errorf("camera secret: %w", err)
	}
	sec, err := s.open(id, sealed)
	if err != nil {
		return CameraSecret{}, fmt.Errorf("camera secret: camera %q: %w", id, err)
	}
	return sec, nil
}

// MarkConnected records when tier I first received a camera's stream
// later calls change nothing and write no audit entry.
func (s *Store) MarkConnected(ctx context.Context, by audit.Actor, id string, at time.Time) error {
	at = truncMS(at)
	err := s.change(ctx, "mark camera connected", by, "camera.first_connected", "camera:"+id, func(tx *sql.Tx) (any, any, error) {
		old, err := getCamera(ctx, tx, id)
		if err != nil {
			return nil, nil, err
		}
		if !old.FirstConnected.IsZero() {
			return nil, nil, errAlreadyDone
		}
		_, err = tx.ExecContext(ctx, `UPDATE cameras SET first_connected_ms = $1 WHERE id = $2`, msOf(at), id)
		return map[string]any{"first_connected": nil}, map[string]any{"first_connected": at}, err
	})
	if errors.Is(err, errAlreadyDone) {
		return nil
	}
	return err
}

// errAlreadyDone rolls back a change that turned out to be a no-op.
var errAlreadyDone = errors.New("nothing to change")

// Camera returns one camera.
func (s *Store) Camera(ctx context.Context, id string) (Camera, error) {
	c, err := getCamera(ctx, s.db, id)
	if err != nil {
		return Camera{}, fmt.Errorf("get camera: %w", err)
	}
	return c, nil
}

// Cameras returns every camera by id.
func (s *Store) Cameras(ctx context.Context) ([]Camera, error) {
	out, err := list(ctx, s.db, scanCamera, "SELECT "+cameraColumns+" FROM cameras ORDER BY id")
	if err != nil {
		return nil, fmt.Errorf("list cameras: %w", err)
	}
	return out, nil
}
