package clickhouse

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/sink"
)

func TestEventsEmbedded(t *testing.T) {
	db, err := OpenEmbedded(filepath.Join(t.TempDir(), "chdb"), chdbLibrary(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := &Store{Backend: db}
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	testEvents(t, s)
}

// testEvents writes a stream where counts outnumber violations and alerts
// a hundred to one, and checks that filtered pages are full and in order.
func testEvents(t *testing.T, s *Store) {
	ctx := t.Context()
	now := time.Now().UTC().Truncate(time.Millisecond)
	at := func(i int) time.Time { return now.Add(-time.Duration(i) * time.Second) }
	var all []sink.Event
	for i := range 2000 {
		cam := []string{"cam-a", "cam-b"}[i%2]
		typ := sink.TypeTrafficCount
		switch {
		case i%200 == 10:
			typ = sink.TypeViolationRedLight
		case i%200 == 20:
			typ = sink.TypeViolationWrongWay
		case i%200 == 30:
			typ = sink.TypeAlertSmoke
		case i%200 == 41:
			typ = sink.TypeAlertFire
		}
		all = append(all, sink.NewEvent(typ, cam, at(i)))
	}
	// A recording gap reported now about an hour two days ago: its ts lies
	// long before the time in its id.
	gap := sink.NewEvent(sink.TypeRecordingGap, "cam-a", now.Add(-50*time.Hour))
	all = append(all, gap)
	for batch := range slices.Chunk(all, 500) {
		if err := s.Write(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	// want is the newest events matching keep, as the store orders them.
	want := func(limit int, keep func(sink.Event) bool) []string {
		sorted := slices.Clone(all)
		// Every ts differs: the order needs no tie-break by id.
		slices.SortStableFunc(sorted, func(a, b sink.Event) int { return b.TS.Compare(a.TS) })
		var ids []string
		for _, e := range sorted {
			if keep(e) && len(ids) < limit {
				ids = append(ids, e.ID)
			}
		}
		return ids
	}
	isType := func(types ...string) func(sink.Event) bool {
		return func(e sink.Event) bool { return slices.Contains(types, e.Type) }
	}

	tests := []struct {
		name string
		f    EventFilter
		want []string
	}{
		{"violations by prefix, a full page", EventFilter{Types: []string{"violation."}, Limit: 15},
			want(15, isType(sink.TypeViolationRedLight, sink.TypeViolationWrongWay))},
		{"two exact types", EventFilter{Types: []string{sink.TypeAlertSmoke, sink.TypeAlertFire}, Limit: 100},
			want(100, isType(sink.TypeAlertSmoke, sink.TypeAlertFire))},
		{"prefix and exact type", EventFilter{Types: []string{"alert.", sink.TypeViolationWrongWay}, Limit: 100},
			want(100, isType(sink.TypeAlertSmoke, sink.TypeAlertFire, sink.TypeViolationWrongWay))},
		{"one camera", EventFilter{Cameras: []string{"cam-b"}, Types: []string{"alert."}, Limit: 100},
			want(100, func(e sink.Event) bool { return e.CameraID == "cam-b" && strings.HasPrefix(e.Type, "alert.") })},
		{"cameras and types", EventFilter{Cameras: []string{"cam-a", "cam-b"}, Types: []string{"violation.red_light"}, Limit: 3},
			want(3, isType(sink.TypeViolationRedLight))},
		{"before: strictly older", EventFilter{Types: []string{"violation."}, Before: at(210), Limit: 5},
			want(5, func(e sink.Event) bool { return strings.HasPrefix(e.Type, "violation.") && e.TS.Before(at(210)) })},
		{"since: at or after", EventFilter{Since: at(5), Limit: 100},
			want(100, func(e sink.Event) bool { return !e.TS.Before(at(5)) })},
		{"before and since", EventFilter{Since: at(400), Before: at(10), Types: []string{"violation."}, Limit: 100},
			want(100, func(e sink.Event) bool {
				return strings.HasPrefix(e.Type, "violation.") && !e.TS.Before(at(400)) && e.TS.Before(at(10))
			})},
		{"sub-millisecond bound", EventFilter{Before: at(10).Add(time.Microsecond), Cameras: []string{"cam-a"}, Limit: 1},
			[]string{all[10].ID}},
		{"no such type", EventFilter{Types: []string{"violation.no_helmet"}, Limit: 10}, nil},
		{"no such camera", EventFilter{Cameras: []string{"cam-1' OR '1'='1"}, Limit: 10}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.want) == 0 && tt.name != "no such type" && tt.name != "no such camera" {
				t.Fatal("the case selects nothing: a bad fixture")
			}
			got, err := s.Events(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range got {
				ids = append(ids, e.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Events(%+v): %d events %v\nwant %d %v", tt.f, len(ids), ids, len(tt.want), tt.want)
			}
		})
	}

	t.Run("paging covers every violation once", func(t *testing.T) {
		var seen []string
		f := EventFilter{Types: []string{"violation."}, Limit: 7}
		for range 100 {
			page, err := s.Events(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seen = append(seen, e.ID)
			}
			f.Before = page[len(page)-1].TS
		}
		if w := want(len(all), isType(sink.TypeViolationRedLight, sink.TypeViolationWrongWay)); !slices.Equal(seen, w) {
			t.Errorf("paged %d violations, want %d", len(seen), len(w))
		}
	})

	t.Run("bad filters", func(t *testing.T) {
		for _, f := range []EventFilter{
			{Limit: 0}, {Limit: MaxRecent + 1},
			{Types: []string{"violation"}, Limit: 1},
			{Types: []string{"violation.red_light' OR 1=1 --"}, Limit: 1},
			{Types: []string{".red_light"}, Limit: 1},
			{Types: []string{"Violation."}, Limit: 1},
			{Types: []string{""}, Limit: 1},
			{Types: make([]string, MaxFilterTypes+1), Limit: 1},
		} {
			if _, err := s.Events(ctx, f); !errors.Is(err, ErrBadArgument) {
				t.Errorf("Events(%+v) = %v, want ErrBadArgument", f, err)
			}
		}
	})

	t.Run("by id", func(t *testing.T) {
		for _, e := range []sink.Event{all[0], all[1010], all[1999], gap} {
			got, err := s.Event(ctx, e.ID)
			if err != nil {
				t.Fatalf("Event(%s): %v", e.ID, err)
			}
			if got.ID != e.ID || got.CameraID != e.CameraID || got.Type != e.Type || !got.TS.Equal(e.TS) {
				t.Errorf("Event(%s) = %+v, want %+v", e.ID, got, e)
			}
		}
		// Upper case is the same UUID.
		if got, err := s.Event(ctx, strings.ToUpper(all[5].ID)); err != nil || got.ID != all[5].ID {
			t.Errorf("Event(upper case) = %v, %v", got.ID, err)
		}
		for _, id := range []string{uuid.Must(uuid.NewV7()).String(), uuid.NewString()} {
			if _, err := s.Event(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("Event(unknown %s) = %v, want ErrNotFound", id, err)
			}
		}
		for _, id := range []string{"", "not-a-uuid", "x' OR 1=1 --"} {
			if _, err := s.Event(ctx, id); !errors.Is(err, ErrBadArgument) {
				t.Errorf("Event(%q) = %v, want ErrBadArgument", id, err)
			}
		}
	})
}
