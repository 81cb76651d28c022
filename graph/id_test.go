package graph

import (
	"encoding/base64"
	"testing"

	"github.com/threadline/threadline/live"
	"github.com/threadline/threadline/thread"
)

func TestGlobalIDRoundTrip(t *testing.T) {
	for _, kind := range []string{kindSite, kindArticle, kindComment, kindReader} {
		for _, id := range []int64{1, 42, 1<<53 + 1, 1<<63 - 1} {
			gid := globalID(kind, id)
			got, err := idOf(kind, gid)
			if err != nil || got != id {
				t.Errorf("%s %d: %q decoded to %d, %v", kind, id, gid, got, err)
			}
		}
	}
}

func TestIDOfRefuses(t *testing.T) {
	for name, gid := range map[string]string{
		"empty":        "",
		"not base64":   "%%%",
		"no kind":      b64("42"),
		"zero":         b64("Comment:0"),
		"negative":     b64("Comment:-1"),
		"not a number": b64("Comment:x"),
		"overflow":     b64("Comment:9223372036854775808"),
		"leading zero": b64("Comment:007"),
		"plus sign":    b64("Comment:+7"),
		"other kind":   globalID(kindArticle, 1),
		"too long":     b64("Comment:1" + string(make([]byte, 80))),
	} {
		if _, err := idOf(kindComment, gid); thread.ErrorCode(err) != thread.CodeInvalid {
			t.Errorf("%s: got %v, want %s", name, err, thread.CodeInvalid)
		}
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// FuzzParseGlobalID feeds arbitrary client IDs to the decoder: it never panics, answers BAD_USER_INPUT for what
// it refuses, and what it accepts is a positive ID whose encoding is exactly the ID given.
func FuzzParseGlobalID(f *testing.F) {
	f.Add(globalID(kindComment, 3))
	f.Add(globalID(kindReader, 1<<62))
	f.Add("Q29tbWVudDoz")
	f.Add("")
	f.Add(b64("Comment:007"))
	f.Fuzz(func(t *testing.T, gid string) {
		kind, id, err := parseGlobalID(gid)
		if err != nil {
			if thread.ErrorCode(err) != thread.CodeInvalid {
				t.Fatalf("error with code %s: %v", thread.ErrorCode(err), err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("accepted %q as ID %d", gid, id)
		}
		if again := globalID(kind, id); again != gid {
			t.Fatalf("%q was accepted as %s %d, whose ID is %q: one object, two IDs", gid, kind, id, again)
		}
	})
}

// FuzzDecodeLogCursor: a moderation log cursor from a client either decodes to a positive ID that encodes
// back to the same cursor, or is refused as BAD_USER_INPUT; it never panics.
func FuzzDecodeLogCursor(f *testing.F) {
	f.Add(encodeLogCursor(1))
	f.Add(encodeLogCursor(9_223_372_036_854_775_807))
	f.Add("bTE6MA")
	f.Add("")
	f.Add("m1:12")
	f.Fuzz(func(t *testing.T, cursor string) {
		id, err := decodeLogCursor(cursor)
		if err != nil {
			if thread.ErrorCode(err) != thread.CodeInvalid {
				t.Fatalf("refused with %s: %v", thread.ErrorCode(err), err)
			}
			return
		}
		if id <= 0 {
			t.Fatalf("decoded %q to %d", cursor, id)
		}
		if back, _ := decodeLogCursor(encodeLogCursor(id)); back != id {
			t.Fatalf("%d does not survive a round trip", id)
		}
	})
}

// FuzzDecodeEventCursor: an event cursor from a client decodes to a position that encodes back to a cursor
// decoding the same, or is refused as BAD_USER_INPUT; it never panics.
func FuzzDecodeEventCursor(f *testing.F) {
	f.Add(encodeEventCursor(live.Position{Epoch: 12345, Seq: 1}))
	f.Add(encodeEventCursor(live.Position{Epoch: 1<<64 - 1, Seq: 1<<64 - 1}))
	f.Add(encodeEventCursor(live.Position{Epoch: live.LogEpoch, XID: 1<<64 - 1, Seq: 1<<63 - 1}))
	f.Add(encodeEventCursor(live.Position{Epoch: live.LogEpoch, XID: 740, Seq: 12}))
	f.Add("ZTE6Og")
	f.Add("")
	f.Fuzz(func(t *testing.T, cursor string) {
		p, err := decodeEventCursor(cursor)
		if err != nil {
			if thread.ErrorCode(err) != thread.CodeInvalid {
				t.Fatalf("refused with %s: %v", thread.ErrorCode(err), err)
			}
			return
		}
		if back, err := decodeEventCursor(encodeEventCursor(p)); err != nil || back != p {
			t.Fatalf("%+v does not survive a round trip: %+v, %v", p, back, err)
		}
	})
}
