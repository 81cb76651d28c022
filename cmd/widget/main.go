// Command widget is the WebAssembly side of Threadline's thread widget: `make build` compiles it with
// GOOS=js GOARCH=wasm into widget/assets/web/app.wasm, which the server embeds. It links only package widget,
// never the server's SQLite or GraphQL code.
package main

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"

	"github.com/threadline/threadline/widget"
)

func main() {
	widget.Register()
	app.RunWhenOnBrowser()
}
