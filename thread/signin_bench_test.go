package thread_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/threadline/threadline/store/sqlite/sqlitetest"
	"github.com/threadline/threadline/thread"
)

// BenchmarkAuthenticate measures what each kind of credential costs a request: a reader token (one hash, one
// indexed lookup), a session from signIn (an HMAC check, a site and a reader lookup) and a moderator key.
func BenchmarkAuthenticate(b *testing.B) {
	ctx := context.Background()
	_, svc := sqlitetest.Open(b)
	_, secret, key, err := svc.CreateSite(ctx, "blog", thread.SiteSettings{Name: "Blog"})
	if err != nil {
		b.Fatal(err)
	}
	_, readerToken, err := svc.CreateReader(ctx, "blog", "Ada")
	if err != nil {
		b.Fatal(err)
	}
	hostToken, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "42", "name": "Bo", "exp": time.Now().Add(time.Hour).Unix(),
	}).SignedString([]byte(secret))
	if err != nil {
		b.Fatal(err)
	}
	_, session, _, err := svc.SignIn(ctx, "blog", hostToken)
	if err != nil {
		b.Fatal(err)
	}
	for _, tc := range []struct{ name, token string }{
		{"reader token", readerToken},
		{"session", session},
		{"moderator key", key},
	} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := svc.Authenticate(ctx, tc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
