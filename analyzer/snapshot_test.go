package analyzer

import (
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/matthan/matthan/ingest/decode"
)

func TestEncodeJPEG(t *testing.T) {
	cases := []struct {
		name         string
		w, h, stride int
		wantErr      bool
	}{
		{"packed", 64, 48, 64 * 3, false},
		{"padded rows", 64, 48, 64*3 + 32, false},
		{"short stride", 64, 48, 10, true},
		{"empty", 0, 0, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &decode.Frame{Width: tc.w, Height: tc.h, Stride: tc.stride, Pix: make([]byte, max(tc.stride*tc.h, 1))}
			for y := range tc.h { // a red left half, a blue right half
				for x := range tc.w {
					i := y*tc.stride + 3*x
					if i+2 >= len(f.Pix) {
						break
					}
					if x < tc.w/2 {
						f.Pix[i+2] = 255
					} else {
						f.Pix[i] = 255
					}
				}
			}
			jpeg, err := EncodeJPEG(f, 90)
			if tc.wantErr {
				if err == nil {
					t.Fatal("encoded a malformed frame")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			img, err := gocv.IMDecode(jpeg, gocv.IMReadColor)
			if err != nil {
				t.Fatal(err)
			}
			defer img.Close()
			if img.Cols() != tc.w || img.Rows() != tc.h {
				t.Fatalf("decoded %dx%d, want %dx%d", img.Cols(), img.Rows(), tc.w, tc.h)
			}
			left, right := img.GetVecbAt(tc.h/2, tc.w/4), img.GetVecbAt(tc.h/2, 3*tc.w/4)
			if left[2] < 200 || left[0] > 60 || right[0] < 200 || right[2] > 60 {
				t.Fatalf("colours lost: left BGR %v, right BGR %v", left, right)
			}
		})
	}
}

func TestLatestPictureRefresh(t *testing.T) {
	var l latestPicture
	t0 := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	if _, _, ok := l.get(); ok || !l.due(t0) {
		t.Fatal("an empty picture must be due and not ok")
	}
	l.set([]byte{1}, t0)
	for _, tc := range []struct {
		at   time.Duration
		want bool
	}{{time.Second, false}, {SnapshotInterval, true}, {-time.Minute, true}} {
		if got := l.due(t0.Add(tc.at)); got != tc.want {
			t.Errorf("due at %v = %v, want %v", tc.at, got, tc.want)
		}
	}
}
