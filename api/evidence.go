package api

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/matthan/matthan/api/audit"
	"github.com/matthan/matthan/api/evidence"
	"github.com/matthan/matthan/api/store"
	"github.com/matthan/matthan/ingest/record"
)

// PackagesDir is the folder under the data folder that holds evidence
// packages made through the API.
const PackagesDir = "evidence-packages"

// Audit actions the API writes itself (the store writes those of data
// changes).
const (
	ActionEvidenceExport   = "evidence.export"
	ActionEvidenceDownload = "evidence.download"
	ActionHoldPlace        = record.AuditHold
	ActionHoldRelease      = record.AuditRelease
)

// evidenceRequest is the body of POST /api/v1/evidence.
type evidenceRequest struct {
	Camera      string    `json:"camera"`
	From        time.Time `json:"from"`
	To          time.Time `json:"to"`
	Purpose     string    `json:"purpose"`
	PurposeText string    `json:"purpose_text"`
	Requester   string    `json:"requester"`
	// OutsideAgency says the requester is outside the operator's agency.
	OutsideAgency bool   `json:"outside_agency"`
	ApprovalRef   string `json:"approval_ref"`
}

// evidenceResponse is what an export answers.
type evidenceResponse struct {
	ID       string            `json:"id"`
	SHA256   string            `json:"sha256"`
	Size     int64             `json:"size"`
	Download string            `json:"download"`
	Manifest evidence.Manifest `json:"manifest"`
}

func (s *Server) packagesDir() string { return filepath.Join(s.DataDir, PackagesDir) }

// exportEvidence cuts a signed evidence package from a camera's recording
// (export capability), and audits it with purpose, operator and requester
// . Sharing data of a system the operator's agency does
// not manage counts as sharing outside, which needs the written approval
// the ICT department is tier I's manager.
func (s *Server) exportEvidence(w http.ResponseWriter, r *http.Request, p *principal) {
	var req evidenceRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !s.requireCamera(w, r, p, store.CapExport, req.Camera) {
		return
	}
	if s.EvidenceKey == nil {
		writeError(w, http.StatusServiceUnavailable, "evidence export is not configured (no signing key)")
		return
	}
	ctx := r.Context()
	u := p.user()
	outside := req.OutsideAgency
	if !outside && !p.ictAdmin() {
		cam, err := s.Store.Camera(ctx, req.Camera)
		if err == nil {
			var sys store.System
			if sys, err = s.Store.System(ctx, cam.SystemID); err == nil {
				outside = !sys.Manages(u.AgencyID)
			}
		}
		if err != nil {
			s.fail(w, "export evidence", err)
			return
		}
	}
	name := u.DisplayName
	if name == "" {
		name = u.Username
	}
	pkg, err := evidence.Export(ctx, evidence.Request{
		Camera: req.Camera, From: req.From, To: req.To,
		Purpose: evidence.Purpose(req.Purpose), PurposeText: req.PurposeText, Requester: req.Requester,
		Operator:      evidence.Operator{UserID: u.ID, Name: name, Agency: u.AgencyID},
		OutsideAgency: outside, ApprovalRef: req.ApprovalRef, Node: s.Node,
	}, s.Recordings, s.packagesDir(), s.EvidenceKey)
	if errors.Is(err, record.ErrUnknownCamera) || errors.Is(err, record.ErrNoRecording) {
		writeError(w, http.StatusNotFound, "no recording of camera "+quote(req.Camera)+" in that range")
		return
	}
	if err != nil {
		s.fail(w, "export evidence", err)
		return
	}
	m := pkg.Manifest
	by := p.actor()
	by.Purpose, by.Requester = req.Purpose, req.Requester
	after, err := audit.JSON(map[string]any{
		"camera": m.Camera, "from": m.Requested.From, "to": m.Requested.To, "purpose_text": m.PurposeText,
		"outside_agency": m.OutsideAgency, "approval_ref": m.ApprovalRef,
		"sha256": pkg.SHA256, "size": pkg.Size, "signer": m.Signer.Fingerprint,
	})
	if err == nil {
		_, err = s.Store.Audit().Record(ctx, audit.Entry{Actor: by, Action: ActionEvidenceExport, Object: "evidence:" + m.ID, After: after})
	}
	if err != nil {
		// No export without its audit entry.
		os.Remove(pkg.Path)
		s.fail(w, "export evidence: audit", err)
		return
	}
	writeJSON(w, http.StatusCreated, evidenceResponse{ID: m.ID, SHA256: pkg.SHA256, Size: pkg.Size,
		Download: "/api/v1/evidence/" + m.ID, Manifest: m})
}

// findPackage returns the path of package id under the packages folder,
// found by listing the folder: no part of a path comes from the client.
func (s *Server) findPackage(id string) (string, bool) {
	ents, err := os.ReadDir(s.packagesDir())
	if err != nil {
		return "", false
	}
	for _, e := range ents {
		n := e.Name()
		if e.Type().IsRegular() && strings.HasPrefix(n, "evidence-") && strings.HasSuffix(n, "-"+id+".zip") {
			return filepath.Join(s.packagesDir(), n), true
		}
	}
	return "", false
}

// packageManifest reads the manifest of the package at p.
func packageManifest(p string) (evidence.Manifest, error) {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return evidence.Manifest{}, err
	}
	defer zr.Close()
	f, err := zr.Open(evidence.ManifestName)
	if err != nil {
		return evidence.Manifest{}, err
	}
	defer f.Close()
	var m evidence.Manifest
	err = json.NewDecoder(io.LimitReader(f, 16<<20)).Decode(&m)
	return m, err
}

// downloadEvidence serves an evidence package by its id (a UUID) to a
// caller with the export capability on its camera; audited.
func (s *Server) downloadEvidence(w http.ResponseWriter, r *http.Request, p *principal) {
	raw := r.PathValue("id")
	u, err := uuid.Parse(raw)
	if err != nil || len(raw) != 36 {
		notFound(w, "evidence package")
		return
	}
	id := u.String()
	path, ok := s.findPackage(id)
	if !ok {
		notFound(w, "evidence package")
		return
	}
	m, err := packageManifest(path)
	if err != nil || m.ID != id {
		s.logger().Error("evidence package unreadable", "id", id, "error", err)
		notFound(w, "evidence package")
		return
	}
	if !s.requireCamera(w, r, p, store.CapExport, m.Camera) {
		return
	}
	f, err := os.Open(path)
	if err != nil {
		s.fail(w, "download evidence", err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		s.fail(w, "download evidence", err)
		return
	}
	after, _ := audit.JSON(map[string]any{"camera": m.Camera, "file": filepath.Base(path), "size": fi.Size()})
	if _, err := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionEvidenceDownload,
		Object: "evidence:" + id, After: after}); err != nil {
		s.fail(w, "download evidence: audit", err)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filepath.Base(path)+`"`)
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// holdView is a legal hold as JSON.
type holdView struct {
	ID      string    `json:"id"`
	Camera  string    `json:"camera"`
	From    time.Time `json:"from"`
	To      time.Time `json:"to"`
	Reason  string    `json:"reason"`
	By      string    `json:"by"`
	Created time.Time `json:"created"`
}

func holdOf(h record.Hold) holdView {
	return holdView{ID: h.ID, Camera: h.Camera, From: h.From, To: h.To, Reason: h.Reason, By: h.By, Created: h.Created}
}

// requireRetention answers 503 without a Retention.
func (s *Server) requireRetention(w http.ResponseWriter) bool {
	if s.Retention == nil {
		writeError(w, http.StatusServiceUnavailable, "legal holds are not configured")
		return false
	}
	return true
}

// listHolds lists the active legal holds of the cameras the caller
// administers.
func (s *Server) listHolds(w http.ResponseWriter, r *http.Request, p *principal) {
	if !s.requireRetention(w) {
		return
	}
	camera := r.URL.Query().Get("camera")
	if camera != "" && !s.requireManagedCamera(w, r, p, camera) {
		return
	}
	holds, err := s.Retention.Holds(camera)
	if err != nil {
		s.fail(w, "list holds", err)
		return
	}
	out := []holdView{}
	ok := map[string]bool{}
	for _, h := range holds {
		m, seen := ok[h.Camera]
		if !seen {
			if m, err = s.managesCamera(r.Context(), p, h.Camera); err != nil {
				s.fail(w, "list holds", err)
				return
			}
			if m && !p.ictAdmin() {
				caps, err := s.capsOn(r.Context(), p, h.Camera)
				if err != nil {
					s.fail(w, "list holds", err)
					return
				}
				m = len(caps) > 0
			}
			ok[h.Camera] = m
		}
		if m {
			out = append(out, holdOf(h))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"holds": out})
}

// holdRequest is the body of POST /api/v1/holds.
type holdRequest struct {
	Camera string    `json:"camera"`
	From   time.Time `json:"from"`
	To     time.Time `json:"to"`
	Reason string    `json:"reason"`
}

// placeHold places a legal hold on a camera the caller administers
// (audited with the caller).
func (s *Server) placeHold(w http.ResponseWriter, r *http.Request, p *principal) {
	if !s.requireRetention(w) {
		return
	}
	var req holdRequest
	if !readJSON(w, r, &req) {
		return
	}
	if !s.requireManagedCamera(w, r, p, req.Camera) {
		return
	}
	h, err := s.Retention.Hold(req.Camera, req.From, req.To, req.Reason, p.user().Username)
	if err != nil {
		s.fail(w, "place hold", err)
		return
	}
	v := holdOf(h)
	after, _ := audit.JSON(v)
	if _, err := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionHoldPlace,
		Object: "hold:" + h.ID, After: after}); err != nil {
		s.fail(w, "place hold: audit", err)
		return
	}
	writeJSON(w, http.StatusCreated, v)
}

// releaseHold releases a legal hold (?reason= required) on a camera the
// caller administers; others' holds are 404.
func (s *Server) releaseHold(w http.ResponseWriter, r *http.Request, p *principal) {
	if !s.requireRetention(w) {
		return
	}
	id := r.PathValue("id")
	holds, err := s.Retention.Holds("")
	if err != nil {
		s.fail(w, "release hold", err)
		return
	}
	var h *record.Hold
	for i := range holds {
		if holds[i].ID == id {
			h = &holds[i]
		}
	}
	if h == nil {
		notFound(w, "hold")
		return
	}
	if !s.requireCamera(w, r, p, "", h.Camera) {
		return
	}
	if ok, err := s.managesCamera(r.Context(), p, h.Camera); err != nil || !ok {
		if err != nil {
			s.fail(w, "release hold", err)
		} else {
			forbidden(w, "release holds of camera "+h.Camera)
		}
		return
	}
	reason := r.URL.Query().Get("reason")
	if err := s.Retention.Release(id, p.user().Username, reason); err != nil {
		s.fail(w, "release hold", err)
		return
	}
	before, _ := audit.JSON(holdOf(*h))
	after, _ := audit.JSON(map[string]string{"released": "true", "reason": reason})
	if _, err := s.Store.Audit().Record(r.Context(), audit.Entry{Actor: p.actor(), Action: ActionHoldRelease,
		Object: "hold:" + id, Before: before, After: after}); err != nil {
		s.fail(w, "release hold: audit", err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
