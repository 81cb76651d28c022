package widget

import (
	"encoding/json"
	"errors"

	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// post sends a GraphQL request to the API on the page's own origin through the browser's fetch, and returns
// the response body. It blocks: call it from ctx.Async, never from the UI goroutine. (fetch, unlike net/http,
// costs the WebAssembly nothing in size.)
func post(token, query string, vars map[string]any) ([]byte, error) {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return nil, err
	}
	headers := map[string]any{"Content-Type": "application/json", "Accept": "application/json"}
	if token != "" {
		headers["Authorization"] = "Bearer " + token
	}
	opts := map[string]any{"method": "POST", "headers": headers, "body": string(body)}
	resp, err := await(app.Window().Call("fetch", "/graphql", opts))
	if err != nil {
		return nil, errors.New("the server could not be reached; check your connection")
	}
	text, err := await(resp.Call("text"))
	if err != nil {
		return nil, errors.New("the server's answer was cut short")
	}
	return []byte(text.String()), nil
}

// await waits for a JavaScript promise and returns what it resolved to.
func await(promise app.Value) (app.Value, error) {
	type outcome struct {
		v   app.Value
		err error
	}
	done := make(chan outcome, 1)
	resolve := app.FuncOf(func(_ app.Value, args []app.Value) any {
		done <- outcome{v: args[0]}
		return nil
	})
	defer resolve.Release()
	reject := app.FuncOf(func(_ app.Value, args []app.Value) any {
		done <- outcome{err: errors.New(args[0].Call("toString").String())}
		return nil
	})
	defer reject.Release()
	promise.Call("then", resolve, reject)
	o := <-done
	return o.v, o.err
}
