package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"

	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
)

// evidenceMain runs `matthan evidence export|verify|key`: it makes a
// signed evidence package from the recordings, checks one offline, or
// shows the node's public key.
func evidenceMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return evidenceCmd(ctx, args, os.Stdout, os.Stderr)
}

// evidenceUsage is the usage of the evidence command.
const evidenceUsage = `usage:
  matthan evidence export -camera ID -from TIME -to TIME -purpose PURPOSE -requester WHO -operator NAME -out DIR [flags]
  matthan evidence verify [-pubkey FILE] PACKAGE
  matthan evidence key [-data DIR]

export  cuts a clip of a camera's recording into a ZIP evidence package with a
        manifest signed by the node's key (DIR/keys/node_ed25519, made on first use)
verify  checks a package (the ZIP or its unzipped folder): signature, every file's
        sha256 and size, nothing added; exits non-zero on any failure
key     prints the node's public key file and fingerprint, to hand to recipients

'matthan evidence SUBCOMMAND -h' shows the flags.
`

// evidenceCmd is evidenceMain with its context and output streams.
func evidenceCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, evidenceUsage)
		return flag.ErrHelp
	}
	switch args[0] {
	case "export":
		return evidenceExport(ctx, args[1:], stdout, stderr)
	case "verify":
		return evidenceVerify(args[1:], stdout, stderr)
	case "key":
		return evidenceKey(args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, evidenceUsage)
		return flag.ErrHelp
	}
	return fmt.Errorf("unknown subcommand %q: want export, verify or key", args[0])
}

// stringsFlag is a flag that may be given more than once.
type stringsFlag []string

// String returns the values given, comma-separated.
func (s *stringsFlag) String() string { return strings.Join(*s, ",") }

// Set adds a value.
func (s *stringsFlag) Set(v string) error { *s = append(*s, v); return nil }

// evidenceExportFlags parses and checks the flags of evidence export.
func evidenceExportFlags(args []string, stderr io.Writer) (req evidence.Request, data, out string, err error) {
	fs := flag.NewFlagSet("evidence export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan evidence export -camera ID -from TIME -to TIME -purpose PURPOSE -requester WHO -operator NAME -out DIR [flags]\n\n"+
			"Cuts [from, to] of a camera's recording into a ZIP evidence package in DIR: the clip,\n"+
			"the recorder's manifest, optional snapshots, and manifest.json signed by the node's key.\n"+
			"Purposes (R-4.1): %s.\n"+
			"Times are RFC 3339, e.g. 2025-03-14T09:27:00Z or 2025-03-14T16:27:00+07:00.\n\nflags:\n",
			strings.Join(purposeNames(), ", "))
		fs.PrintDefaults()
	}
	var from, to, purpose string
	var snapshots stringsFlag
	fs.StringVar(&data, "data", conf.Default().Data, "data `folder` of the engine (recordings and keys under it)")
	fs.StringVar(&req.Camera, "camera", "", "camera `ID`")
	fs.StringVar(&from, "from", "", "start of the range, RFC 3339 `time`")
	fs.StringVar(&to, "to", "", "end of the range, RFC 3339 `time`")
	fs.StringVar(&purpose, "purpose", "", "what the export serves (R-4.1): a `purpose` from the list above")
	fs.StringVar(&req.PurposeText, "purpose-text", "", "details of the purpose, e.g. a case number; required with -purpose other")
	fs.StringVar(&req.Requester, "requester", "", "`person or agency` who asked for the evidence (R-16.3)")
	fs.StringVar(&req.Operator.Name, "operator", "", "`name` of the person making the export (R-16.3)")
	fs.StringVar(&req.Operator.UserID, "operator-id", "", "account `id` of the operator, if any")
	fs.StringVar(&req.Operator.Agency, "agency", "", "`agency` of the operator")
	fs.BoolVar(&req.OutsideAgency, "outside-agency", false, "the requester is outside the operator's agency (needs -approval, R-18.3)")
	fs.StringVar(&req.ApprovalRef, "approval", "", "`reference` (number, date) of the written approval to share outside the agency")
	fs.Var(&snapshots, "snapshot", "JPEG `file` to include under snapshots/ (repeatable)")
	fs.StringVar(&req.Node, "node", "", "node `name` in the manifest (default the host name)")
	fs.StringVar(&out, "out", "", "`folder` to write the package to")
	if err = fs.Parse(args); err != nil {
		return req, data, out, err
	}
	if fs.NArg() > 0 {
		return req, data, out, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for _, f := range []struct{ name, value string }{
		{"camera", req.Camera}, {"from", from}, {"to", to}, {"purpose", purpose},
		{"requester", req.Requester}, {"operator", req.Operator.Name}, {"out", out}, {"data", data},
	} {
		if strings.TrimSpace(f.value) == "" {
			return req, data, out, fmt.Errorf("-%s is required", f.name)
		}
	}
	if req.OutsideAgency && strings.TrimSpace(req.ApprovalRef) == "" {
		return req, data, out, fmt.Errorf("-outside-agency needs -approval: sharing outside the agency needs the system manager's written approval (R-18.3)")
	}
	req.Purpose = evidence.Purpose(purpose)
	if req.From, err = parseFlagTime("from", from); err != nil {
		return req, data, out, err
	}
	if req.To, err = parseFlagTime("to", to); err != nil {
		return req, data, out, err
	}
	for _, p := range snapshots {
		b, err := os.ReadFile(p)
		if err != nil {
			return req, data, out, fmt.Errorf("-snapshot: %w", err)
		}
		req.Snapshots = append(req.Snapshots, evidence.Snapshot{Name: filepath.Base(p), JPEG: b})
	}
	return req, data, out, nil
}

// purposeNames lists the purposes.
func purposeNames() []string {
	s := make([]string, len(evidence.Purposes))
	for i, p := range evidence.Purposes {
		s[i] = string(p)
	}
	return s
}

// evidenceExport runs evidence export.
func evidenceExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	req, data, out, err := evidenceExportFlags(args, stderr)
	if err != nil {
		return err
	}
	if err := req.Validate(); err != nil {
		return err
	}
	key, err := evidence.LoadOrCreateKey(evidence.KeyDir(data))
	if err != nil {
		return err
	}
	pkg, err := evidence.Export(ctx, req, conf.Config{Data: data}.RecordingsDir(), out, key)
	if err != nil {
		return err
	}
	m := pkg.Manifest
	fmt.Fprintf(stdout, "package   %s\n", pkg.Path)
	fmt.Fprintf(stdout, "id        %s\n", m.ID)
	fmt.Fprintf(stdout, "sha256    %s (%d bytes)\n", pkg.SHA256, pkg.Size)
	fmt.Fprintf(stdout, "actual    %s to %s (%d frames, %d segments)\n",
		fmtReportTime(m.Actual.From), fmtReportTime(m.Actual.To), m.Frames, len(m.Sources))
	for _, g := range m.Gaps {
		fmt.Fprintf(stdout, "gap       %s to %s not recorded\n", fmtReportTime(g.From), fmtReportTime(g.To))
	}
	fmt.Fprintf(stdout, "signer    %s\n", m.Signer.Fingerprint)
	fmt.Fprintf(stdout, "pubkey    %s\n", filepath.Join(evidence.KeyDir(data), evidence.PublicKeyFile))
	return nil
}

// evidenceVerify runs evidence verify.
func evidenceVerify(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence verify", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: matthan evidence verify [-pubkey FILE] PACKAGE\n\n"+
			"Checks an evidence package, the ZIP file or the folder it was unzipped into: the\n"+
			"signature of manifest.json, every listed file's size and sha256, and that nothing\n"+
			"else is there. Without -pubkey only self-consistency is checked: anyone can sign\n"+
			"with a key of their own. Exits non-zero on any failure.\n\nflags:\n")
		fs.PrintDefaults()
	}
	pubFile := fs.String("pubkey", "", "the node's public key `file` ("+evidence.PublicKeyFile+", from its operator)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("want one PACKAGE after the flags, got %q", fs.Args())
	}
	var trusted ed25519.PublicKey
	if *pubFile != "" {
		var err error
		if trusted, err = evidence.ReadPublicKey(*pubFile); err != nil {
			return fmt.Errorf("-pubkey: %w", err)
		}
	}
	p := fs.Arg(0)
	r, err := evidence.Verify(p, trusted)
	if errors.Is(err, evidence.ErrNotPackage) {
		return err
	}
	printReport(stdout, r)
	if err != nil {
		return fmt.Errorf("%s FAILED verification, problems: %d", p, len(r.Problems))
	}
	return nil
}

// printReport prints a verification report. Text from the manifest is
// untrusted: control characters are quoted, not sent to the terminal.
func printReport(w io.Writer, r evidence.Report) {
	m := r.Manifest
	line := func(label, format string, args ...any) {
		fmt.Fprintf(w, "%-10s%s\n", label, fmt.Sprintf(format, args...))
	}
	line("package", "%s (%s)", clean(r.Path), r.Format)
	line("id", "%s", clean(m.ID))
	line("camera", "%s", clean(m.Camera))
	line("requested", "%s to %s", fmtReportTime(m.Requested.From), fmtReportTime(m.Requested.To))
	line("actual", "%s to %s (%d frames, %d segments)", fmtReportTime(m.Actual.From), fmtReportTime(m.Actual.To), m.Frames, len(m.Sources))
	for _, g := range m.Gaps {
		line("gap", "%s to %s not recorded", fmtReportTime(g.From), fmtReportTime(g.To))
	}
	purpose := string(m.Purpose)
	if m.PurposeText != "" {
		purpose += ": " + m.PurposeText
	}
	line("purpose", "%s", clean(purpose))
	line("requester", "%s", clean(m.Requester))
	op := m.Operator.Name
	if m.Operator.UserID != "" {
		op += " (user " + m.Operator.UserID + ")"
	}
	if m.Operator.Agency != "" {
		op += ", " + m.Operator.Agency
	}
	line("operator", "%s", clean(op))
	if m.OutsideAgency || m.ApprovalRef != "" {
		line("approval", "%s (outside agency: %v)", clean(m.ApprovalRef), m.OutsideAgency)
	}
	line("created", "%s at node %s", fmtReportTime(m.Created), clean(m.Node))
	line("signer", "%s", clean(m.Signer.Fingerprint))
	switch {
	case !r.SignatureValid:
		line("signature", "FAIL: does not verify against the key named in the manifest")
	case r.TrustedKey == "":
		line("signature", "OK, SELF-CONSISTENT ONLY: checked against the key named in the manifest, which")
		line("", "anyone could have put there; pass -pubkey with the node's public key to check who signed it")
	case r.Trusted:
		line("signature", "OK, by the trusted key %s", r.TrustedKey)
	default:
		line("signature", "FAIL: not by the trusted key %s", r.TrustedKey)
	}
	fmt.Fprintln(w, "files")
	for _, f := range r.Files {
		status := "OK  "
		if !f.OK {
			status = "FAIL"
		}
		fmt.Fprintf(w, "  %s  %-28s %10d bytes  sha256 %s\n", status, clean(f.File.Path), f.File.Size, clean(f.File.SHA256))
		if !f.OK && f.SHA256 != "" {
			fmt.Fprintf(w, "        %-28s %10d bytes  sha256 %s found\n", "", f.Size, f.SHA256)
		}
	}
	for _, u := range r.Unlisted {
		fmt.Fprintf(w, "  FAIL  %-28s not in the manifest\n", clean(u))
	}
	if r.OK() {
		line("result", "VERIFIED")
		return
	}
	fmt.Fprintln(w, "problems")
	for _, p := range r.Problems {
		fmt.Fprintf(w, "  - %s\n", clean(p.Error()))
	}
	line("result", "FAILED, problems: %d", len(r.Problems))
}

// clean quotes s when it holds a control character.
func clean(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}

// fmtReportTime formats a time for reports, UTC to the millisecond.
func fmtReportTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// evidenceKey runs evidence key.
func evidenceKey(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("evidence key", flag.ContinueOnError)
	fs.SetOutput(stderr)
	data := fs.String("data", conf.Default().Data, "data `folder` of the engine (keys under DIR/keys)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	key, err := evidence.LoadOrCreateKey(evidence.KeyDir(*data))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "pubkey       %s\n", filepath.Join(evidence.KeyDir(*data), evidence.PublicKeyFile))
	fmt.Fprintf(stdout, "fingerprint  %s\n", key.Fingerprint())
	return nil
}
