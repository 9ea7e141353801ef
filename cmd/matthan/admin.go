package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"os/user"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/cmd/matthan/internal/conf"
)

// adminPasswordEnv holds the password for admin tasks that set one, when
// it is not piped on standard input.
const adminPasswordEnv = "MATTHAN_ADMIN_PASSWORD"

// cliIO is what an offline command reads and writes.
type cliIO struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// adminTasks are the subcommands of `matthan admin`.
var adminTasks = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, cio cliIO) error
}{
	{"create-ict-admin", "create the ICT department (if missing) and an administrator account in it", createICTAdmin},
	{"list-users", "list the accounts: role, agency, last login, lockout, password age", listUsers},
	{"unlock", "end an account's lockout after failed logins", unlockUser},
	{"reset-password", "set an account's password; the user must change it at the next login", resetPassword},
}

// adminMain runs `matthan admin TASK -data DIR …`: offline account tasks
// on the metadata store, each audited as done by the local operator.
func adminMain(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return admin(ctx, args, cliIO{os.Stdin, os.Stdout, os.Stderr, os.Getenv})
}

// admin is adminMain with its context and streams.
func admin(ctx context.Context, args []string, cio cliIO) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "help" {
		fmt.Fprintf(cio.stderr, "usage: matthan admin TASK -data DIR [flags]\n\ntasks:\n")
		for _, t := range adminTasks {
			fmt.Fprintf(cio.stderr, "  %-17s %s\n", t.name, t.summary)
		}
		fmt.Fprintf(cio.stderr, "\nPasswords are read from $%s or the first line of standard input.\n", adminPasswordEnv)
		return flag.ErrHelp
	}
	for _, t := range adminTasks {
		if t.name == args[0] {
			return t.run(ctx, args[1:], cio)
		}
	}
	return fmt.Errorf("unknown task %q (matthan admin -h lists them)", args[0])
}

// offlineFlags are the flags every offline task has.
type offlineFlags struct {
	fs       *flag.FlagSet
	data     string
	user     string
	withUser bool // -user is defined and required
}

// newOfflineFlags makes the flag set of task; withUser adds -user.
func newOfflineFlags(task, usage string, withUser bool, stderr io.Writer) *offlineFlags {
	f := &offlineFlags{fs: flag.NewFlagSet(task, flag.ContinueOnError), withUser: withUser}
	f.fs.SetOutput(stderr)
	f.fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: %s\n\nflags:\n", usage)
		f.fs.PrintDefaults()
	}
	f.fs.StringVar(&f.data, "data", conf.Default().Data, "data `folder` of the engine (metadata in DIR/"+store.FileName+")")
	if withUser {
		f.fs.StringVar(&f.user, "user", "", "login `name` of the account")
	}
	return f
}

// parse parses args and checks the common flags.
func (f *offlineFlags) parse(args []string) error {
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	if f.fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", f.fs.Args())
	}
	if f.data == "" {
		return errors.New("-data is required")
	}
	if f.withUser && f.user == "" {
		return errors.New("-user is required")
	}
	return nil
}

// openStore opens the metadata store under data. Unless create is set, a
// missing database is an error: reading an empty new one would hide a
// wrong -data.
func openStore(ctx context.Context, data string, create bool) (*store.Store, error) {
	path := store.Path(data)
	if create {
		if err := os.MkdirAll(data, 0o750); err != nil {
			return nil, err
		}
	} else if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no metadata database at %s (is -data the engine's data folder?)", path)
	}
	return store.Open(ctx, path, store.Options{})
}

// openUser opens the metadata store under -data and finds the account named
// by -user; the caller closes the store.
func openUser(ctx context.Context, f *offlineFlags) (*store.Store, store.User, error) {
	st, err := openStore(ctx, f.data, false)
	if err != nil {
		return nil, store.User{}, err
	}
	u, err := st.UserByName(ctx, f.user)
	if err != nil {
		st.Close()
		return nil, store.User{}, fmt.Errorf("-user %s: %w", f.user, err)
	}
	return st, u, nil
}

// localActor is who offline tasks are audited as: the operating-system
// account that ran them on this machine.
func localActor() audit.Actor {
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return audit.Actor{Address: "local:matthan-admin (os user " + name + ")"}
}

// readPassword takes the password from the environment or the first line
// of standard input. It never echoes it.
func readPassword(cio cliIO) (string, error) {
	if p := cio.getenv(adminPasswordEnv); p != "" {
		return p, nil
	}
	line, err := bufio.NewReader(cio.stdin).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	if line == "" {
		return "", fmt.Errorf("no password: set $%s or pipe it on standard input", adminPasswordEnv)
	}
	return line, nil
}

// createICTAdmin runs `matthan admin create-ict-admin -data DIR -user NAME`.
func createICTAdmin(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("create-ict-admin", "matthan admin create-ict-admin -data DIR -user NAME [-name 'Full Name']", true, cio.stderr)
	display := f.fs.String("name", "", "the administrator's full `name`")
	if err := f.parse(args); err != nil {
		return err
	}
	username := store.NormalizeUsername(f.user)
	password, err := readPassword(cio)
	if err != nil {
		return err
	}
	if err := auth.CheckPassword(username, password); err != nil {
		return err
	}
	st, err := openStore(ctx, f.data, true)
	if err != nil {
		return err
	}
	defer st.Close()
	by := localActor()
	_, missing := st.ICTAgency(ctx)
	ict, err := st.EnsureICTAgency(ctx, by)
	if err != nil {
		return err
	}
	if errors.Is(missing, store.ErrNotFound) {
		fmt.Fprintf(cio.stdout, "created agency %s (%s), the ICT department\n", ict.ID, ict.Name)
	}
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		return err
	}
	u, err := st.CreateUser(ctx, by, store.User{AgencyID: ict.ID, Username: username, DisplayName: *display, Role: store.RoleICTAdmin}, hash)
	if err != nil {
		return err
	}
	fmt.Fprintf(cio.stdout, "created ICT administrator %s (id %s)\n", u.Username, u.ID)
	return nil
}

// listUsers runs `matthan admin list-users -data DIR`.
func listUsers(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("list-users", "matthan admin list-users -data DIR", false, cio.stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	st, err := openStore(ctx, f.data, false)
	if err != nil {
		return err
	}
	defer st.Close()
	users, err := st.Users(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	tw := tabwriter.NewWriter(cio.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tROLE\tAGENCY\tLAST LOGIN\tPASSWORD AGE\tSTATE")
	for _, u := range users {
		last := "never"
		if !u.LastLogin.IsZero() {
			last = u.LastLogin.Format(time.RFC3339)
		}
		var state []string
		if u.Disabled {
			state = append(state, "disabled")
		}
		if u.Locked(now) {
			state = append(state, "locked until "+u.LockedUntil.Format(time.RFC3339))
		}
		if u.MustChangePassword {
			state = append(state, "must change password")
		}
		if len(state) == 0 {
			state = append(state, "active")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%dd\t%s\n", u.Username, u.Role, u.AgencyID, last,
			int(now.Sub(u.PasswordChanged).Hours()/24), strings.Join(state, ", "))
	}
	return tw.Flush()
}

// unlockUser runs `matthan admin unlock -data DIR -user NAME`.
func unlockUser(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("unlock", "matthan admin unlock -data DIR -user NAME", true, cio.stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	st, u, err := openUser(ctx, f)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Unlock(ctx, localActor(), u.ID); err != nil {
		return err
	}
	fmt.Fprintf(cio.stdout, "unlocked %s\n", u.Username)
	return nil
}

// resetPassword runs `matthan admin reset-password -data DIR -user NAME`.
func resetPassword(ctx context.Context, args []string, cio cliIO) error {
	f := newOfflineFlags("reset-password", "matthan admin reset-password -data DIR -user NAME", true, cio.stderr)
	if err := f.parse(args); err != nil {
		return err
	}
	password, err := readPassword(cio)
	if err != nil {
		return err
	}
	st, u, err := openUser(ctx, f)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := auth.New(st, auth.Config{}, nil, nil).SetPassword(ctx, localActor(), u.ID, password); err != nil {
		return err
	}
	fmt.Fprintf(cio.stdout, "password of %s set; it must be changed at the next login, and its sessions ended\n", u.Username)
	return nil
}
