package widget

import "github.com/maxence-charriere/go-app/v10/pkg/app"

// listenForSignIn takes the sign-in token that the embedding page signed for its logged-in user (data-sso on
// the embed tag) and exchanges it for a session. embed.js passes it by postMessage once the widget says it is
// ready, so that the token never appears in a URL, a log or the browser's history. Only the embedding window
// may send it, and a token is worth nothing unless the site signed it.
func (v *ThreadView) listenForSignIn(ctx app.Context) {
	w := app.Window()
	parent := w.Get("parent")
	if !parent.Truthy() || parent.Equal(w.Get("self")) {
		return
	}
	handler := app.FuncOf(func(_ app.Value, args []app.Value) any {
		e := args[0]
		data := e.Get("data")
		if !e.Get("source").Equal(parent) || data.Type() != app.TypeObject || data.Get("type").String() != "threadline:sso" {
			return nil
		}
		if token := data.Get("token"); token.Type() == app.TypeString {
			ctx.Dispatch(func(ctx app.Context) { v.signIn(ctx, token.String()) })
		}
		return nil
	})
	w.Call("addEventListener", "message", handler)
	parent.Call("postMessage", map[string]any{"type": "threadline:ready"}, "*")
}

// signIn exchanges the site's token for a Threadline session, kept like a reader token. An empty token says
// the site's user is signed out: the widget forgets its session.
func (v *ThreadView) signIn(ctx app.Context, siteToken string) {
	site := v.thread.Site
	if siteToken == "" {
		if v.token != "" {
			v.signOut(ctx)
		}
		return
	}
	ctx.Async(func() {
		var out struct {
			SignIn struct {
				Token  string `json:"token"`
				Reader struct {
					DisplayName string `json:"displayName"`
				} `json:"reader"`
			} `json:"signIn"`
		}
		err := call("", signInMutation, map[string]any{"site": site, "token": siteToken}, &out)
		ctx.Dispatch(func(ctx app.Context) {
			if err != nil {
				v.problem = "The site could not sign you in to the comments: " + err.Error()
				return
			}
			storeToken(site, out.SignIn.Token)
			v.token, v.name = out.SignIn.Token, out.SignIn.Reader.DisplayName
			v.refreshViewer(ctx)
			v.restartLive(ctx)
		})
	})
}
