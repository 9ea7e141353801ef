package audit_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/store"
)

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// logWith opens a fresh store, appends n entries (one a minute from t0,
// alternating two actors) and returns the log and a raw connection to the
// same database file for tampering.
func logWith(t *testing.T, n int) (*audit.Log, *sql.DB) {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), store.FileName)
	st, err := store.Open(ctx, path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	l := st.Audit()
	for i := range n {
		actor := audit.Actor{UserID: "u1", Username: "lan", AgencyID: "police", Address: "192.0.2.1:1", Purpose: "traffic_safety"}
		action := "camera.live_view"
		if i%2 == 1 {
			actor = audit.Actor{UserID: "u2", AgencyID: "forest", Requester: "Toà án huyện"}
			action = "evidence.export"
		}
		_, err := l.Record(ctx, audit.Entry{Time: t0.Add(time.Duration(i) * time.Minute), Actor: actor, Action: action,
			Object: fmt.Sprintf("camera:cam-%d", i%3), After: []byte(fmt.Sprintf(`{ "n" : %d }`, i))})
		if err != nil {
			t.Fatal(err)
		}
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return l, raw
}

// TestVerifyDetectsTampering edits, deletes, inserts and reorders rows
// with raw SQL, as someone with access to the file would, and checks that
// Verify names the first bad entry.
func TestVerifyDetectsTampering(t *testing.T) {
	const n = 10
	cases := []struct {
		name     string
		tamper   []string
		firstBad int64
	}{
		{"untouched", nil, 0},
		{"edited object", []string{`UPDATE audit_entries SET object = 'camera:other' WHERE seq = 4`}, 4},
		{"edited after json", []string{`UPDATE audit_entries SET after_json = '{"n":99}' WHERE seq = 7`}, 7},
		{"edited time", []string{`UPDATE audit_entries SET at_ms = at_ms + 1 WHERE seq = 1`}, 1},
		{"edited purpose", []string{`UPDATE audit_entries SET purpose = 'rescue' WHERE seq = 10`}, 10},
		{"edited and rehashed without the next link", []string{
			`UPDATE audit_entries SET object = 'x', hash = (SELECT hash FROM audit_entries WHERE seq = 2) WHERE seq = 5`}, 5},
		{"deleted in the middle", []string{`DELETE FROM audit_entries WHERE seq = 3`}, 3},
		{"deleted first", []string{`DELETE FROM audit_entries WHERE seq = 1`}, 1},
		{"deleted last", []string{`DELETE FROM audit_entries WHERE seq = 10`}, 10},
		{"deleted last, head rewound", []string{`DELETE FROM audit_entries WHERE seq = 10`,
			`UPDATE audit_head SET seq = 9`}, 10},
		{"deleted all", []string{`DELETE FROM audit_entries`}, 1},
		{"appended outside the log", []string{`INSERT INTO audit_entries SELECT seq + 1, at_ms, actor_user, actor_name,
			actor_agency, client, purpose, requester, action, object, before_json, after_json, hash, hash FROM audit_entries WHERE seq = 10`}, 11},
		{"renumbered to hide a deletion", []string{`DELETE FROM audit_entries WHERE seq = 6`,
			`UPDATE audit_entries SET seq = seq - 1 WHERE seq > 6`, `UPDATE audit_head SET seq = 9`}, 6},
		{"two entries swapped", []string{`UPDATE audit_entries SET seq = 100 WHERE seq = 2`,
			`UPDATE audit_entries SET seq = 2 WHERE seq = 3`, `UPDATE audit_entries SET seq = 3 WHERE seq = 100`}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, raw := logWith(t, n)
			for _, q := range tc.tamper {
				if _, err := raw.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			r, err := l.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if r.FirstBad != tc.firstBad {
				t.Fatalf("FirstBad = %d (%s), want %d", r.FirstBad, r.Problem, tc.firstBad)
			}
			if tc.firstBad == 0 {
				if r.Err() != nil || r.Entries != n || len(r.Head) != 64 {
					t.Fatalf("intact chain: %+v", r)
				}
				return
			}
			if !errors.Is(r.Err(), audit.ErrTampered) || !strings.Contains(r.Err().Error(), fmt.Sprintf("entry %d", tc.firstBad)) {
				t.Errorf("Err() = %v", r.Err())
			}
		})
	}
}

func TestQuery(t *testing.T) {
	ctx := context.Background()
	l, _ := logWith(t, 10)
	seqs := func(es []audit.Entry) string {
		var s []string
		for _, e := range es {
			s = append(s, fmt.Sprint(e.Seq))
		}
		return strings.Join(s, ",")
	}
	for _, tc := range []struct {
		name string
		f    audit.Filter
		want string
	}{
		{"all", audit.Filter{}, "1,2,3,4,5,6,7,8,9,10"},
		{"by user", audit.Filter{UserID: "u2"}, "2,4,6,8,10"},
		{"by agency", audit.Filter{AgencyID: "police"}, "1,3,5,7,9"},
		{"by action", audit.Filter{Action: "evidence.export"}, "2,4,6,8,10"},
		{"by action prefix", audit.Filter{Action: "camera.*"}, "1,3,5,7,9"},
		{"prefix matches no wildcard", audit.Filter{Action: "camera%"}, ""},
		{"by object", audit.Filter{Object: "camera:cam-0"}, "1,4,7,10"},
		{"time range", audit.Filter{From: t0.Add(2 * time.Minute), To: t0.Add(5 * time.Minute)}, "3,4,5"},
		{"page 1", audit.Filter{Limit: 3}, "1,2,3"},
		{"page 2", audit.Filter{Limit: 3, After: 3}, "4,5,6"},
		{"newest first", audit.Filter{Newest: true, Limit: 3}, "10,9,8"},
		{"newest, next page", audit.Filter{Newest: true, Limit: 3, Before: 8}, "7,6,5"},
		{"combined", audit.Filter{UserID: "u1", Object: "camera:cam-1", From: t0}, "5"},
		{"injection string", audit.Filter{Object: "x' OR '1'='1"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, err := l.Query(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := seqs(es); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	es, _ := l.Query(ctx, audit.Filter{Object: "camera:cam-1", Limit: 1})
	e := es[0]
	if e.Actor.Requester != "Toà án huyện" || string(e.After) != `{"n":1}` || !e.Time.Equal(t0.Add(time.Minute)) {
		t.Errorf("entry %+v after %s", e, e.After)
	}
	for _, f := range []audit.Filter{{Limit: -1}, {Limit: audit.MaxLimit + 1}, {After: -1}} {
		if _, err := l.Query(ctx, f); !errors.Is(err, audit.ErrInvalidFilter) {
			t.Errorf("filter %+v: %v", f, err)
		}
	}
}

func TestRecordRefusesBadEntries(t *testing.T) {
	l, _ := logWith(t, 0)
	for _, e := range []audit.Entry{
		{},
		{Action: "x", Before: []byte("{not json")},
		{Action: "x", After: []byte(`"unterminated`)},
	} {
		if _, err := l.Record(context.Background(), e); !errors.Is(err, audit.ErrInvalidEntry) {
			t.Errorf("%+v: %v", e, err)
		}
	}
	if r, _ := l.Verify(context.Background()); !r.OK() || r.Entries != 0 {
		t.Errorf("after refusals: %+v", r)
	}
}
