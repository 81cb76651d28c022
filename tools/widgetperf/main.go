// Command widgetperf measures the thread widget as a reader meets it: the release binary serving the sample
// thread on loopback, Debian's headless Chromium loading the thread page with a fresh profile each run (cold)
// and once more in the same browser (warm). It reports medians of the time from navigation until the first
// comment is visible, and until the widget answers clicks (the WebAssembly has taken over), and the server's
// time to render the page.
//
//	go run ./tools/widgetperf [-bin bin/threadline] [-runs 5]
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// probe runs in the page before anything else and notes, every 2 ms, when the first comment is visible (in
// the DOM and not covered) and when the WebAssembly has taken over, so that its buttons work.
const probe = `(function () {
  window.__tl = {};
  function tick() {
    var c = document.querySelector(".tl-comment .tl-body");
    if (c && !window.__tl.visible) {
      var r = c.getBoundingClientRect();
      if (document.elementFromPoint(r.left + 2, r.top + 2) && c.contains(document.elementFromPoint(r.left + 2, r.top + 2))) window.__tl.visible = performance.now();
    }
    if (document.querySelector('#threadline[data-source="client"] .tl-actions button:not([disabled])') && !window.__tl.interactive) {
      window.__tl.interactive = performance.now();
    }
    if (!window.__tl.interactive) setTimeout(tick, 2);
  }
  tick();
})();`

type timing struct{ Visible, Interactive float64 }

func main() {
	bin := flag.String("bin", "bin/threadline", "the Threadline binary")
	runs := flag.Int("runs", 5, "cold runs; the median is reported")
	flag.Parse()
	if err := run(*bin, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "widgetperf:", err)
		os.Exit(1)
	}
}

func run(bin string, runs int) error {
	chromium, err := exec.LookPath("chromium")
	if err != nil {
		return fmt.Errorf("chromium is needed: apt-get install chromium")
	}
	dir, err := os.MkdirTemp("", "threadline-widgetperf-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.Command(bin, "serve", "--addr", addr, "--db", filepath.Join(dir, "perf.db"), "--log-level", "WARN")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { _ = srv.Process.Signal(os.Interrupt); _ = srv.Wait() }()
	url := "http://" + addr + "/embed/thread?site=demo&article=social-credit"
	if err := waitUp(url); err != nil {
		return err
	}

	render, err := serverRender(url, 200)
	if err != nil {
		return err
	}
	var cold, warm []timing
	for i := range runs {
		c, w, err := load(chromium, filepath.Join(dir, fmt.Sprint("profile", i)), url)
		if err != nil {
			return err
		}
		cold, warm = append(cold, c), append(warm, w)
	}
	fmt.Printf("thread page of the sample (20 comments prerendered), %d runs, medians:\n\n", runs)
	fmt.Printf("| load | first comment visible | widget interactive |\n|---|---:|---:|\n")
	fmt.Printf("| cold (fresh profile) | %.0f ms | %.0f ms |\n", median(cold, visible), median(cold, interactive))
	fmt.Printf("| warm (same browser) | %.0f ms | %.0f ms |\n", median(warm, visible), median(warm, interactive))
	fmt.Printf("\nserver render of the page, %d sequential requests: p50 %.2f ms, p99 %.2f ms\n", len(render), pct(render, 50), pct(render, 99))
	return nil
}

func visible(t timing) float64     { return t.Visible }
func interactive(t timing) float64 { return t.Interactive }

// load opens the page twice in a new browser: cold, then warm.
func load(chromium, profile, url string) (cold, warm timing, err error) {
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(profile), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		return cold, warm, err
	}
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: probe}); err != nil {
		return cold, warm, err
	}
	measure := func() (timing, error) {
		if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
			return timing{}, err
		}
		return chromedp.Run(ctx, chromedp.Poll[timing](`window.__tl && window.__tl.interactive ? window.__tl : null`,
			chromedp.WithPollingTimeout(30*time.Second)))
	}
	if cold, err = measure(); err != nil {
		return cold, warm, err
	}
	warm, err = measure()
	return cold, warm, err
}

// serverRender times n requests of the page, one after the other, in milliseconds.
func serverRender(url string, n int) ([]float64, error) {
	out := make([]float64, 0, n)
	for range n {
		start := time.Now()
		resp, err := http.Get(url)
		if err != nil {
			return nil, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		out = append(out, float64(time.Since(start).Microseconds())/1000)
	}
	return out, nil
}

func waitUp(url string) error {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("%s did not answer", url)
}

func median(ts []timing, get func(timing) float64) float64 {
	v := make([]float64, len(ts))
	for i, t := range ts {
		v[i] = get(t)
	}
	return pct(v, 50)
}

func pct(v []float64, p int) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[min(len(s)-1, len(s)*p/100)]
}
