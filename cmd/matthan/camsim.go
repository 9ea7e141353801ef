package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/matthan/matthan/ingest/camsim"
)

// camsimMain runs `matthan camsim [flags] FILE…`: the camera simulator,
// streaming each file in a loop until interrupted. It prints the URL of each
// stream on standard output once it serves them.
func camsimMain(args []string) error {
	fs := flag.NewFlagSet("camsim", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: matthan camsim [flags] FILE...\n\n"+
			"Streams each H.264/H.265 file in a loop over RTSP, as rtsp://HOST:PORT/NAME\n"+
			"where NAME is the file name up to its first dot.\n\nflags:\n")
		fs.PrintDefaults()
	}
	listen := fs.String("listen", camsim.DefaultListen, "RTSP `address` to listen on")
	udp := fs.String("udp", "", "UDP `address` (even port) for RTP to clients that ask for UDP; RTCP uses the next port; empty: TCP only")
	user := fs.String("user", "", "user name readers must give (empty: no authentication)")
	verbose := fs.Bool("v", false, "log connections")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return errors.New("no files given")
	}
	level := slog.LevelInfo
	if *verbose {
		level = slog.LevelDebug
	}
	srv := &camsim.Server{
		Listen:        *listen,
		UDPRTPAddress: *udp,
		Files:         fs.Args(),
		User:          *user,
		// The password comes from the environment so that it does not show in
		// the process list.
		Password: os.Getenv("MATTHAN_CAMSIM_PASSWORD"),
		Logger:   slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})),
	}
	if srv.User != "" && srv.Password == "" {
		return errors.New("-user needs the password in MATTHAN_CAMSIM_PASSWORD")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Run(ctx) }()
	select {
	case <-srv.Ready():
		for _, u := range srv.URLs() {
			fmt.Println(u)
		}
		return <-errc
	case err := <-errc:
		return err
	}
}
