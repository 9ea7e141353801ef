package spool

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("SPOOL_CRASH_CHILD") != "" {
		crashChild(os.Getenv("SPOOL_CRASH_CHILD"))
		return
	}
	goleak.VerifyTestMain(m)
}

// rec is the i-th test record: its number, padded to size bytes.
func rec(i, size int) []byte {
	b := []byte(fmt.Sprintf("rec-%06d;", i))
	for len(b) < size {
		b = append(b, byte('a'+i%26))
	}
	return b
}

// number returns the number rec gave a record.
func number(t *testing.T, b []byte) int {
	t.Helper()
	s, _, _ := bytes.Cut(b, []byte(";"))
	n, err := strconv.Atoi(string(bytes.TrimPrefix(s, []byte("rec-"))))
	if err != nil {
		t.Fatalf("record %.40q is not one of ours", b)
	}
	return n
}

func open(t *testing.T, dir string, o Options) *Spool {
	t.Helper()
	s, err := Open(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readAll reads every unread record in batches of batch, acking each batch
// when ack, and returns their numbers.
func readAll(t *testing.T, s *Spool, batch int, ack bool) []int {
	t.Helper()
	var got []int
	for {
		recs, err := s.Read(batch)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			return got
		}
		if len(recs) > batch {
			t.Fatalf("Read(%d) returned %d records", batch, len(recs))
		}
		for _, r := range recs {
			got = append(got, number(t, r))
		}
		if ack {
			if err := s.Ack(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func seq(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func segFiles(t *testing.T, dir string) int {
	t.Helper()
	ids, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

func TestAppendReadAck(t *testing.T) {
	tests := []struct {
		name     string
		sizes    []int // record sizes, cycled
		n        int
		segBytes int64
		batch    int
	}{
		{"small records, one segment", []int{40}, 1000, 0, 100},
		{"many segments", []int{100, 300}, 2000, 64 << 10, 37},
		{"records longer than a read chunk", []int{readChunk + 1000, 12, MaxRecordBytes}, 7, 1 << 20, 2},
		{"empty records", []int{0}, 5, 0, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			m, _ := NewMetrics(nil)
			s := open(t, dir, Options{SegmentBytes: tt.segBytes, Metrics: m})
			defer s.Close()
			var want [][]byte
			var bytesIn int64
			for i := range tt.n {
				r := rec(i, tt.sizes[i%len(tt.sizes)])
				if tt.sizes[i%len(tt.sizes)] == 0 {
					r = nil
				}
				if err := s.Append(r); err != nil {
					t.Fatal(err)
				}
				want = append(want, r)
				bytesIn += int64(recHeader + len(r))
			}
			if recs, b := s.Pending(); recs != tt.n || b != bytesIn {
				t.Errorf("Pending() = %d, %d; want %d, %d", recs, b, tt.n, bytesIn)
			}
			var got [][]byte
			for {
				recs, err := s.Read(tt.batch)
				if err != nil {
					t.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				got = append(got, recs...)
				if err := s.Ack(); err != nil {
					t.Fatal(err)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("read %d records, want %d", len(got), len(want))
			}
			for i := range want {
				if !bytes.Equal(got[i], want[i]) {
					t.Fatalf("record %d differs (len %d, want %d)", i, len(got[i]), len(want[i]))
				}
			}
			if recs, b := s.Pending(); recs != 0 || b != 0 {
				t.Errorf("after acking all, Pending() = %d, %d", recs, b)
			}
			if n := segFiles(t, dir); n != 1 {
				t.Errorf("%d segment files left after acking all, want 1", n)
			}
			if got := testutil.ToFloat64(m.acked.WithLabelValues(filepath.Base(dir))); got != float64(tt.n) {
				t.Errorf("acked_total = %v, want %d", got, tt.n)
			}
		})
	}
}

func TestReopenResumesAfterAck(t *testing.T) {
	tests := []struct {
		name           string
		read, ack      int // records read, and of those acknowledged, before the close
		wantAfterClose []int
	}{
		{"nothing read", 0, 0, seq(0, 300)},
		{"read, not acked: sent again", 120, 0, seq(0, 300)},
		{"part acked", 150, 100, seq(100, 300)},
		{"all acked", 300, 300, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{SegmentBytes: 64 << 10})
			for i := range 300 {
				if err := s.Append(rec(i, 500)); err != nil {
					t.Fatal(err)
				}
			}
			if tt.ack > 0 {
				if recs, _ := s.Read(tt.ack); len(recs) != tt.ack {
					t.Fatalf("read %d", len(recs))
				}
				if err := s.Ack(); err != nil {
					t.Fatal(err)
				}
			}
			if more := tt.read - tt.ack; more > 0 {
				if recs, _ := s.Read(more); len(recs) != more {
					t.Fatalf("read %d", len(recs))
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, Options{SegmentBytes: 64 << 10})
			defer s.Close()
			if n := s.Unread(); n != len(tt.wantAfterClose) {
				t.Errorf("Unread() after reopen = %d, want %d", n, len(tt.wantAfterClose))
			}
			if got := readAll(t, s, 64, true); !slices.Equal(got, tt.wantAfterClose) {
				t.Errorf("after reopen read %d records %v…, want %d from %v", len(got), got[:min(3, len(got))], len(tt.wantAfterClose), tt.wantAfterClose[:min(3, len(tt.wantAfterClose))])
			}
			if err := s.Append(rec(300, 10)); err != nil {
				t.Fatal(err)
			}
			if got := readAll(t, s, 10, true); !slices.Equal(got, []int{300}) {
				t.Errorf("a record appended after reopen reads as %v", got)
			}
		})
	}
}

// lastSegment returns the path of the newest segment in dir.
func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	ids, err := listSegments(dir)
	if err != nil || len(ids) == 0 {
		t.Fatalf("segments: %v %v", ids, err)
	}
	return filepath.Join(dir, segName(ids[len(ids)-1]))
}

func TestDamagedTail(t *testing.T) {
	const n, size = 50, 100
	recLen := int64(recHeader + size)
	tests := []struct {
		name   string
		damage func(t *testing.T, path string, end int64)
		want   []int
	}{
		{"cut in the last header", func(t *testing.T, path string, end int64) { truncate(t, path, end-recLen+3) }, seq(0, n-1)},
		{"cut in the last payload", func(t *testing.T, path string, end int64) { truncate(t, path, end-10) }, seq(0, n-1)},
		{"flipped byte in the last payload", func(t *testing.T, path string, end int64) { flip(t, path, end-5) }, seq(0, n-1)},
		{"flipped byte in record 40's length", func(t *testing.T, path string, end int64) { flip(t, path, segStart+40*recLen+1) }, seq(0, 40)},
		{"zeros after the end (preallocated)", func(t *testing.T, path string, end int64) { appendBytes(t, path, make([]byte, 4096)) }, seq(0, n)},
		{"an absurd length after the end", func(t *testing.T, path string, end int64) {
			appendBytes(t, path, []byte{0xff, 0xff, 0xff, 0x7f, 1, 2, 3, 4, 5})
		}, seq(0, n)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, Options{})
			for i := range n {
				if err := s.Append(rec(i, size)); err != nil {
					t.Fatal(err)
				}
			}
			s.Close()
			path := lastSegment(t, dir)
			info, _ := os.Stat(path)
			tt.damage(t, path, info.Size())

			m, _ := NewMetrics(nil)
			s = open(t, dir, Options{Metrics: m})
			defer s.Close()
			if testutil.ToFloat64(m.damaged.WithLabelValues(filepath.Base(dir))) == 0 {
				t.Error("damaged_bytes_total = 0, want the cut counted")
			}
			if err := s.Append(rec(1000, size)); err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(tt.want), 1000)
			if got := readAll(t, s, 7, true); !slices.Equal(got, want) {
				t.Errorf("read %v, want %v", got, want)
			}
		})
	}
}

func truncate(t *testing.T, path string, size int64) {
	t.Helper()
	if err := os.Truncate(path, size); err != nil {
		t.Fatal(err)
	}
}

func flip(t *testing.T, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := []byte{0}
	if _, err := f.ReadAt(b, off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 0x40
	if _, err := f.WriteAt(b, off); err != nil {
		t.Fatal(err)
	}
}

func appendBytes(t *testing.T, path string, b []byte) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write(b); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedMiddleSegmentAndCursor(t *testing.T) {
	const size = 1000
	build := func(t *testing.T) (dir string, ids []uint64) {
		dir = t.TempDir()
		s := open(t, dir, Options{SegmentBytes: 64 << 10})
		for i := range 300 { // ~63 records per segment: 5 segments
			if err := s.Append(rec(i, size)); err != nil {
				t.Fatal(err)
			}
		}
		s.Close()
		ids, _ = listSegments(dir)
		if len(ids) < 3 {
			t.Fatalf("%d segments, want at least 3", len(ids))
		}
		return dir, ids
	}
	perSeg := int((64<<10 - segStart) / (recHeader + size))

	t.Run("damaged record in a middle segment", func(t *testing.T) {
		dir, ids := build(t)
		// Damage the 11th record of the second segment: its 10 first are kept.
		flip(t, filepath.Join(dir, segName(ids[1])), segStart+10*(recHeader+size)+50)
		s := open(t, dir, Options{SegmentBytes: 64 << 10})
		defer s.Close()
		want := append(seq(0, perSeg+10), seq(2*perSeg, 300)...)
		if got := readAll(t, s, 50, true); !slices.Equal(got, want) {
			t.Errorf("read %d records, want %d: the records of the other segments", len(got), len(want))
		}
	})
	t.Run("damaged cursor: everything is sent again", func(t *testing.T) {
		dir, _ := build(t)
		s := open(t, dir, Options{SegmentBytes: 64 << 10})
		s.Read(100)
		s.Ack()
		s.Close()
		flip(t, filepath.Join(dir, cursorName), 3)
		s = open(t, dir, Options{SegmentBytes: 64 << 10})
		defer s.Close()
		// The segments before the cursor's are gone; the cursor's is read whole.
		want := seq(perSeg, 300)
		if got := readAll(t, s, 50, true); !slices.Equal(got, want) {
			t.Errorf("read %v…%d records, want from %d", got[:min(3, len(got))], len(got), perSeg)
		}
	})
	t.Run("cursor with a damaged tail is written whole again", func(t *testing.T) {
		dir, _ := build(t)
		s := open(t, dir, Options{SegmentBytes: 64 << 10})
		s.Read(100)
		s.Ack()
		s.Close()
		appendBytes(t, filepath.Join(dir, cursorName), []byte("a torn tail"))
		// A former version renamed a new cursor over the old one.
		if err := os.WriteFile(filepath.Join(dir, cursorTmp), []byte("half"), 0o600); err != nil {
			t.Fatal(err)
		}
		s = open(t, dir, Options{SegmentBytes: 64 << 10})
		if got, _ := s.Read(50); len(got) != 50 || number(t, got[0]) != perSeg {
			t.Fatalf("read %d records after a damaged cursor, want 50 from %d", len(got), perSeg)
		}
		s.Ack()
		s.Close()
		if _, err := os.Stat(filepath.Join(dir, cursorTmp)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("the former version's cursor.tmp is left: %v", err)
		}
		s = open(t, dir, Options{SegmentBytes: 64 << 10})
		defer s.Close()
		if got := readAll(t, s, 50, true); !slices.Equal(got, seq(perSeg+50, 300)) {
			t.Errorf("read %v…%d records, want from %d", got[:min(3, len(got))], len(got), perSeg+50)
		}
	})
	t.Run("not a segment", func(t *testing.T) {
		dir, ids := build(t)
		if err := os.WriteFile(filepath.Join(dir, segName(ids[0])), []byte("hello, world"), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Open(dir, Options{}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("Open() = %v, want ErrCorrupt", err)
		}
	})
}

func TestFullRefusesAndRecovers(t *testing.T) {
	o := Options{MaxBytes: 10 * (recHeader + 92)} // exactly 10 records of 92 bytes
	dir := t.TempDir()
	m, _ := NewMetrics(nil)
	var mu sync.Mutex
	var alarms []bool
	o.Metrics = m
	o.OnFull = func(full bool) {
		mu.Lock()
		alarms = append(alarms, full)
		mu.Unlock()
	}
	s := open(t, dir, o)
	defer s.Close()
	name := filepath.Base(dir)
	for i := range 10 {
		if err := s.Append(rec(i, 92)); err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	for i := 10; i < 15; i++ {
		err := s.Append(rec(i, 92))
		if !errors.Is(err, ErrFull) {
			t.Fatalf("Append beyond MaxBytes = %v, want ErrFull", err)
		}
	}
	if got := testutil.ToFloat64(m.refused.WithLabelValues(name)); got != 5 {
		t.Errorf("refused_total = %v, want 5", got)
	}
	if got := testutil.ToFloat64(m.full.WithLabelValues(name)); got != 1 {
		t.Errorf("full = %v, want 1", got)
	}
	if recs, _ := s.Read(3); len(recs) != 3 {
		t.Fatal("read")
	}
	if err := s.Append(rec(99, 92)); !errors.Is(err, ErrFull) {
		t.Errorf("Append after a Read without Ack = %v, want ErrFull (read records still count)", err)
	}
	if err := s.Ack(); err != nil {
		t.Fatal(err)
	}
	for i := 100; i < 103; i++ {
		if err := s.Append(rec(i, 92)); err != nil {
			t.Fatalf("Append after Ack: %v", err)
		}
	}
	if got := testutil.ToFloat64(m.full.WithLabelValues(name)); got != 0 {
		t.Errorf("full = %v after room came back, want 0", got)
	}
	mu.Lock()
	if !slices.Equal(alarms, []bool{true, false}) {
		t.Errorf("OnFull calls %v, want [true false]", alarms)
	}
	mu.Unlock()
	if got := readAll(t, s, 100, true); !slices.Equal(got, append(seq(3, 10), 100, 101, 102)) {
		t.Errorf("read %v: accepted records lost or refused ones kept", got)
	}
	if err := s.Append(make([]byte, MaxRecordBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Append of a huge record = %v, want ErrTooLarge", err)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, Options{})
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrLocked) {
		t.Errorf("second Open() = %v, want ErrLocked", err)
	}
	s.Close()
	if err := s.Append([]byte("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close = %v, want ErrClosed", err)
	}
	if _, err := s.Read(1); !errors.Is(err, ErrClosed) {
		t.Errorf("Read after Close = %v, want ErrClosed", err)
	}
	s = open(t, dir, Options{}) // the lock went with Close
	s.Close()

	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := Open(filepath.Join(file, "spool"), Options{}); err == nil {
		t.Error("Open under a file succeeded")
	}
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "x"+segSuffix), nil, 0o600)
	if _, err := Open(bad, Options{}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Open with a stray .seg = %v, want ErrCorrupt", err)
	}
}

// TestConcurrentAppend has writers append while the reader reads and acks:
// nothing lost, each writer's order kept.
func TestConcurrentAppend(t *testing.T) {
	const writers, each = 4, 2000
	s := open(t, t.TempDir(), Options{SegmentBytes: 64 << 10, SyncInterval: 5 * time.Millisecond})
	defer s.Close()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if err := s.Append(rec(w*each+i, 60)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	next := make([]int, writers)
	got := 0
	deadline := time.After(30 * time.Second)
	for got < writers*each {
		recs, err := s.Read(100)
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) == 0 {
			select {
			case <-s.Ready():
			case <-deadline:
				t.Fatalf("read %d of %d", got, writers*each)
			}
			continue
		}
		for _, r := range recs {
			n := number(t, r)
			w := n / each
			if n%each != next[w] {
				t.Fatalf("writer %d: record %d after %d", w, n%each, next[w]-1)
			}
			next[w]++
			got++
		}
		if err := s.Ack(); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if n := s.Unread(); n != 0 {
		t.Errorf("Unread() = %d after reading all", n)
	}
}

// crashChild appends numbered records to the spool in dir and prints the
// number of each appended one, until it is killed.
func crashChild(dir string) {
	s, err := Open(dir, Options{SegmentBytes: 256 << 10, SyncInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		if err := s.Append(rec(i, 200+i%300)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(out, i)
		out.Flush()
	}
}

// TestKilledWriterLosesNothing kills a process appending to a spool with
// SIGKILL, twice: every record it reported appended is there, in order.
func TestKilledWriterLosesNothing(t *testing.T) {
	dir := t.TempDir()
	for round := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "SPOOL_CRASH_CHILD="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(stdout)
		last := -1
		for sc.Scan() {
			last, _ = strconv.Atoi(sc.Text())
			if last >= 20000 {
				break
			}
		}
		cmd.Process.Signal(syscall.SIGKILL)
		for sc.Scan() { // what it printed before it died
			last, _ = strconv.Atoi(sc.Text())
		}
		cmd.Wait()
		if last < 20000 {
			t.Fatalf("child stopped at %d: %s", last, stderr.String())
		}

		s := open(t, dir, Options{})
		got := readAll(t, s, 1000, true)
		s.Close()
		t.Logf("round %d: child reported %d appended, the spool holds %d", round, last+1, len(got))
		if len(got) < last+1 {
			t.Fatalf("spool holds %d records, the child appended %d", len(got), last+1)
		}
		if !slices.Equal(got, seq(0, len(got))) {
			t.Fatal("records out of order or missing")
		}
	}
}

func FuzzScanRecords(f *testing.F) {
	var good []byte
	for i := range 5 {
		good = appendRecord(good, rec(i, 10*i))
	}
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add(append(slices.Clone(good), 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		records, valid, err := scanRecords(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if valid > int64(len(b)) || (records == 0) != (valid == 0) {
			t.Fatalf("scan of %d bytes: %d records in %d bytes", len(b), records, valid)
		}
		// The intact prefix parses record by record to the same count.
		rest, n := b[:valid], 0
		for len(rest) > 0 {
			_, k, err := parseRecord(rest)
			if err != nil {
				t.Fatalf("record %d of the intact prefix: %v", n, err)
			}
			rest, n = rest[k:], n+1
		}
		if n != records {
			t.Fatalf("parsed %d records, scan said %d", n, records)
		}
	})
}
