// Command matthan is the Mắt Thần analytics engine: one binary with a
// subcommand per job. main only picks the subcommand; the engine's wiring
// lives in internal/core.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/matthan/matthan/analyzer/cvthreads"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

var commands = []struct {
	name, summary string
	run           func(args []string) error
}{
	{"run", "run the engine on the configured cameras", runMain},
	{"camsim", "serve video files as RTSP cameras (for demos and tests)", camsimMain},
	{"detect", "detect objects in an image or a video file", detectMain},
	{"analyze", "run the live analysis (tracks, counts, crowds, rules) on a video file", analyzeMain},
	{"export", "cut a clip of a camera's recording into one MP4 with a manifest", exportMain},
	{"evidence", "export a signed evidence package, or verify one offline", evidenceMain},
	{"stats", "print a camera's traffic flow from the analytics store (table or CSV)", statsMain},
	{"admin", "offline account tasks: the first ICT administrator, list, unlock, reset", adminMain},
	{"audit", "verify the audit log's hash chain, or list its entries", auditMain},
	{"bench", "measure the frame path against raw limits and a peer baseline", benchMain},
	{"version", "print the version", func([]string) error { fmt.Println("matthan", version); return nil }},
}

func usage() {
	fmt.Fprintf(os.Stderr, "usage: matthan COMMAND [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(os.Stderr, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(os.Stderr, "\n'matthan COMMAND -h' shows a command's flags.\n")
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	name := os.Args[1]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		usage()
		return
	}
	// OpenCV runs each call on the calling goroutine's thread: the
	// engine's parallelism is one set of goroutines per camera and the
	// ONNX Runtime workers, which fill the cores (see package cvthreads).
	cvthreads.Set(1)
	for _, c := range commands {
		if c.name != name {
			continue
		}
		err := c.run(os.Args[2:])
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(2)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "matthan %s: %v\n", name, err)
			os.Exit(1)
		}
		return
	}
	fmt.Fprintf(os.Stderr, "matthan: unknown command %q\n\n", name)
	usage()
	os.Exit(2)
}
