package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
	"github.com/matthan/matthan/ingest/record"
)

// exportMain runs `matthan export -data DIR -camera ID -from T -to T -out
// FILE`: it cuts a clip of a camera's recording into one MP4 file with a
// manifest beside it, and prints the file, its sha256 and the range it
// covers.
func exportMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return export(ctx, args, os.Stdout, os.Stderr)
}

// exportOptions are the parsed flags of export.
type exportOptions struct {
	data, camera, out string
	from, to          time.Time
}

// parseExportFlags parses and checks the flags of export.
func parseExportFlags(args []string, stderr io.Writer) (exportOptions, error) {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan export -camera ID -from TIME -to TIME -out FILE [-data DIR]\n\n"+
			"Cuts [from, to] of a camera's recording into one MP4 file that browsers play,\n"+
			"starting at the keyframe at or before -from, and writes FILE%s beside it:\n"+
			"the range, the source segments with their sha256, the clip's sha256.\n"+
			"Times are RFC 3339, e.g. 2025-03-14T09:27:00Z or 2025-03-14T16:27:00+07:00.\n\nflags:\n",
			record.ManifestSuffix)
		fs.PrintDefaults()
	}
	var o exportOptions
	var from, to string
	fs.StringVar(&o.data, "data", conf.Default().Data, "data `folder` of the engine (recordings under DIR/recordings)")
	fs.StringVar(&o.camera, "camera", "", "camera `ID`")
	fs.StringVar(&from, "from", "", "start of the range, RFC 3339 `time`")
	fs.StringVar(&to, "to", "", "end of the range, RFC 3339 `time`")
	fs.StringVar(&o.out, "out", "", "MP4 `file` to write (must not exist)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range []struct{ name, value string }{
		{"camera", o.camera}, {"from", from}, {"to", to}, {"out", o.out}, {"data", o.data},
	} {
		if f.value == "" {
			return o, fmt.Errorf("-%s is required", f.name)
		}
	}
	var err error
	if o.from, err = parseFlagTime("from", from); err != nil {
		return o, err
	}
	if o.to, err = parseFlagTime("to", to); err != nil {
		return o, err
	}
	if !o.to.After(o.from) {
		return o, fmt.Errorf("-to %s is not after -from %s", to, from)
	}
	return o, nil
}

// parseFlagTime parses the RFC 3339 value of flag name.
func parseFlagTime(name, value string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, value)
	if err != nil {
		return time.Time{}, fmt.Errorf("-%s %q: want an RFC 3339 time such as 2025-03-14T09:27:00Z", name, value)
	}
	return t, nil
}

// export is exportMain with its context and output streams.
func export(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseExportFlags(args, stderr)
	if err != nil {
		return err
	}
	clip, err := record.Export(ctx, conf.Config{Data: o.data}.RecordingsDir(), o.camera, o.from, o.to, o.out)
	if errors.Is(err, record.ErrUnknownCamera) {
		return fmt.Errorf("-camera %s: %w", o.camera, err)
	}
	if err != nil {
		return err
	}
	const layout = "2006-01-02T15:04:05.000Z07:00"
	fmt.Fprintf(stdout, "out       %s\n", o.out)
	fmt.Fprintf(stdout, "manifest  %s\n", o.out+record.ManifestSuffix)
	fmt.Fprintf(stdout, "sha256    %s\n", clip.SHA256)
	fmt.Fprintf(stdout, "start     %s\n", clip.Start.Format(layout))
	fmt.Fprintf(stdout, "end       %s\n", clip.End.Format(layout))
	fmt.Fprintf(stdout, "duration  %s (%d frames, %d bytes, %d segments)\n",
		clip.Duration().Round(time.Millisecond), clip.Frames, clip.Size, len(clip.Sources))
	for _, g := range clip.Gaps {
		fmt.Fprintf(stdout, "gap       %s to %s (%s not recorded)\n",
			g.Start.Format(layout), g.End.Format(layout), g.End.Sub(g.Start).Round(time.Millisecond))
	}
	return nil
}
