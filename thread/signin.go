package thread

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// SSOClaims are what a site says of its signed-in user in a sign-in token: an HS256 JWT signed with the
// site's secret, with `sub` (the site's own ID for the user), `name`, `exp`, and `moderator` for the site's
// moderators. Threadline's own sessions carry the same claims, with `aud` naming the site.
type SSOClaims struct {
	Name      string `json:"name"`
	Moderator bool   `json:"moderator,omitempty"`
	jwt.RegisteredClaims
}

// Limits on sign-in tokens.
const (
	MaxSSOTokenBytes  = 4096
	MaxSSOSubjectSize = 200
	// MaxSessionLife caps how long a session lasts, whatever the site's token says.
	MaxSessionLife = 30 * 24 * time.Hour
	sessionIssuer  = "threadline"
	// ssoLeeway is the grace given to tokens past their expiry, for clocks that disagree.
	ssoLeeway = time.Minute
)

// ssoParser accepts HS256 only (never "none", never a public-key algorithm keyed by our secret) and requires an
// expiry, with a minute's grace for clocks that disagree. It reads the service's clock.
func (s *Service) ssoParser() *jwt.Parser {
	return jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithLeeway(ssoLeeway), jwt.WithTimeFunc(s.Now))
}

// SignIn verifies a token the site siteSlug signed for its logged-in user, maps the user to a reader of the
// site (created on first sign-in; renamed when the site's name for them changes) and returns the reader with a
// Threadline session token that lasts as long as the site's token did, at most MaxSessionLife.
func (s *Service) SignIn(ctx context.Context, siteSlug, token string) (*Reader, string, time.Time, error) {
	site, err := s.sites.SiteBySlug(ctx, siteSlug)
	if err != nil {
		return nil, "", time.Time{}, err
	}
	claims, err := s.verifySSO(token, func(*SSOClaims) (*Site, error) { return site, nil })
	if err != nil {
		return nil, "", time.Time{}, err
	}
	if err := s.limit("sign-ins from your address", byClient(ctx, s.writes)); err != nil {
		return nil, "", time.Time{}, err
	}
	name, err := ValidateDisplayName(claims.Name)
	if err != nil {
		return nil, "", time.Time{}, Errorf(CodeInvalid, "the sign-in token's name: %s", ErrorMessage(err))
	}
	r := &Reader{SiteID: site.ID, DisplayName: name, CreatedAt: s.now()}
	if err := s.readers.UpsertSSOReader(ctx, r, claims.Subject); err != nil {
		return nil, "", time.Time{}, err
	}
	r.Moderator = claims.Moderator
	expires := claims.ExpiresAt.Time
	if limit := s.now().Add(MaxSessionLife); expires.After(limit) {
		expires = limit
	}
	session := SSOClaims{Name: name, Moderator: claims.Moderator, RegisteredClaims: jwt.RegisteredClaims{
		Issuer: sessionIssuer, Subject: claims.Subject, Audience: jwt.ClaimStrings{site.Slug},
		ExpiresAt: jwt.NewNumericDate(expires), IssuedAt: jwt.NewNumericDate(s.now()),
	}}
	signed, err := jwt.NewWithClaims(jwt.SigningMethodHS256, session).SignedString([]byte(site.SigningSecret))
	if err != nil {
		return nil, "", time.Time{}, err
	}
	return r, signed, expires, nil
}

// verifySSO checks a sign-in token against the secret of the site siteOf finds for its claims.
func (s *Service) verifySSO(token string, siteOf func(*SSOClaims) (*Site, error)) (*SSOClaims, error) {
	if len(token) > MaxSSOTokenBytes {
		return nil, Errorf(CodeUnauthenticated, "the sign-in token is longer than %d bytes", MaxSSOTokenBytes)
	}
	var siteErr error
	claims := &SSOClaims{}
	_, err := s.ssoParser().ParseWithClaims(token, claims, func(*jwt.Token) (any, error) {
		site, err := siteOf(claims)
		if err != nil {
			siteErr = err
			return nil, err
		}
		if site.SigningSecret == "" {
			siteErr = Errorf(CodeUnauthenticated, "the site %q has no signing secret: create one with `threadline site rotate-secret`", site.Slug)
			return nil, siteErr
		}
		return []byte(site.SigningSecret), nil
	})
	switch {
	case siteErr != nil:
		return nil, siteErr
	case errors.Is(err, jwt.ErrTokenExpired):
		return nil, Errorf(CodeUnauthenticated, "the sign-in token expired: the site must sign a new one")
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return nil, Errorf(CodeUnauthenticated, "the sign-in token's signature does not match the site's secret")
	case err != nil:
		return nil, &Error{Code: CodeUnauthenticated, Message: "the sign-in token is not a valid HS256 JWT with sub, name and exp", Err: err}
	case claims.Subject == "" || len(claims.Subject) > MaxSSOSubjectSize:
		return nil, Errorf(CodeUnauthenticated, "the sign-in token's sub must be 1 to %d bytes", MaxSSOSubjectSize)
	}
	return claims, nil
}

// AuthenticateHeader returns a context for a request whose Authorization header (or, on a WebSocket, the
// Authorization of connection_init) is header: "Bearer TOKEN", or "" for an anonymous request. Credentials
// refused are returned as the error, and the context then reads as anonymous but answers the refusal to
// whatever needs a reader.
func (s *Service) AuthenticateHeader(ctx context.Context, header string) (context.Context, error) {
	if header == "" {
		return ctx, nil
	}
	scheme, token, _ := strings.Cut(header, " ")
	if token = strings.TrimSpace(token); !strings.EqualFold(scheme, "Bearer") || token == "" {
		err := Errorf(CodeUnauthenticated, "the Authorization header must be `Bearer TOKEN`")
		return WithRefusedViewer(ctx, err), err
	}
	authenticated, err := s.Authenticate(ctx, token)
	if err != nil {
		return WithRefusedViewer(ctx, err), err
	}
	return authenticated, nil
}

// Authenticate returns a context for a request made with a bearer token: a reader token, a session from
// SignIn (or a site's own token that names the site in `aud`), or a site's moderator key.
func (s *Service) Authenticate(ctx context.Context, token string) (context.Context, error) {
	switch {
	case len(token) > MaxSSOTokenBytes:
		return nil, Errorf(CodeUnauthenticated, "the token is too long to be a Threadline token")
	case strings.HasPrefix(token, tokenPrefix):
		r, err := s.readers.ReaderByTokenHash(ctx, HashToken(token))
		if ErrorCode(err) == CodeNotFound {
			return nil, Errorf(CodeUnauthenticated, "the token is unknown")
		}
		return WithViewer(ctx, r), err
	case strings.HasPrefix(token, moderatorKeyPrefix):
		siteID, keyID, err := s.sites.ModeratorKeyByHash(ctx, HashToken(token))
		if ErrorCode(err) == CodeNotFound {
			return nil, Errorf(CodeUnauthenticated, "the moderator key is unknown")
		}
		return withModeratorKey(ctx, siteID, keyID), err
	case strings.Count(token, ".") == 2:
		return s.authenticateSession(ctx, token)
	}
	return nil, Errorf(CodeUnauthenticated, "the token is not a Threadline token")
}

// authenticateSession maps a session token to its reader, with the moderator claim it carries.
func (s *Service) authenticateSession(ctx context.Context, token string) (context.Context, error) {
	var site *Site
	claims, err := s.verifySSO(token, func(c *SSOClaims) (*Site, error) {
		if len(c.Audience) != 1 {
			return nil, Errorf(CodeUnauthenticated, "the sign-in token must name its site in aud; or exchange it with the signIn mutation")
		}
		var err error
		if site, err = s.sites.SiteBySlug(ctx, c.Audience[0]); ErrorCode(err) == CodeNotFound {
			return nil, Errorf(CodeUnauthenticated, "the sign-in token names no site of this server")
		}
		return site, err
	})
	if err != nil {
		return nil, err
	}
	r, err := s.readers.ReaderBySSOSubject(ctx, site.ID, claims.Subject)
	if ErrorCode(err) == CodeNotFound {
		// A site's own token used directly: its user's first request makes the reader.
		name, nameErr := ValidateDisplayName(claims.Name)
		if nameErr != nil {
			return nil, Errorf(CodeUnauthenticated, "the sign-in token's name: %s", ErrorMessage(nameErr))
		}
		r = &Reader{SiteID: site.ID, DisplayName: name, CreatedAt: s.now()}
		err = s.readers.UpsertSSOReader(ctx, r, claims.Subject)
	}
	if err != nil {
		return nil, err
	}
	r.Moderator = claims.Moderator
	return context.WithValue(ctx, viewerKey{}, viewer{reader: r, acceptedUntil: claims.ExpiresAt.Add(ssoLeeway)}), nil
}
