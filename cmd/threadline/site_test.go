package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
)

// TestSiteCommands runs the site commands as a site owner would, on one database file.
func TestSiteCommands(t *testing.T) {
	clearEnv(t)
	eachStore(t, testSiteCommands)
}

func testSiteCommands(t *testing.T, db string) {
	site := func(args ...string) (string, error) {
		var out, errOut bytes.Buffer
		err := run(context.Background(), append([]string{"site"}, append(args, "--db", db)...), &out, &errOut)
		return out.String(), err
	}
	out, err := site("create", "--slug", "blog", "--name", "  My   blog ", "--origin", "https://Blog.example/", "--edit-window", "15m")
	if err != nil {
		t.Fatal(err)
	}
	secret := regexp.MustCompile(`signing secret:\s+(\S{43})\n`).FindStringSubmatch(out)
	key := regexp.MustCompile(`moderator key:\s+(tlm_\S{43})\n`).FindStringSubmatch(out)
	if secret == nil || key == nil {
		t.Fatalf("create printed no secret or key:\n%s", out)
	}
	for _, want := range []string{"name:            My blog", "origins:         https://blog.example\n", "edit window:     15m0s", "rules:           Threat of violence; Harassment; Spam; Off-topic"} {
		if !strings.Contains(out, want) {
			t.Errorf("create printed no %q:\n%s", want, out)
		}
	}
	if _, err := site("create", "--slug", "blog", "--name", "Again"); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("a second blog: %v", err)
	}

	out, err = site("update", "--slug", "blog", "--premoderation", "--rule", "Spam", "--rule", "Off-topic")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "premoderation:   true") || !strings.Contains(out, "rules:           Spam; Off-topic") || !strings.Contains(out, "edit window:     15m0s") {
		t.Errorf("update changed the wrong things:\n%s", out)
	}

	rotated, err := site("rotate-secret", "--slug", "blog")
	if err != nil || strings.Contains(rotated, secret[1]) || !regexp.MustCompile(`signing secret:\s+\S{43}\n`).MatchString(rotated) {
		t.Errorf("rotate-secret: %v\n%s", err, rotated)
	}
	added, err := site("add-moderator", "--slug", "blog", "--name", "Alex")
	if err != nil || !strings.Contains(added, "tlm_") || strings.Contains(added, key[1]) {
		t.Errorf("add-moderator: %v\n%s", err, added)
	}

	list, err := site("list")
	if err != nil || !regexp.MustCompile(`blog\s+My blog\s+https://blog.example\s+true\s+15m0s\s+2`).MatchString(list) {
		t.Errorf("list: %v\n%s", err, list)
	}

	for _, bad := range [][]string{
		{"create", "--slug", "Bad_Slug", "--name", "x"},
		{"create", "--slug", "x", "--name", " "},
		{"create", "--slug", "y", "--name", "Y", "--origin", "ftp://y.example"},
		{"create", "--slug", "z", "--name", "Z", "--rule", "Spam", "--rule", "spam"},
		{"create", "--slug", "w", "--name", "W", "--edit-window", "-1m"},
		{"update", "--slug", "missing", "--name", "M"},
		{"update", "--name", "no slug"},
		{"add-moderator", "--slug", "blog", "--name", ""},
		{"unknown"},
	} {
		if out, err := site(bad...); err == nil {
			t.Errorf("%v succeeded:\n%s", bad, out)
		}
	}
}
