// Package assets holds the widget's static files, the stylesheet, the icon and the WebAssembly build
// (app.wasm, with its brotli and gzip forms, made by `make build`), embedded in the server's binary and served
// with long cache lifetimes under URLs that carry their content hash. Only the server imports it.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
)

//go:embed web
var files embed.FS

// file is one asset, with its precompressed forms when the build made them.
type file struct {
	raw, br, gz []byte
	hash        string // first 12 hex digits of the SHA-256 of raw
}

var byName = load()

func load() map[string]*file {
	out := map[string]*file{}
	_ = fs.WalkDir(files, "web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".br") || strings.HasSuffix(p, ".gz") {
			return err
		}
		raw, _ := fs.ReadFile(files, p)
		sum := sha256.Sum256(raw)
		f := &file{raw: raw, hash: hex.EncodeToString(sum[:6])}
		f.br, _ = fs.ReadFile(files, p+".br")
		f.gz, _ = fs.ReadFile(files, p+".gz")
		out[strings.TrimPrefix(p, "web/")] = f
		return nil
	})
	return out
}

// HasWasm reports whether the WebAssembly build is embedded; without it the thread is still served,
// prerendered, and stays read-only.
func HasWasm() bool { return byName["app.wasm"] != nil }

// Version identifies the build of the widget: the hash of its WebAssembly, or of its stylesheet without one.
func Version() string {
	if f := byName["app.wasm"]; f != nil {
		return f.hash
	}
	if f := byName["thread.css"]; f != nil {
		return f.hash
	}
	return "dev"
}

// Path returns the URL path of the asset name under prefix, with the asset's content hash in it:
// prefix + "/web/app.3f2a9c1b7d2e.wasm".
func Path(prefix, name string) string {
	f := byName[name]
	if f == nil {
		return prefix + "/web/" + name
	}
	ext := path.Ext(name)
	return prefix + "/web/" + strings.TrimSuffix(name, ext) + "." + f.hash + ext
}

// Handler serves the assets under prefix + "/web/". A URL with the current content hash is cached for a year;
// one without is revalidated. The precompressed forms are sent to clients that accept them.
func Handler(prefix string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, ok := strings.CutPrefix(r.URL.Path, prefix+"/web/")
		if !ok {
			http.NotFound(w, r)
			return
		}
		f, hashed := lookup(name)
		if f == nil {
			http.NotFound(w, r)
			return
		}
		h := w.Header()
		ctype := mime.TypeByExtension(path.Ext(name))
		if strings.HasSuffix(name, ".wasm") {
			ctype = "application/wasm"
		}
		h.Set("Content-Type", ctype)
		h.Set("Vary", "Accept-Encoding")
		h.Set("ETag", `"`+f.hash+`"`)
		if hashed {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		if r.Header.Get("If-None-Match") == `"`+f.hash+`"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		body := f.raw
		accept := r.Header.Get("Accept-Encoding")
		switch {
		case f.br != nil && acceptsEncoding(accept, "br"):
			h.Set("Content-Encoding", "br")
			body = f.br
		case f.gz != nil && acceptsEncoding(accept, "gzip"):
			h.Set("Content-Encoding", "gzip")
			body = f.gz
		}
		_, _ = w.Write(body)
	})
}

// lookup finds an asset by its plain name or by its hashed name, and reports whether the name carried the
// current hash.
func lookup(name string) (*file, bool) {
	if f := byName[name]; f != nil {
		return f, false
	}
	ext := path.Ext(name)
	base := strings.TrimSuffix(name, ext)
	i := strings.LastIndexByte(base, '.')
	if i < 0 {
		return nil, false
	}
	f := byName[base[:i]+ext]
	if f == nil || base[i+1:] != f.hash {
		return nil, false
	}
	return f, true
}

// acceptsEncoding reports whether an Accept-Encoding header accepts coding with a quality above zero.
func acceptsEncoding(header, coding string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(name), coding) {
			continue
		}
		q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !found {
			return true
		}
		quality, err := strconv.ParseFloat(q, 64)
		return err == nil && quality > 0
	}
	return false
}
