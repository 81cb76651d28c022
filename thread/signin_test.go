package thread

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerifySSO feeds sign-in tokens of any shape to the verifier: it never panics, and it accepts a token
// only if the site's secret really signed it with HS256, with a subject and an expiry to come.
func FuzzVerifySSO(f *testing.F) {
	const secret = "the-site-secret"
	now := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	signed := func(method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(method, claims).SignedString(key)
		if err != nil {
			f.Fatal(err)
		}
		return s
	}
	exp := now.Add(time.Hour).Unix()
	f.Add(signed(jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "1", "name": "Ada", "exp": exp}))
	f.Add(signed(jwt.SigningMethodHS256, []byte(secret), jwt.MapClaims{"sub": "1", "name": "Ada", "exp": exp, "moderator": true, "aud": "blog"}))
	f.Add(signed(jwt.SigningMethodHS512, []byte(secret), jwt.MapClaims{"sub": "1", "name": "Ada", "exp": exp}))
	f.Add(signed(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"sub": "1", "name": "Ada", "exp": exp}))
	f.Add(signed(jwt.SigningMethodHS256, []byte("another"), jwt.MapClaims{"sub": "1", "exp": exp}))
	f.Add("a.b.c")
	f.Add("")
	f.Add(strings.Repeat("x.", 3000))

	s := &Service{Now: func() time.Time { return now }}
	site := &Site{Slug: "blog", SigningSecret: secret}
	f.Fuzz(func(t *testing.T, token string) {
		claims, err := s.verifySSO(token, func(*SSOClaims) (*Site, error) { return site, nil })
		if err != nil {
			if ErrorCode(err) != CodeUnauthenticated {
				t.Fatalf("refused with %s, want UNAUTHENTICATED: %v", ErrorCode(err), err)
			}
			return
		}
		// Accepted: check it independently, the long way.
		parts := strings.Split(token, ".")
		if len(parts) != 3 {
			t.Fatalf("accepted a token of %d parts", len(parts))
		}
		sig, err := jwt.NewParser().DecodeSegment(parts[2])
		if err != nil || jwt.SigningMethodHS256.Verify(parts[0]+"."+parts[1], sig, []byte(secret)) != nil {
			t.Fatalf("accepted a token the secret did not sign: %q", token)
		}
		if claims.Subject == "" || claims.ExpiresAt == nil || !claims.ExpiresAt.After(now.Add(-time.Minute)) {
			t.Fatalf("accepted claims without a subject or a future expiry: %+v", claims)
		}
	})
}
