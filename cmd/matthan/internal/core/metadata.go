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
	if err := registerCameras(ctx, st, cfg.Cameras); err != nil {
		st.Close()
		return nil, fmt.Errorf("metadata store: %w", err)
	}
	return st, nil
}

// registerCameras adds the configured cameras the register lacks, each in
// its system (created under the ICT department when missing). Cameras
// already registered are left as the API keeps them. Stream URLs stay in
// the configuration: they are not copied into the register.
func registerCameras(ctx context.Context, st *store.Store, cameras []conf.Camera) error {
	if len(cameras) == 0 {
		return nil
	}
	ict, err := st.EnsureICTAgency(ctx, engineActor)
	if err != nil {
		return err
	}
	for _, c := range cameras {
		sys := c.SystemID
		if sys == "" {
			sys = defaultSystem
		}
		if _, err := st.System(ctx, sys); errors.Is(err, store.ErrNotFound) {
			_, err = st.CreateSystem(ctx, engineActor, store.System{ID: sys, Name: sys, Tier: store.TierI, ManagingAgency: ict.ID})
			if err != nil {
				return fmt.Errorf("register system %s: %w", sys, err)
			}
		} else if err != nil {
			return err
		}
		if _, err := st.Camera(ctx, c.ID); errors.Is(err, store.ErrNotFound) {
			name := c.Name
			if name == "" {
				name = c.ID
			}
			if _, err := st.CreateCamera(ctx, engineActor, store.Camera{ID: c.ID, SystemID: sys, Name: name}, store.CameraSecret{}); err != nil {
				return fmt.Errorf("register camera %s: %w", c.ID, err)
			}
		} else if err != nil {
			return err
		}
	}
	return nil
}
