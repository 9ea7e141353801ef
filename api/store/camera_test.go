package store

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestCameraDistrict checks that the district is stored, changed, shown in
// the audit entry and bounded.
func TestCameraDistrict(t *testing.T) {
	ctx := context.Background()
	s, _, _ := openTest(t)
	must(s.CreateAgency(ctx, admin, Agency{ID: "ict", Name: "Sở TT&TT", ICT: true}))
	must(s.CreateSystem(ctx, admin, System{ID: "sys", Name: "IOC", Tier: TierI, ManagingAgency: "ict"}))
	c := Camera{ID: "cam", SystemID: "sys", Name: "Hồ Xuân Hương", Lat: 11.94, Lon: 108.44, District: "Thành phố Đà Lạt"}
	must(s.CreateCamera(ctx, admin, c, CameraSecret{}))
	if got := must(s.Camera(ctx, "cam")); got.District != "Thành phố Đà Lạt" {
		t.Errorf("district %q after create", got.District)
	}
	c.District = "Huyện Lạc Dương"
	must(s.UpdateCamera(ctx, admin, c))
	if got := must(s.Cameras(ctx)); len(got) != 1 || got[0].District != "Huyện Lạc Dương" {
		t.Errorf("cameras after update: %+v", got)
	}
	c.District = strings.Repeat("x", maxDistrict+1)
	if _, err := s.UpdateCamera(ctx, admin, c); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "district") {
		t.Errorf("a %d-byte district: %v, want ErrInvalid naming the district", len(c.District), err)
	}
}
