package server

import (
	"net/http"
	"strings"

	"github.com/threadline/threadline/archive"
	"github.com/threadline/threadline/thread"
)

// exportHandler serves GET /export?site=SLUG[&article=KEY] to the site's moderators: the site's discussions
// in Threadline's JSON format (package archive), as `threadline export` writes them.
func exportHandler(svc *thread.Service) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		site, article := r.URL.Query().Get("site"), r.URL.Query().Get("article")
		if err := svc.MayExport(r.Context(), site); err != nil {
			status := http.StatusForbidden
			switch thread.ErrorCode(err) {
			case thread.CodeUnauthenticated:
				status = http.StatusUnauthorized
			case thread.CodeNotFound:
				status = http.StatusNotFound
			}
			writeGraphQLError(w, status, thread.ErrorCode(err), thread.ErrorMessage(err))
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
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="`+name+`.json"`)
		w.Header().Set("Cache-Control", "no-store")
		if err := archive.Write(r.Context(), svc, site, article, w); err != nil {
			// The response has begun: all that can be done is to cut it short, which the client sees.
			panic(http.ErrAbortHandler)
		}
	})
}
