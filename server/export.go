package server

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// exportHandler serves GET /export?site=SLUG[&article=KEY] to the site's moderators: the site's discussions
// in Threadline's JSON format (package archive), as `threadline export` writes them.
func exportHandler(svc *thread.Service, log *slog.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site, article := r.URL.Query().Get("site"), r.URL.Query().Get("article")
		if err := svc.MayExport(r.Context(), site); err != nil {
			writeError(log, w, r, err)
			return
		}
		name := "threadline-" + site
		if article != "" {
			name += "-" + strings.Map(func(r rune) rune {
				if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
					return r
				}
				return '-'
			}, strings.ToLower(article))
		}
		out := &startedWriter{w: w, header: func() {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
			w.Header().Set("Cache-Control", "no-store")
		}}
		if err := archive.Write(r.Context(), svc, site, article, out); err != nil {
			if !out.started {
				writeError(log, w, r, err)
				return
			}
			// The response has begun: all that can be done is to log why and cut it short, which the client sees.
			logInternal(log, r, err)
			panic(http.ErrAbortHandler)
		}
	})
}

// startedWriter sets a response's headers at its first byte, so that a failure before it can still answer an
// error of its own.
type startedWriter struct {
	w       http.ResponseWriter
	header  func()
	started bool
}

func (s *startedWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		s.header()
	}
	return s.w.Write(p)
}
