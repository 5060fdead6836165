package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"time"
)

// assetFiles holds the committed stylesheet, icon and chart loader and, once
// dashboard/assets/install.sh has run, echarts.min.js. The patterns match
// the committed files, so the package compiles with or without echarts.
//
//go:embed assets/*.css assets/*.js assets/*.svg
var assetFiles embed.FS

// echartsFile is the vendored echarts build (gitignored, from npm).
const echartsFile = "echarts.min.js"

// assetsMissingMessage is shown on pages and answered for the missing file:
// it says what to do, not just what is wrong.
const assetsMissingMessage = "echarts assets missing: run make assets"

func embeddedAssets() fs.FS {
	sub, err := fs.Sub(assetFiles, "assets")
	if err != nil { // only possible if the directive above changes
		panic(fmt.Sprintf("dashboard: embedded assets: %v", err))
	}
	return sub
}

// asset is one static file, read once at start-up.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// assetTypes are the only extensions served; they are set explicitly
// rather than from the system MIME table, which varies between machines
// (and nosniff makes browsers reject a script with the wrong type).
var assetTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func loadAssets(fsys fs.FS) (map[string]asset, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("list assets: %w", err)
	}
	out := make(map[string]asset, len(entries))
	for _, e := range entries {
		ctype, ok := assetTypes[path.Ext(e.Name())]
		if e.IsDir() || !ok {
			continue
		}
		body, err := fs.ReadFile(fsys, e.Name())
		if err != nil {
			return nil, fmt.Errorf("read asset %s: %w", e.Name(), err)
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = asset{body: body, contentType: ctype, etag: `"` + hex.EncodeToString(sum[:16]) + `"`}
	}
	return out, nil
}

// serveAsset answers /assets/{name}. A missing echarts build is a 503 with
// the fix in the body, so the cause is obvious from the browser's network
// tab; anything else unknown is a 404.
func (d *Dashboard) serveAsset(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	a, ok := d.assets[name]
	if !ok {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		if name == echartsFile {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = w.Write([]byte(assetsMissingMessage + "\n"))
			return
		}
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("not found\n"))
		return
	}
	w.Header().Set("Content-Type", a.contentType)
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("ETag", a.etag)
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(a.body))
}
