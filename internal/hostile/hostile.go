// Package hostile is the corpus of hostile text that Threadline's tests push through every input that can
// reach a page: article titles, keys and URLs, display names, comment bodies, query parameters. Every payload
// that would run script does so visibly, by calling alert or setting window.__pwned, so that a browser test can
// tell that it ran.
package hostile

// Text is hostile text for any field: markup that would close the attribute, element or script it is written
// into, event handlers, template and format syntax, characters that JSON or JavaScript treat specially.
var Text = []string{
	`"><script>window.__pwned=1;alert(1)</script>`,
	`'><script>window.__pwned=1;alert(1)</script>`,
	`"><img src=x onerror="window.__pwned=1;alert(1)">`,
	`'><img src=x onerror='window.__pwned=1;alert(1)'>`,
	`"><svg onload=window.__pwned=1;alert(1)>`,
	`" onmouseover="window.__pwned=1" autofocus onfocus="window.__pwned=1;alert(1)" x="`,
	`' onfocus='window.__pwned=1;alert(1)' autofocus x='`,
	"` onfocus=window.__pwned=1;alert(1) autofocus x=`",
	`</script><script>window.__pwned=1;alert(1)</script>`,
	`</title><script>window.__pwned=1;alert(1)</script>`,
	`</textarea><script>window.__pwned=1;alert(1)</script>`,
	`</div></main><iframe srcdoc="<script>parent.__pwned=1;parent.alert(1)</script>"></iframe>`,
	`<style>*{display:none}</style><base href="https://evil.example/">`,
	`<!-- <script>window.__pwned=1;alert(1)</script> -->`,
	`]]><![CDATA[<script>window.__pwned=1;alert(1)</script>`,
	`&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &quot; &#39; &#x3C;`,
	"a\"b'c<d>e&f\\g`h\ni\tj\rk",
	"\u2028\u2029</script><script>window.__pwned=1;alert(1)</script>",
	`{{constructor.constructor('window.__pwned=1;alert(1)')()}}`,
	`${alert(1)} %s %d %v %!`,
	`\"};window.__pwned=1;alert(1);//`,
	`javascript:window.__pwned=1;alert(1)`,
	`Ünïcödé ✓ 名前 עברית`,
}

// URLs are hostile page addresses: schemes that run script or load a document, in the spellings browsers
// accept, and http(s) URLs that carry markup. Only the last kind may ever become a link.
var URLs = []string{
	`javascript:window.__pwned=1;alert(1)`,
	`JaVaScRiPt:window.__pwned=1;alert(1)`,
	` javascript:window.__pwned=1;alert(1)`,
	"java\tscript:window.__pwned=1;alert(1)",
	"java\nscript:window.__pwned=1;alert(1)",
	"\x01javascript:window.__pwned=1;alert(1)",
	`javascript&#58;window.__pwned=1;alert(1)`,
	`&#106;avascript:window.__pwned=1;alert(1)`,
	`javascript%3Awindow.__pwned=1;alert(1)`,
	`data:text/html,<script>window.__pwned=1;alert(1)</script>`,
	`data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
	`vbscript:msgbox(1)`,
	`https:\\evil.example/`,
	`//evil.example/`,
	`https://news.example/"><script>window.__pwned=1;alert(1)</script>`,
	`https://news.example/?q='><svg onload=window.__pwned=1;alert(1)>`,
	"https://news.example/?q=`<img src=x onerror=alert(1)>`&a=1&amp;b=2",
}

// Bodies are comment bodies in Markdown: links and images whose target runs script, raw HTML, and the hostile
// text above.
var Bodies = []string{
	`[click](javascript:window.__pwned=1;alert(1))`,
	`[click](JaVaScRiPt:alert(1))`,
	`[click]( javascript:alert(1))`,
	`[click](java&#x09;script:alert(1))`,
	`[click](&#106;avascript:alert(1))`,
	`[click](data:text/html,<script>alert(1)</script>)`,
	`[click](vbscript:msgbox(1))`,
	`[mail](mailto:a@example.com) and a@example.com`,
	`![x](javascript:alert(1)) ![y](https://img.example/a.png"onerror="alert(1))`,
	`<javascript:alert(1)> <https://ok.example/?a="><script>alert(1)</script>>`,
	`[ok](https://ok.example/"onmouseover="alert(1) "title\" onmouseover=\"alert(1)")`,
	`<a href="javascript:alert(1)">raw</a><script>window.__pwned=1;alert(1)</script>`,
	"```\n</code></pre><script>window.__pwned=1;alert(1)</script>\n```",
}
