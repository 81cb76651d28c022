package graph

import (
	"encoding/base64"
	"strconv"
	"strings"

	"github.com/threadline/threadline/thread"
)

// The kinds of global ID; each is the GraphQL type's name.
const (
	kindSite    = "Site"
	kindArticle = "Article"
	kindComment = "Comment"
	kindReader  = "Reader"
)

// globalID returns the opaque global ID of the object of kind with database ID id: "Kind:id" in URL-safe
// base64, so it can go in a URL fragment as it is.
func globalID(kind string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(kind + ":" + strconv.FormatInt(id, 10)))
}

// parseGlobalID returns the kind and database ID of a global ID.
func parseGlobalID(gid string) (kind string, id int64, err error) {
	bad := thread.Errorf(thread.CodeInvalid, "%q is not a Threadline ID", truncate(gid, 40))
	raw, decodeErr := base64.RawURLEncoding.DecodeString(gid)
	if decodeErr != nil || len(gid) > 64 {
		return "", 0, bad
	}
	kind, num, ok := strings.Cut(string(raw), ":")
	if !ok {
		return "", 0, bad
	}
	id, convErr := strconv.ParseInt(num, 10, 64)
	// Only the canonical spelling is an ID (not "Comment:007", nor base64 with stray line breaks or padding
	// bits), so that one object has one ID.
	if convErr != nil || id <= 0 || globalID(kind, id) != gid {
		return "", 0, bad
	}
	return kind, id, nil
}

// idOf returns the database ID of a global ID that must be of the given kind.
func idOf(kind, gid string) (int64, error) {
	k, id, err := parseGlobalID(gid)
	if err != nil {
		return 0, err
	}
	if k != kind {
		return 0, thread.Errorf(thread.CodeInvalid, "%q is the ID of a %s, not of a %s", truncate(gid, 40), k, kind)
	}
	return id, nil
}

// truncate keeps error messages short when a client sends something long.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
