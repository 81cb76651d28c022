package widget

import (
	"strings"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// The reader's token is kept in the iframe's own localStorage, which browsers partition by the embedding site:
// it identifies the reader to this site's threads and cannot follow them anywhere else. No cookie is set.
func tokenKey(site string) string { return "threadline:" + site + ":token" }

func storedToken(site string) string {
	v := app.Window().Get("localStorage").Call("getItem", tokenKey(site))
	if v.IsNull() || v.IsUndefined() {
		return ""
	}
	return v.String()
}

func storeToken(site, token string) {
	app.Window().Get("localStorage").Call("setItem", tokenKey(site), token)
}

func forgetToken(site string) {
	app.Window().Get("localStorage").Call("removeItem", tokenKey(site))
}

// signOut forgets the reader's token and everything the page showed as theirs, and goes on as an anonymous
// reader: when their site signs them out, their account is deleted, or the server no longer knows the token.
func (v *ThreadView) signOut(ctx app.Context) {
	forgetToken(v.thread.Site)
	v.token, v.name, v.liked, v.own = "", "", nil, nil
	v.refreshViewer(ctx) // with no token, it clears the reader's moderation state
	v.restartLive(ctx)
}

// gqlError is an error the API answered, with its code.
type gqlError struct {
	code, message string
}

func (e *gqlError) Error() string { return e.message }

// call sends a GraphQL request as the reader with token (none when empty) and decodes its data into out.
func call(token, query string, vars map[string]any, out any) error {
	resp, err := post(token, query, vars)
	if err != nil {
		return err
	}
	return decode(resp, out)
}

// friendly turns an API error into a sentence for a reader.
func friendly(code, message string) string {
	switch code {
	case "RATE_LIMITED":
		return "You are going a little fast. Please wait a moment and try again."
	case "UNAUTHENTICATED":
		return "Your name on this site was not recognised. Please choose it again."
	case "INTERNAL":
		return "Something went wrong on the server. Please try again."
	}
	if message == "" {
		return "That did not work. Please try again."
	}
	return strings.ToUpper(message[:1]) + message[1:] + "."
}
