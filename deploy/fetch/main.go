// Command fetch puts the model weights of models/zoo/*.yaml and the sample footage of deploy/footage.yaml
// into the data folders, taking each file from the mirror folder when it is there and from its upstream URL
// otherwise, and checking its sha256 either way.
//
// Run from the repository root (deploy/deps.sh does): go run ./deploy/fetch
//
// Environment:
//
//	MATTHAN_DEPS        base folder, defaults to ./.deps
//	MATTHAN_MODELS_DIR  where models go, defaults to $MATTHAN_DEPS/models
//	MATTHAN_VIDEO_DIR   where footage goes, defaults to $MATTHAN_DEPS/video
//	MATTHAN_ASSETS      mirror folder holding models/<file> and video/<file>; optional
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// downloadTimeout bounds one download; the largest file is a few MiB.
const downloadTimeout = 10 * time.Minute

// mirrorHint ends a download error: without the internet the mirror is the way.
const mirrorHint = " (no route to the upstream? set MATTHAN_ASSETS to the team's mirror folder)"

// Asset is one file named by a manifest: a model of models/zoo or a clip of deploy/footage.yaml.
// Fields of a model manifest that fetch does not use are ignored.
type Asset struct {
	Name    string   `yaml:"name"`
	File    string   `yaml:"file"`
	URL     string   `yaml:"url"`
	SHA256  HashList `yaml:"sha256"`
	Licence string   `yaml:"licence"`
	Codec   string   `yaml:"codec"`
	// H264Copy asks for <stem>.h264.mp4 beside the clip, re-encoded to H.264 for the camera simulator.
	H264Copy bool `yaml:"h264_copy"`
	// UpstreamSHA256 and Derive describe a clip that was cut from the file at URL: the download must have
	// UpstreamSHA256, and ffmpeg is run with Derive, where "{in}" and "{out}" stand for the two files.
	UpstreamSHA256 string   `yaml:"upstream_sha256"`
	Derive         []string `yaml:"derive"`
}

// HashList holds the accepted sha256 values of a file; YAML may give one string or a list.
type HashList []string

// UnmarshalYAML accepts a scalar or a sequence of scalars.
func (h *HashList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		*h = HashList{n.Value}
		return nil
	case yaml.SequenceNode:
		var list []string
		if err := n.Decode(&list); err != nil {
			return err
		}
		*h = list
		return nil
	}
	return fmt.Errorf("line %d: sha256: expected a hash or a list of hashes", n.Line)
}

// Contains reports whether sum is one of the accepted hashes.
func (h HashList) Contains(sum string) bool {
	for _, s := range h {
		if strings.EqualFold(s, sum) {
			return true
		}
	}
	return false
}

// Validate checks the fields fetch relies on.
func (a Asset) Validate() error {
	if a.File == "" {
		return errors.New("file: missing")
	}
	if a.File != filepath.Base(a.File) || a.File == "." || a.File == ".." {
		return fmt.Errorf("file: %q must be a plain file name", a.File)
	}
	if len(a.SHA256) == 0 {
		return fmt.Errorf("sha256: missing for %s", a.File)
	}
	hashes := append([]string(nil), a.SHA256...)
	if a.UpstreamSHA256 != "" {
		hashes = append(hashes, a.UpstreamSHA256)
	}
	for _, s := range hashes {
		if !isSHA256(s) {
			return fmt.Errorf("sha256: %q is not 64 hex digits (%s)", s, a.File)
		}
	}
	if a.URL != "" && !strings.HasPrefix(a.URL, "https://") && !strings.HasPrefix(a.URL, "http://") {
		return fmt.Errorf("url: %q must be http(s) or empty (%s)", a.URL, a.File)
	}
	if len(a.Derive) > 0 && a.UpstreamSHA256 == "" {
		return fmt.Errorf("derive: needs upstream_sha256 (%s)", a.File)
	}
	return nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// parseModel reads one models/zoo manifest.
func parseModel(data []byte) (Asset, error) {
	var a Asset
	if err := yaml.Unmarshal(data, &a); err != nil {
		return a, err
	}
	if a.Name == "" {
		return a, errors.New("name: missing")
	}
	return a, a.Validate()
}

// parseFootage reads deploy/footage.yaml: a list of clips under "clips".
func parseFootage(data []byte) ([]Asset, error) {
	var doc struct {
		Clips []Asset `yaml:"clips"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	if len(doc.Clips) == 0 {
		return nil, errors.New("clips: empty")
	}
	seen := map[string]bool{}
	for i, c := range doc.Clips {
		if err := c.Validate(); err != nil {
			return nil, fmt.Errorf("clips[%d]: %w", i, err)
		}
		if seen[c.File] {
			return nil, fmt.Errorf("clips[%d]: file %s listed twice", i, c.File)
		}
		seen[c.File] = true
	}
	return doc.Clips, nil
}

// HashMismatchError says that a file's content is not one of the accepted versions.
type HashMismatchError struct {
	File     string
	Expected HashList
	Actual   string
}

func (e *HashMismatchError) Error() string {
	return fmt.Sprintf("%s: sha256 %s, expected %s", e.File, e.Actual, strings.Join(e.Expected, " or "))
}

// fileSHA256 returns the hex sha256 of the file at path.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkFile returns nil when path exists and has one of the accepted hashes.
func checkFile(path string, want HashList) error {
	sum, err := fileSHA256(path)
	if err != nil {
		return err
	}
	if !want.Contains(sum) {
		return &HashMismatchError{File: filepath.Base(path), Expected: want, Actual: sum}
	}
	return nil
}

// Fetcher places assets in a folder.
type Fetcher struct {
	// Mirror is the folder holding this kind of asset in the mirror (e.g. $MATTHAN_ASSETS/models); empty for none.
	Mirror string
	// Dest is the folder the files go to.
	Dest string
	// Client downloads from upstream URLs; defaults to http.DefaultClient.
	Client *http.Client
	// Log receives one line per action taken.
	Log io.Writer
}

// Fetch makes sure Dest holds a's file with an accepted hash (and its H.264 copy when asked).
// It returns where the file came from: "present", "mirror", "upstream" or "upstream, derived".
func (f *Fetcher) Fetch(ctx context.Context, a Asset) (string, error) {
	dest := filepath.Join(f.Dest, a.File)
	from, err := f.fetchFile(ctx, a, dest)
	if err != nil {
		return "", err
	}
	if a.H264Copy {
		if err := h264Copy(ctx, dest, f.Log); err != nil {
			return "", err
		}
	}
	return from, nil
}

func (f *Fetcher) fetchFile(ctx context.Context, a Asset, dest string) (string, error) {
	err := checkFile(dest, a.SHA256)
	if err == nil {
		return "present", nil
	}
	var mismatch *HashMismatchError
	if errors.As(err, &mismatch) {
		fmt.Fprintf(f.Log, "replacing %s: %v\n", dest, err)
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(f.Dest, 0o755); err != nil {
		return "", err
	}
	if f.Mirror != "" {
		src := filepath.Join(f.Mirror, a.File)
		if _, err := os.Stat(src); err == nil {
			fmt.Fprintf(f.Log, "copying %s from %s\n", a.File, src)
			if err := placeVerified(dest, a.SHA256, func(w io.Writer) error { return copyFrom(src, w) }); err != nil {
				return "", fmt.Errorf("mirror copy %s: %w", src, err)
			}
			return "mirror", nil
		}
	}
	if a.URL == "" {
		where := "no mirror set (MATTHAN_ASSETS)"
		if f.Mirror != "" {
			where = "not in the mirror " + f.Mirror
		}
		return "", fmt.Errorf("%s: %s, and it has no upstream URL: it is only available from the team's mirror; "+
			"set MATTHAN_ASSETS to a folder holding %s/%s", a.File, where, filepath.Base(f.Dest), a.File)
	}
	fmt.Fprintf(f.Log, "downloading %s from %s\n", a.File, a.URL)
	if a.UpstreamSHA256 == "" {
		if err := placeVerified(dest, a.SHA256, func(w io.Writer) error { return f.download(ctx, a.URL, w) }); err != nil {
			return "", fmt.Errorf("download %s: %w%s", a.URL, err, mirrorHint)
		}
		return "upstream", nil
	}
	if err := f.fetchDerived(ctx, a, dest); err != nil {
		return "", err
	}
	return "upstream, derived", nil
}

// fetchDerived downloads the upstream original of a cut clip, checks it and runs the recorded ffmpeg
// command on it. A re-encode is not byte-reproducible across FFmpeg versions, so a result whose hash
// differs from the mirror's is kept with a note.
func (f *Fetcher) fetchDerived(ctx context.Context, a Asset, dest string) error {
	orig := dest + ".upstream"
	defer os.Remove(orig)
	if err := placeVerified(orig, HashList{a.UpstreamSHA256}, func(w io.Writer) error { return f.download(ctx, a.URL, w) }); err != nil {
		return fmt.Errorf("download %s: %w%s", a.URL, err, mirrorHint)
	}
	if len(a.Derive) == 0 {
		return fmt.Errorf("%s: upstream_sha256 set but no derive command", a.File)
	}
	tmp := dest + ".tmp.mp4"
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	for _, arg := range a.Derive {
		arg = strings.ReplaceAll(arg, "{in}", orig)
		args = append(args, strings.ReplaceAll(arg, "{out}", tmp))
	}
	if err := runFFmpeg(ctx, args); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("derive %s: %w", a.File, err)
	}
	if err := checkFile(tmp, a.SHA256); err != nil {
		var mismatch *HashMismatchError
		if !errors.As(err, &mismatch) {
			return err
		}
		mismatch.File = a.File
		fmt.Fprintf(f.Log, "note: %v (cut here with this FFmpeg: same frames, other bytes)\n", mismatch)
	}
	return os.Rename(tmp, dest)
}

// placeVerified writes a temporary file with fill, checks its hash and renames it to dest.
func placeVerified(dest string, want HashList, fill func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	err = fill(io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !want.Contains(sum) {
		return &HashMismatchError{File: filepath.Base(dest), Expected: want, Actual: sum}
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), dest)
}

func copyFrom(src string, w io.Writer) error {
	r, err := os.Open(src)
	if err != nil {
		return err
	}
	defer r.Close()
	_, err = io.Copy(w, r)
	return err
}

func (f *Fetcher) download(ctx context.Context, url string, w io.Writer) error {
	ctx, cancel := context.WithTimeout(ctx, downloadTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := f.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %s", resp.Status)
	}
	_, err = io.Copy(w, resp.Body)
	return err
}

// h264Copy writes <stem>.h264.mp4 beside src when it is missing: H.264, yuv420p, a keyframe about every
// second, no audio. The camera simulator streams only H.264 and H.265.
func h264Copy(ctx context.Context, src string, log io.Writer) error {
	out := strings.TrimSuffix(src, filepath.Ext(src)) + ".h264.mp4"
	if st, err := os.Stat(out); err == nil && st.Size() > 0 {
		return nil
	}
	gop, err := framesPerSecond(ctx, src)
	if err != nil {
		return fmt.Errorf("h264 copy of %s: %w", filepath.Base(src), err)
	}
	fmt.Fprintf(log, "encoding %s (H.264, keyframe every %d frames)\n", filepath.Base(out), gop)
	tmp := out + ".tmp"
	err = runFFmpeg(ctx, []string{"-hide_banner", "-loglevel", "error", "-y", "-i", src, "-map", "0:v:0",
		"-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p", "-g", strconv.Itoa(gop),
		"-an", "-movflags", "+faststart", "-f", "mp4", tmp})
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("h264 copy of %s: %w", filepath.Base(src), err)
	}
	return os.Rename(tmp, out)
}

// framesPerSecond returns the rounded frame rate of the first video stream (at least 1).
func framesPerSecond(ctx context.Context, path string) (int, error) {
	out, err := exec.CommandContext(ctx, "ffprobe", "-v", "error", "-select_streams", "v:0",
		"-show_entries", "stream=r_frame_rate", "-of", "default=noprint_wrappers=1:nokey=1", path).Output()
	if err != nil {
		return 0, fmt.Errorf("ffprobe (install ffmpeg: deploy/deps.sh): %w", err)
	}
	return parseRate(strings.TrimSpace(string(out)))
}

// parseRate turns ffprobe's "num/den" into a rounded whole number of frames per second.
func parseRate(s string) (int, error) {
	num, den, ok := strings.Cut(s, "/")
	if !ok {
		den = "1"
	}
	n, err1 := strconv.ParseFloat(num, 64)
	d, err2 := strconv.ParseFloat(den, 64)
	if err1 != nil || err2 != nil || d <= 0 || n <= 0 {
		return 0, fmt.Errorf("frame rate %q: expected num/den", s)
	}
	return max(1, int(math.Round(n/d))), nil
}

func runFFmpeg(ctx context.Context, args []string) error {
	cmd := exec.CommandContext(ctx, "ffmpeg", args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("ffmpeg (install ffmpeg: deploy/deps.sh): %w: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func main() {
	root := flag.String("root", ".", "repository root (holds models/zoo and deploy/footage.yaml)")
	flag.Parse()

	deps := envOr("MATTHAN_DEPS", filepath.Join(*root, ".deps"))
	assets := os.Getenv("MATTHAN_ASSETS")
	mirror := func(kind string) string {
		if assets == "" {
			return ""
		}
		return filepath.Join(assets, kind)
	}
	models := &Fetcher{Mirror: mirror("models"), Dest: envOr("MATTHAN_MODELS_DIR", filepath.Join(deps, "models")), Log: os.Stderr}
	video := &Fetcher{Mirror: mirror("video"), Dest: envOr("MATTHAN_VIDEO_DIR", filepath.Join(deps, "video")), Log: os.Stderr}

	ctx := context.Background()
	var failed []string
	fail := func(err error) {
		fmt.Fprintf(os.Stderr, "fetch: %v\n", err)
		failed = append(failed, err.Error())
	}

	zoo, err := filepath.Glob(filepath.Join(*root, "models", "zoo", "*.yaml"))
	if err == nil && len(zoo) == 0 {
		err = fmt.Errorf("no manifests in %s", filepath.Join(*root, "models", "zoo"))
	}
	if err != nil {
		fail(err)
	}
	nModels := 0
	for _, path := range zoo {
		data, err := os.ReadFile(path)
		if err != nil {
			fail(err)
			continue
		}
		a, err := parseModel(data)
		if err != nil {
			fail(fmt.Errorf("%s: %w", path, err))
			continue
		}
		if _, err := models.Fetch(ctx, a); err != nil {
			fail(err)
			continue
		}
		nModels++
	}

	nClips, nCopies := 0, 0
	footagePath := filepath.Join(*root, "deploy", "footage.yaml")
	data, err := os.ReadFile(footagePath)
	var clips []Asset
	if err == nil {
		clips, err = parseFootage(data)
	}
	if err != nil {
		fail(fmt.Errorf("%s: %w", footagePath, err))
	}
	for _, c := range clips {
		if _, err := video.Fetch(ctx, c); err != nil {
			fail(err)
			continue
		}
		nClips++
		if c.H264Copy {
			nCopies++
		}
	}

	if len(failed) > 0 {
		fmt.Fprintf(os.Stderr, "fetch: %d of %d files failed\n", len(failed), len(zoo)+len(clips))
		os.Exit(1)
	}
	fmt.Printf("ok models %d files (%s)\n", nModels, models.Dest)
	fmt.Printf("ok footage %d clips + %d H.264 copies (%s)\n", nClips, nCopies, video.Dest)
}
