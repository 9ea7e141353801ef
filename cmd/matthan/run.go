package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"github.com/matthan/matthan/analyzer/cpusched"
	"github.com/matthan/matthan/analyzer/scene"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/cmd/matthan/internal/core"
)

// cameraFlags collects the repeatable -camera ID=RTSP_URL flag.
type cameraFlags []conf.Camera

func (c *cameraFlags) String() string { return fmt.Sprintf("%d cameras", len(*c)) }

func (c *cameraFlags) Set(s string) error {
	cam, err := conf.ParseCameraFlag(s)
	if err != nil {
		return err
	}
	*c = append(*c, cam)
	return nil
}

func runMain(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var (
		configPath  = fs.String("config", "", "YAML configuration `file` (default: embedded defaults, data under ./var)")
		data        = fs.String("data", "", "data `folder` (recordings, store, state)")
		listen      = fs.String("listen", "", "HTTP `address` of the API (default :8080)")
		kafka       = fs.String("kafka", "", "Kafka brokers `host:port[,…]` (none: Kafka off)")
		clickhouse  = fs.String("clickhouse", "", "ClickHouse server `DSN` (none: embedded chDB)")
		checkConfig = fs.Bool("check-config", false, "validate the configuration and exit")
		logLevel    = fs.String("log-level", "info", "log `level`: debug, info, warn, error")
		cameras     cameraFlags
	)
	fs.Var(&cameras, "camera", "add a camera `ID=RTSP_URL` (repeatable)")
	scenes := map[string]string{}
	fs.Func("scene", "give camera ID the scene `ID=FILE` (counting lines, zones, lanes, signals; repeatable)", func(v string) error {
		id, file, ok := strings.Cut(v, "=")
		if !ok || id == "" || file == "" {
			return errors.New("expected ID=FILE")
		}
		scenes[id] = file
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	cfg, err := conf.Load(*configPath)
	if err != nil {
		return err
	}
	if *data != "" {
		cfg.Data = *data
	}
	if *listen != "" {
		cfg.Listen = *listen
	}
	if *kafka != "" {
		cfg.Kafka.Brokers = conf.SplitList(*kafka)
	}
	if *clickhouse != "" {
		cfg.ClickHouse.DSN = *clickhouse
	}
	cfg.Cameras = append(cfg.Cameras, cameras...)
	for id, file := range scenes {
		i := slices.IndexFunc(cfg.Cameras, func(c conf.Camera) bool { return c.ID == id })
		if i < 0 {
			return fmt.Errorf("-scene %s=%s: no camera %q", id, file, id)
		}
		cfg.Cameras[i].Scene = file
	}
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n  %s", strings.ReplaceAll(err.Error(), "\n", "\n  "))
	}
	if *checkConfig {
		for i, c := range cfg.Cameras {
			if c.Scene == "" {
				continue
			}
			if _, err := scene.Load(c.Scene); err != nil {
				return fmt.Errorf("cameras[%d].scene: %w", i, err)
			}
		}
		fmt.Println("configuration ok")
		return nil
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	if err := cpusched.Set(cfg.Runtime.CPUPolicy); err != nil {
		log.Warn("cpu policy not applied; the engine runs under the policy it was started with", "error", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	engine := &core.Engine{Config: cfg, Logger: log}
	return engine.Run(ctx)
}
