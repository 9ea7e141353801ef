package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/auth"
	"github.com/matthan/matthan/api/store"
)

const cliPassword = "Muong-Phang-1954!"

// runCLI runs an offline command (admin or audit) with the given stdin and
// environment, and returns its output.
func runCLI(t *testing.T, cmd func(context.Context, []string, cliIO) error, args []string, stdin string, env map[string]string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmd(context.Background(), args, cliIO{strings.NewReader(stdin), &out, &errOut, func(k string) string { return env[k] }})
	return out.String(), errOut.String(), err
}

func TestAdminCommand(t *testing.T) {
	data := filepath.Join(t.TempDir(), "var")
	env := map[string]string{adminPasswordEnv: cliPassword}

	t.Run("create-ict-admin", func(t *testing.T) {
		out, _, err := runCLI(t, admin, []string{"create-ict-admin", "-data", data, "-user", "Lan.Admin", "-name", "Nguyễn Thị Lan"}, "", env)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "created agency ict") || !strings.Contains(out, "created ICT administrator lan.admin") {
			t.Errorf("output %q", out)
		}
		// A second one from standard input; the agency exists now.
		out, _, err = runCLI(t, admin, []string{"create-ict-admin", "-data", data, "-user", "hung"}, "Second-Admin-Pass-2\n", nil)
		if err != nil || strings.Contains(out, "created agency") {
			t.Fatalf("second admin: %q %v", out, err)
		}
		st := openTestStore(t, data)
		ict := must(st.ICTAgency(context.Background()))
		u := must(st.UserByName(context.Background(), "lan.admin"))
		if u.Role != store.RoleICTAdmin || u.AgencyID != ict.ID || u.DisplayName != "Nguyễn Thị Lan" {
			t.Errorf("user %+v", u)
		}
		hash := must(st.PasswordHash(context.Background(), u.ID))
		if ok, _ := auth.VerifyPassword(hash, cliPassword); !ok {
			t.Error("stored hash does not verify the password")
		}
		if n := len(must(st.Audit().Query(context.Background(), audit.Filter{Action: "user.create"}))); n != 2 {
			t.Errorf("%d user.create entries", n)
		}
	})

	for _, tc := range []struct {
		name  string
		args  []string
		stdin string
		env   map[string]string
		want  string
	}{
		{"weak password", []string{"create-ict-admin", "-data", data, "-user", "x-admin"}, "short\n", nil, "password does not meet"},
		{"password with user name", []string{"create-ict-admin", "-data", data, "-user", "minh"}, "Minh-Password-123\n", nil, "user name"},
		{"no password", []string{"create-ict-admin", "-data", data, "-user", "x-admin"}, "", nil, "no password"},
		{"user exists", []string{"create-ict-admin", "-data", data, "-user", "LAN.ADMIN"}, "", env, "already exists"},
		{"no -user", []string{"create-ict-admin", "-data", data}, "", env, "-user is required"},
		{"bad user name", []string{"create-ict-admin", "-data", data, "-user", "a'; DROP TABLE users; --"}, "", env, "username"},
		{"unknown task", []string{"drop-everything"}, "", nil, "unknown task"},
		{"unlock unknown user", []string{"unlock", "-data", data, "-user", "ghost"}, "", nil, "not found"},
		{"missing database", []string{"list-users", "-data", t.TempDir()}, "", nil, "no metadata database"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, err := runCLI(t, admin, tc.args, tc.stdin, tc.env)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			for _, s := range []string{out, errOut, err.Error()} {
				if strings.Contains(s, cliPassword) || (tc.stdin != "" && strings.Contains(s, strings.TrimSpace(tc.stdin))) {
					t.Errorf("the password was printed: %q", s)
				}
			}
		})
	}
	if _, _, err := runCLI(t, admin, nil, "", nil); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("no task: %v", err)
	}

	t.Run("list-users, unlock, reset-password", func(t *testing.T) {
		ctx := context.Background()
		st := openTestStore(t, data)
		u := must(st.UserByName(ctx, "hung"))
		for range 5 {
			must(st.LoginFailed(ctx, audit.Actor{}, u.ID, "bad_password", store.LockPolicy{MaxFailures: 5, Period: time.Hour}))
		}
		st.Close()
		out, _, err := runCLI(t, admin, []string{"list-users", "-data", data}, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 3 || !strings.HasPrefix(lines[1], "hung ") || !strings.Contains(lines[1], "locked until") ||
			!strings.Contains(lines[2], "lan.admin") || !strings.Contains(lines[2], "never") || !strings.Contains(lines[2], "active") {
			t.Fatalf("list-users:\n%s", out)
		}
		if _, _, err := runCLI(t, admin, []string{"unlock", "-data", data, "-user", "Hung"}, "", nil); err != nil {
			t.Fatal(err)
		}
		if _, _, err := runCLI(t, admin, []string{"reset-password", "-data", data, "-user", "hung"}, "Reset-Pass-2025x\n", nil); err != nil {
			t.Fatal(err)
		}
		out, _, _ = runCLI(t, admin, []string{"list-users", "-data", data}, "", nil)
		if strings.Contains(out, "locked") || !strings.Contains(out, "must change password") {
			t.Errorf("after unlock and reset:\n%s", out)
		}
		st = openTestStore(t, data)
		entries := must(st.Audit().Query(ctx, audit.Filter{Object: "user:" + u.ID, Action: "user.*"}))
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.Action)
			if !strings.HasPrefix(e.Actor.Address, "local:matthan-admin") {
				t.Errorf("entry %d actor %+v", e.Seq, e.Actor)
			}
		}
		if strings.Join(actions, ",") != "user.create,user.unlock,user.set_password" {
			t.Errorf("audited actions %v", actions)
		}
	})
}

func TestAuditCommand(t *testing.T) {
	data := t.TempDir()
	env := map[string]string{adminPasswordEnv: cliPassword}
	if _, _, err := runCLI(t, admin, []string{"create-ict-admin", "-data", data, "-user", "lan"}, "", env); err != nil {
		t.Fatal(err)
	}
	// Some more entries: live views with purposes.
	st := openTestStore(t, data)
	for i := range 5 {
		must(st.Audit().Record(context.Background(), audit.Entry{Action: "camera.live_view", Object: "camera:gate-1",
			Actor: audit.Actor{UserID: "u1", Purpose: "traffic_safety", Requester: "police"}, After: json.RawMessage(`{"i":` + string(rune('0'+i)) + `}`)}))
	}
	st.Close()

	out, _, err := runCLI(t, auditCmd, []string{"verify", "-data", data}, "", nil)
	if err != nil || !strings.Contains(out, "entries  7") || !strings.Contains(out, "ok: the chain is intact") {
		t.Fatalf("verify intact: %q %v", out, err)
	}
	out, _, err = runCLI(t, auditCmd, []string{"list", "-data", data, "-action", "camera.*", "-after", "3", "-limit", "2"}, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []audit.Entry
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[0].Seq != 4 || got[1].Seq != 5 || got[0].Actor.Requester != "police" {
		t.Errorf("list: %+v", got)
	}
	for _, bad := range [][]string{{"list", "-data", data, "-limit", "5000"}, {"list", "-data", data, "-from", "yesterday"}, {"nope"}} {
		if _, _, err := runCLI(t, auditCmd, bad, "", nil); err == nil {
			t.Errorf("%v: no error", bad)
		}
	}

	// Tampering with the file makes verify fail, naming the entry.
	raw, err := sql.Open("sqlite", "file:"+store.Path(data))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, tc := range []struct {
		name, sql, want string
	}{
		{"edited row", `UPDATE audit_entries SET purpose = 'rescue' WHERE seq = 5`, "entry 5"},
		{"deleted row", `DELETE FROM audit_entries WHERE seq = 3`, "entry 3"},
	} {
		if _, err := raw.Exec(tc.sql); err != nil {
			t.Fatal(err)
		}
		out, _, err := runCLI(t, auditCmd, []string{"verify", "-data", data}, "", nil)
		if !errors.Is(err, audit.ErrTampered) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(out, "first bad entry") {
			t.Errorf("%s: %q %v, want %s", tc.name, out, err, tc.want)
		}
	}
	if _, _, err := runCLI(t, auditCmd, []string{"verify", "-data", t.TempDir()}, "", nil); err == nil {
		t.Error("verify of a folder without a database passed")
	}
}

// openTestStore opens the metadata store under data for checks.
func openTestStore(t *testing.T, data string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Path(data), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// must returns v and panics on err: for test fixtures.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
