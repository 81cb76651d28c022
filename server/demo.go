package server

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"html/template"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/thread"
)

// DemoPage serves a publisher's page, meant for another origin than Threadline's: an article followed by the
// embed snippet exactly as a site owner pastes it. apiPort is the port Threadline's own server listens on; the
// snippet loads from the same host name at that port.
//
// Like a publisher with its own accounts, the page can sign its visitor in (?as=reader or ?as=moderator): it
// signs a token with the demo site's secret and passes it in data-sso. That is for trying Threadline out: it
// hands anyone who asks a moderator's token, so the demo page is served only with --demo-addr.
func DemoPage(svc *thread.Service, log *slog.Logger, site, article, apiPort string) http.Handler {
	var secretOnce sync.Once
	var secret string
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			http.NotFound(w, r)
			return
		}
		a, err := svc.Article(r.Context(), site, article)
		switch {
		case thread.ErrorCode(err) == thread.CodeNotFound:
			http.Error(w, "The demo article is not in the database: start the server with --sample.", http.StatusNotFound)
			return
		case err != nil:
			logInternal(log, r, err)
			http.Error(w, "internal error", statusOf(thread.CodeInternal))
			return
		}
		origin := demoAPIOrigin(r.Host, apiPort)
		secretOnce.Do(func() { secret = demoSecret(r.Context(), svc, site, log) })
		persona, sso := demoPersonas[r.URL.Query().Get("as")], (*string)(nil)
		if persona.sub != "" && secret != "" {
			token, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
				"sub": persona.sub, "name": persona.name, "moderator": persona.moderator, "exp": time.Now().Add(time.Hour).Unix(),
			}).SignedString([]byte(secret))
			if err == nil {
				sso = &token
			}
		} else if r.URL.Query().Get("as") == "signed-out" {
			sso = new(string)
		}
		h := w.Header()
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", demoPolicy(origin))
		h.Set("X-Content-Type-Options", "nosniff")
		err = demoTemplate.Execute(w, map[string]any{
			"Title":      a.Title,
			"Standfirst": a.Standfirst,
			"Paragraphs": strings.Split(a.Body, "\n\n"),
			"Origin":     origin,
			"Site":       site,
			"Article":    article,
			"SSO":        sso,
			"As":         r.URL.Query().Get("as"),
		})
		if err != nil {
			log.ErrorContext(r.Context(), "demo page", "err", err)
		}
	})
}

// demoAPIOrigin is the origin of Threadline's own server as seen from the demo page: the host name the page
// was asked for, at apiPort. A Host header that is not a plain host name or IP address (it goes into the page
// and into its Content-Security-Policy) is replaced by localhost.
func demoAPIOrigin(hostHeader, apiPort string) string {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	if !plainHost.MatchString(host) && net.ParseIP(host) == nil {
		host = "localhost"
	}
	if _, err := strconv.ParseUint(apiPort, 10, 16); err != nil {
		apiPort = "8080"
	}
	return "http://" + net.JoinHostPort(host, apiPort)
}

var plainHost = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$`)

// demoPolicy is the demo page's Content-Security-Policy: its one style sheet (by hash), embed.js and the
// thread's iframe from Threadline's origin, and nothing else.
func demoPolicy(apiOrigin string) string {
	return "default-src 'none'; script-src " + apiOrigin + "/embed.js; frame-src " + apiOrigin + "/embed/; " +
		"style-src '" + demoStyleHash + "'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// demoPersonas are the visitors the demo page can sign in, as a publisher with accounts would.
var demoPersonas = map[string]struct {
	sub, name string
	moderator bool
}{
	"reader":    {"demo-reader", "Ada (a signed-in reader)", false},
	"moderator": {"demo-moderator", "Sam (a moderator)", true},
}

// demoSecret returns the demo site's signing secret, giving it one if it has none.
func demoSecret(ctx context.Context, svc *thread.Service, site string, log *slog.Logger) string {
	s, err := svc.Site(ctx, site)
	if err == nil && s.SigningSecret != "" {
		return s.SigningSecret
	}
	secret, err := svc.RotateSecret(ctx, site)
	if err != nil {
		log.ErrorContext(ctx, "demo page: no signing secret", "err", err)
	}
	return secret
}

// demoStyle is the demo page's style sheet, allowed by its hash.
const demoStyle = `
  :root { color-scheme: light dark; }
  body { margin: 0; font: 19px/1.6 Georgia, "Times New Roman", serif; color: #1a1a1a; background: #fdfcf9; }
  .masthead { border-bottom: 1px solid #ddd; padding: 0.75rem 1rem; font: 600 1rem/1 system-ui, sans-serif; letter-spacing: 0.08em; text-transform: uppercase; }
  main { max-width: 44rem; margin: 0 auto; padding: 1rem; }
  h1 { font-size: 2rem; line-height: 1.2; margin: 1rem 0 0.5rem; }
  .standfirst { font-size: 1.2rem; color: #555; }
  h2 { font: 600 1.1rem/1.3 system-ui, sans-serif; margin-top: 2.5rem; }
  footer { max-width: 44rem; margin: 2rem auto; padding: 1rem; font: 0.85rem/1.4 system-ui, sans-serif; color: #666; }
  .personas { font: 0.85rem/1.6 system-ui, sans-serif; color: #555; border: 1px dashed #bbb; border-radius: 6px; padding: 0.5rem 0.75rem; }
  .personas a { color: inherit; } .personas [aria-current] { font-weight: 700; text-decoration: none; }
  @media (prefers-color-scheme: dark) {
    body { color: #e8e6e1; background: #15161a; }
    .masthead { border-color: #333; }
    .standfirst, footer { color: #aaa; }
  }
`

var demoStyleHash = func() string {
	sum := sha256.Sum256([]byte(demoStyle))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}()

var demoTemplate = template.Must(template.New("demo").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · The Demo Gazette</title>
<style>` + demoStyle + `</style>
</head>
<body>
<header class="masthead">The Demo Gazette</header>
<main>
<article>
<h1>{{.Title}}</h1>
<p class="standfirst">{{.Standfirst}}</p>
{{range .Paragraphs}}<p>{{.}}</p>
{{end}}</article>
<section aria-labelledby="discussion">
<h2 id="discussion">Discussion</h2>
<p class="personas">This demo publisher has accounts of its own. Read as:
<a href="?"{{if eq .As ""}} aria-current="page"{{end}}>a guest</a> ·
<a href="?as=reader"{{if eq .As "reader"}} aria-current="page"{{end}}>Ada, a signed-in reader</a> ·
<a href="?as=moderator"{{if eq .As "moderator"}} aria-current="page"{{end}}>Sam, a moderator</a> ·
<a href="?as=signed-out"{{if eq .As "signed-out"}} aria-current="page"{{end}}>signed out</a></p>
<div id="threadline"></div>
<script src="{{.Origin}}/embed.js" data-site="{{.Site}}" data-article="{{.Article}}"{{with .SSO}} data-sso="{{.}}"{{end}} async></script>
</section>
</main>
<footer>A stand-in for a publisher's page on another origin than Threadline's: the two lines of the embed snippet are all it adds.</footer>
</body>
</html>
`))
