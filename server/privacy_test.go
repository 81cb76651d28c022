package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/threadline/threadline/thread"
)

// TestDatabaseKeepsNoClientAddressOrUserAgent runs a session of reads and writes from a recognisable client,
// then reads every byte of the database files: neither its address nor its user agent is anywhere in them.
func TestDatabaseKeepsNoClientAddressOrUserAgent(t *testing.T) {
	s := newTestServer(t)
	const agent = "Probe-Agent/7.7 (unmistakable; zz-privacy-probe)"
	header := map[string]string{"User-Agent": agent, "X-Forwarded-For": "203.0.113.77", "Referer": "https://tracker.example/page"}

	token := ""
	for _, q := range []struct{ query string }{
		{`mutation { createReader(input: {site: "demo", displayName: "Private Person"}) { token } }`},
	} {
		body, _ := json.Marshal(map[string]string{"query": q.query})
		r := s.raw(t, http.MethodPost, "/graphql", merge(header, map[string]string{"Content-Type": "application/json"}),
			bytes.NewReader(body))
		token = between(string(r.body), `"token":"`, `"`)
	}
	if token == "" {
		t.Fatal("no token")
	}
	auth := merge(header, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + token})
	article := s.articleID(t)
	for _, body := range []string{
		`{"query": "mutation($a: ID!) { addComment(input: {articleId: $a, body: \"hello\"}) { comment { id } } }", "variables": {"a": "` + article + `"}}`,
		`{"query": "mutation { likeComment(input: {commentId: \"Q29tbWVudDox\"}) { comment { id } } }"}`,
		`{"query": "{ viewer { displayName } }"}`,
	} {
		if r := s.raw(t, http.MethodPost, "/graphql", auth, strings.NewReader(body)); r.status != http.StatusOK {
			t.Fatalf("status %d: %s", r.status, r.body)
		}
	}
	// A site's signed-in users, their reports and appeals, and a moderator's actions store no more.
	blog, secret, key, err := s.Svc.CreateSite(context.Background(), "blog", thread.SiteSettings{Name: "Blog"})
	if err != nil {
		t.Fatal(err)
	}
	fx := &modFixture{testServer: s, secret: secret}
	session := between(string(s.raw(t, http.MethodPost, "/graphql", merge(header, map[string]string{"Content-Type": "application/json"}),
		strings.NewReader(`{"query": "mutation($t: String!) { signIn(input: {site: \"blog\", token: $t}) { token } }", "variables": {"t": "`+
			fx.hostToken(t, secret, "user-1", "Signed Person", false)+`"}}`)).body), `"token":"`, `"`)
	if session == "" {
		t.Fatal("no session")
	}
	blogArticle := fx.newArticle(t, blog.ID)
	authorSession, _ := fx.user(t, "Author", false)
	comment := fx.addComment(t, authorSession, blogArticle, "", "A comment to report")
	sessionAuth := merge(header, map[string]string{"Content-Type": "application/json", "Authorization": "Bearer " + session})
	body, _ := json.Marshal(map[string]any{"query": reportMutation, "variables": map[string]any{"c": comment, "rule": "Spam"}})
	if r := s.raw(t, http.MethodPost, "/graphql", sessionAuth, bytes.NewReader(body)); r.status != http.StatusOK || strings.Contains(string(r.body), "errors") {
		t.Fatalf("report: %s", r.body)
	}
	fx.mutate(t, key, removeMutation, map[string]any{"c": comment, "rule": "Spam"})
	fx.mutate(t, authorSession, appealMutation, map[string]any{"c": comment, "text": "An appeal"})

	s.raw(t, http.MethodGet, "/embed/thread?site=demo&article=social-credit", header, nil)
	s.raw(t, http.MethodGet, "/embed/thread?site=demo&article=a-new-page&url=https://blog.example/new", header, nil)

	contents := s.DB.Contents(t)
	if len(contents) == 0 {
		t.Fatal("no database contents to scan")
	}
	sawName := false // the control: what the reader chose to give is there, so the scan reads the right bytes
	for f, data := range contents {
		sawName = sawName || bytes.Contains(data, []byte("Private Person"))
		for _, secret := range []string{agent, "zz-privacy-probe", "203.0.113.77", "127.0.0.1", "tracker.example", token, session} {
			if bytes.Contains(data, []byte(secret)) {
				t.Errorf("%s holds %q", f, secret)
			}
		}
	}
	if !sawName {
		t.Error("the scan did not find even the display name the reader chose: it reads the wrong files")
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func between(s, start, end string) string {
	_, after, ok := strings.Cut(s, start)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(after, end)
	return v
}
