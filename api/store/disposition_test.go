package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
)

func TestSetDisposition(t *testing.T) {
	ctx := context.Background()
	s, clk, _ := openTest(t)
	buildWorld(t, s, clk)
	by := audit.Actor{UserID: "u7", Username: "tuan", AgencyID: "police", Address: "192.0.2.9:4000"}
	id := func() string { return uuid.Must(uuid.NewV7()).String() }
	long := strings.Repeat("ả", MaxReasonLength) // 1000 characters, 3000 bytes
	tests := []struct {
		name string
		d    Disposition
		want string // "" = accepted; else a part of the error
	}{
		{"confirm a violation", Disposition{EventType: "violation.red_light", Decision: DecisionConfirmed, Reason: "  biển số rõ  "}, ""},
		{"reject a violation", Disposition{EventType: "violation.wrong_way", Decision: DecisionRejected, Reason: "xe cứu thương"}, ""},
		{"acknowledge an alert without a reason", Disposition{EventType: "alert.smoke", Decision: DecisionAcknowledged}, ""},
		{"acknowledge an alert with a reason", Disposition{EventType: "alert.fire", Decision: DecisionAcknowledged, Reason: "đội 2 đã đến"}, ""},
		{"a reason of 1000 characters", Disposition{EventType: "violation.red_light", Decision: DecisionConfirmed, Reason: long}, ""},
		{"a reason of 1001 characters", Disposition{EventType: "violation.red_light", Decision: DecisionConfirmed, Reason: long + "a"},
			"reason: 1001 characters, at most 1000"},
		{"confirm without a reason", Disposition{EventType: "violation.red_light", Decision: DecisionConfirmed}, "reason is required to confirm"},
		{"reject with a blank reason", Disposition{EventType: "violation.red_light", Decision: DecisionRejected, Reason: " \t\n"}, "reason is required to reject"},
		{"acknowledge a violation", Disposition{EventType: "violation.red_light", Decision: DecisionAcknowledged, Reason: "x"},
			`decision "acknowledged" does not apply to violation.red_light events: want confirmed or rejected`},
		{"confirm an alert", Disposition{EventType: "alert.smoke", Decision: DecisionConfirmed, Reason: "x"},
			`decision "confirmed" does not apply to alert.smoke events: want acknowledged`},
		{"a count", Disposition{EventType: "traffic.count", Decision: DecisionConfirmed, Reason: "x"}, `event type "traffic.count" takes no decision`},
		{"an unknown decision", Disposition{EventType: "violation.red_light", Decision: "approved", Reason: "x"}, `decision "approved"`},
		{"an unknown camera", Disposition{CameraID: "nowhere", EventType: "alert.fire", Decision: DecisionAcknowledged}, `camera_id "nowhere": no such camera`},
		{"not a UUID", Disposition{EventID: "42", EventType: "alert.fire", Decision: DecisionAcknowledged}, `event_id "42": want a UUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.d
			if d.EventID == "" {
				d.EventID = id()
			}
			if d.CameraID == "" {
				d.CameraID = camOwn
			}
			got, err := s.SetDisposition(ctx, by, d)
			if tt.want != "" {
				if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
					t.Fatalf("SetDisposition = %v, want ErrInvalid saying %q", err, tt.want)
				}
				if _, err := s.Disposition(ctx, d.EventID); !errors.Is(err, ErrNotFound) {
					t.Errorf("refused disposition stored: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := d
			want.Reason = strings.TrimSpace(d.Reason)
			want.UserID, want.Username, want.At = by.UserID, by.Username, clk.Now()
			if got != want {
				t.Errorf("SetDisposition = %+v, want %+v", got, want)
			}
			if stored := must(s.Disposition(ctx, d.EventID)); stored != want {
				t.Errorf("Disposition = %+v, want %+v", stored, want)
			}
			e := must(s.Audit().Query(ctx, audit.Filter{Object: "event:" + d.EventID}))
			if len(e) != 1 || e[0].Action != want.Action() || e[0].Actor != by || len(e[0].Before) != 0 ||
				!strings.Contains(string(e[0].After), `"decision":"`+string(d.Decision)+`"`) {
				t.Errorf("audit entries %+v", e)
			}
		})
	}

	t.Run("deciding again replaces, and the log keeps both", func(t *testing.T) {
		ev := id()
		first := must(s.SetDisposition(ctx, by, Disposition{EventID: ev, CameraID: camGranted, EventType: "violation.red_light",
			Decision: DecisionConfirmed, Reason: "đèn đỏ"}))
		clk.Add(time.Minute)
		other := audit.Actor{UserID: "u8", Username: "mai", AgencyID: "police"}
		second := must(s.SetDisposition(ctx, other, Disposition{EventID: strings.ToUpper(ev), CameraID: camGranted,
			EventType: "violation.red_light", Decision: DecisionRejected, Reason: "đèn vàng"}))
		if second.EventID != ev || second.Username != "mai" || !second.At.After(first.At) {
			t.Errorf("second %+v", second)
		}
		if got := must(s.Disposition(ctx, strings.ToUpper(ev))); got != second {
			t.Errorf("Disposition = %+v, want the second %+v", got, second)
		}
		e := must(s.Audit().Query(ctx, audit.Filter{Object: "event:" + ev, Action: ActionEventReview}))
		if len(e) != 2 || !strings.Contains(string(e[1].Before), `"reason":"đèn đỏ"`) || !strings.Contains(string(e[1].After), `"reason":"đèn vàng"`) {
			t.Errorf("audit entries %+v", e)
		}
		// The event's camera and type cannot change.
		if _, err := s.SetDisposition(ctx, by, Disposition{EventID: ev, CameraID: camOwn, EventType: "violation.red_light",
			Decision: DecisionConfirmed, Reason: "x"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("another camera for the same event: %v, want ErrInvalid", err)
		}
	})

	t.Run("by events", func(t *testing.T) {
		var ids, decided []string
		for i := range 1200 {
			ids = append(ids, id())
			if i%100 == 7 {
				decided = append(decided, ids[i])
				must(s.SetDisposition(ctx, by, Disposition{EventID: ids[i], CameraID: camOwn, EventType: "alert.crowd",
					Decision: DecisionAcknowledged}))
			}
		}
		got := must(s.Dispositions(ctx, append(ids, "not-a-uuid", "")))
		if len(got) != len(decided) {
			t.Fatalf("Dispositions: %d, want %d", len(got), len(decided))
		}
		for _, ev := range decided {
			if d, ok := got[ev]; !ok || d.EventID != ev || d.Decision != DecisionAcknowledged {
				t.Errorf("Dispositions[%s] = %+v, %v", ev, d, ok)
			}
		}
		if got := must(s.Dispositions(ctx, nil)); len(got) != 0 {
			t.Errorf("Dispositions(nil) = %v", got)
		}
	})

	if _, err := s.Disposition(ctx, id()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Disposition(unknown) = %v, want ErrNotFound", err)
	}
	if r := must(s.Audit().Verify(ctx)); !r.OK() {
		t.Fatal(r.Err())
	}
}
