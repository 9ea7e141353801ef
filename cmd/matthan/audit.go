package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/matthan/matthan/api/audit"
)

// auditMain runs `matthan audit verify|list -data DIR …`: offline checks
// and reads of the audit log.
func auditMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return auditCmd(ctx, args, cliIO{os.Stdin, os.Stdout, os.Stderr, os.Getenv})
}

// auditCmd is auditMain with its context and streams.
func auditCmd(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(cio.stderr, "usage: matthan audit TASK -data DIR [flags]\n\ntasks:\n"+
			"  verify  walk the hash chain; exit status 1 and the first bad entry when it was tampered with\n"+
			"  list    print entries as JSON lines (filters: -user, -action, -object, -from, -to; paging: -after, -limit)\n")
		return flag.ErrHelp
	}
	switch args[0] {
	case "verify":
		return auditVerify(ctx, args[1:], cio)
	case "list":
		return auditList(ctx, args[1:], cio)
	}
	return fmt.Errorf("unknown task %q (matthan audit -h lists them)", args[0])
}

// auditVerify runs `matthan audit verify -data DIR`. Tampering is an
// error, so the exit status is 1.
func auditVerify(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("verify", "matthan audit verify -data DIR", false, cio.stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, f.data, false)
	if err != nil {
		return err
	}
	defer st.Close()
	r, err := st.Audit().Verify(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(cio.stdout, "entries  %d\n", r.Entries)
	if !r.OK() {
		fmt.Fprintf(cio.stdout, "first bad entry  %d: %s\n", r.FirstBad, r.Problem)
		fmt.Fprintf(cio.stdout, "last good hash   %s\n", r.Head)
		return r.Err()
	}
	fmt.Fprintf(cio.stdout, "head     %s\n", r.Head)
	fmt.Fprintln(cio.stdout, "ok: the chain is intact (keep the head hash elsewhere to detect a rewrite of the whole log)")
	return nil
}

// auditList runs `matthan audit list -data DIR [filters]`.
func auditList(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("list", "matthan audit list -data DIR [-user ID] [-action A|PREFIX*] [-object KIND:ID] [-from T] [-to T] [-after SEQ] [-limit N]", false, cio.stderr)
	var flt audit.Filter
	var from, to string
	f.fs.StringVar(&flt.UserID, "user", "", "actor's user `id`")
	f.fs.StringVar(&flt.Action, "action", "", "`action`, or a prefix ending in '*'")
	f.fs.StringVar(&flt.Object, "object", "", "`object` such as camera:gate-1")
	f.fs.StringVar(&from, "from", "", "entries at or after this RFC 3339 `time`")
	f.fs.StringVar(&to, "to", "", "entries before this RFC 3339 `time`")
	f.fs.Int64Var(&flt.After, "after", 0, "entries after this sequence `number` (paging)")
	f.fs.IntVar(&flt.Limit, "limit", audit.DefaultLimit, fmt.Sprintf("at most `N` entries (1 to %d)", audit.MaxLimit))
	if err := f.parse(args); err != nil {
		return err
	}
	var err error
	if from != "" {
		if flt.From, err = parseFlagTime("from", from); err != nil {
			return err
		}
	}
	if to != "" {
		if flt.To, err = parseFlagTime("to", to); err != nil {
			return err
		}
	}
	st, err := openStore(ctx, f.data, false)
	if err != nil {
		return err
	}
	defer st.Close()
	entries, err := st.Audit().Query(ctx, flt)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(cio.stdout)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return nil
}
