package core

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
)

// engineActor is who the audit log names for the engine's own changes.
var engineActor = audit.Actor{Username: "engine", Address: "matthan run"}

// defaultSystem is the camera system of configured cameras that name none.
const defaultSystem = "default"

// openMetadata opens the metadata store (agencies, systems, cameras, users,
// grants, incidents, audit log) under the data folder and registers the
// configured cameras in it: events of a camera the register does not know
// are shown to nobody.
func openMetadata(ctx context.Context, cfg conf.Config) (*store.Store, error) {
	var key []byte
	if v := os.Getenv(store.KeyEnv); v != "" {
		k, err := store.ParseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", store.KeyEnv, err)
		}
		key = k
	}
	st, err := store.Open(ctx, store.Path(cfg.Data), store.Options{Key: key})
	if err != nil {
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	if err := registerCameras(ctx, st, cfg.Systems, cfg.Cameras); err != nil {
		st.Close()
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	return st, nil
}

// registerCameras adds the configured systems and cameras the register
// lacks: the systems under the ICT department (a camera's system that the
// configuration does not describe gets its id for a name, tier I), the
// cameras with the registry fields of the configuration (name, location,
// district, address, purposes). Systems and cameras already registered are
// left as the API keeps them. Stream URLs stay in the configuration: they
// are not copied into the register.
func registerCameras(ctx context.Context, st *store.Store, systems []conf.System, cameras []conf.Camera) error {
	if len(cameras) == 0 && len(systems) == 0 {
		return nil
	}
	ict, err := st.EnsureICTAgency(ctx, engineActor)
	if err != nil {
		return err
	}
	described := make(map[string]conf.System, len(systems))
	for _, y := range systems {
		described[y.ID] = y
	}
	ensureSystem := func(id string) error {
		if _, err := st.System(ctx, id); !errors.Is(err, store.ErrNotFound) {
			return err
		}
		y := store.System{ID: id, Name: id, Tier: store.TierI, ManagingAgency: ict.ID}
		if d, ok := described[id]; ok {
			if d.Name != "" {
				y.Name = d.Name
			}
			if d.Tier != 0 {
				y.Tier = store.Tier(d.Tier)
			}
		}
		if _, err := st.CreateSystem(ctx, engineActor, y); err != nil {
			return fmt.Errorf("register system %s: %w", id, err)
		}
		return nil
	}
	for _, y := range systems {
		if err := ensureSystem(y.ID); err != nil {
			return err
		}
	}
	for _, c := range cameras {
		sys := c.SystemID
		if sys == "" {
			sys = defaultSystem
		}
		if err := ensureSystem(sys); err != nil {
			return err
		}
		if _, err := st.Camera(ctx, c.ID); errors.Is(err, store.ErrNotFound) {
			if _, err := st.CreateCamera(ctx, engineActor, registryCamera(c, sys), store.CameraSecret{}); err != nil {
				return fmt.Errorf("register camera %s: %w", c.ID, err)
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}

// registryCamera is the register's record of a configured camera in system
// sys.
func registryCamera(c conf.Camera, sys string) store.Camera {
	name := c.Name
	if name == "" {
		name = c.ID
	}
	purposes := make([]store.Purpose, len(c.Purposes))
	for i, p := range c.Purposes {
		purposes[i] = store.Purpose(p)
	}
	return store.Camera{ID: c.ID, SystemID: sys, Name: name, Lat: c.Lat, Lon: c.Lon, District: c.District,
		Address: c.Address, Purposes: purposes}
}
