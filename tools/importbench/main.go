// Command importbench measures `threadline import` the way BENCHMARKS.md reports it: a generated Disqus
// export of N comments of a typical length, imported by the release binary into a new site; comments per
// second and the process's peak resident memory.
//
//	go run ./tools/importbench [-bin bin/threadline] [-comments 10000,1000000]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/threadline/threadline/internal/benchserver"
	"github.com/threadline/threadline/internal/threadgen"
)

// body is a comment of a typical length (about 300 characters) with some markup.
const body = `<p>I read the whole article twice. The part about the <b>blacklists</b> is what worries me most: ` +
	`nobody can see the score, nobody can appeal it, and the <a href="https://example.org/report">report</a> ` +
	`says it is already used for train tickets.</p><p>Where does it end?</p>`

func main() {
	bin := flag.String("bin", "bin/threadline", "the Threadline binary to measure")
	counts := flag.String("comments", "10000,1000000", "comma-separated numbers of comments")
	flag.Parse()
	if err := run(*bin, *counts); err != nil {
		fmt.Fprintln(os.Stderr, "importbench:", err)
		os.Exit(1)
	}
}

func run(bin, list string) error {
	counts, err := benchserver.Counts("comments", list)
	if err != nil {
		return err
	}
	fmt.Printf("threadline import --format disqus, release binary, one run each\n\n")
	fmt.Printf("| comments | file | time | comments/s | peak resident memory |\n|---:|---:|---:|---:|---:|\n")
	for _, n := range counts {
		if err := measure(bin, n); err != nil {
			return err
		}
	}
	return nil
}

func measure(bin string, n int) error {
	dir, err := os.MkdirTemp("", "threadline-importbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	file, db := filepath.Join(dir, "export.xml"), filepath.Join(dir, "bench.db")
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	size, err := threadgen.WriteDisqus(f, max(n/100, 1), n, body)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if out, err := exec.Command(bin, "site", "create", "--db", db, "--slug", "bench", "--name", "Bench").CombinedOutput(); err != nil {
		return fmt.Errorf("site create: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "import", "--db", db, "--site", "bench", "--format", "disqus", file)
	start := time.Now()
	out, err := cmd.CombinedOutput()
	took := time.Since(start)
	if err != nil {
		return fmt.Errorf("import: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), fmt.Sprintf("and %d comments", n)) {
		return fmt.Errorf("the import did not bring in %d comments:\n%s", n, out)
	}
	peakKB := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	fmt.Printf("| %d | %.1f MB | %s | %.0f | %d MB |\n", n, float64(size)/(1<<20), took.Round(time.Millisecond),
		float64(n)/took.Seconds(), peakKB/1024)
	return nil
}
