package thread

import (
	"testing"
)

func TestCursorRoundTrip(t *testing.T) {
	keys := []Key{{0, 0, 1}, {3, 1795602024000, 42}, {1 << 30, -1, 1<<62 + 5}}
	for _, o := range []Order{OrderTop, OrderNewest, OrderOldest} {
		for _, k := range keys {
			got, err := DecodeCursor(o, EncodeCursor(o, k))
			if err != nil || got != k {
				t.Errorf("%v %+v: decoded %+v, %v", o, k, got, err)
			}
		}
	}
}

func TestDecodeCursorRefuses(t *testing.T) {
	for name, cursor := range map[string]string{
		"empty":         "",
		"not base64":    "!!!",
		"other order":   EncodeCursor(OrderNewest, Key{0, 1, 1}),
		"wrong version": b64("c0:top:0:1:1"),
		"few parts":     b64("c1:top:0:1"),
		"many parts":    b64("c1:top:0:1:1:1"),
		"negative like": b64("c1:top:-1:1:1"),
		"zero id":       b64("c1:top:0:1:0"),
		"not a number":  b64("c1:top:x:1:1"),
		"too long":      b64("c1:top:0:1:1" + string(make([]byte, 200))),
	} {
		_, err := DecodeCursor(OrderTop, cursor)
		if ErrorCode(err) != CodeInvalid {
			t.Errorf("%s: got %v, want a %s error", name, err, CodeInvalid)
		}
	}
}

func TestPageSize(t *testing.T) {
	n := func(i int) *int { return &i }
	for _, tc := range []struct {
		first *int
		want  int
		err   bool
	}{
		{nil, DefaultPageSize, false},
		{n(0), 0, false},
		{n(7), 7, false},
		{n(MaxPageSize), MaxPageSize, false},
		{n(MaxPageSize + 1), MaxPageSize, false},
		{n(-1), 0, true},
	} {
		got, err := PageSize(tc.first)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("PageSize(%v) = %d, %v", tc.first, got, err)
		}
	}
}

// FuzzDecodeCursor feeds arbitrary client cursors to the decoder: it must never panic, must answer either a
// key or BAD_USER_INPUT, and whatever it accepts must encode back to a cursor that decodes to the same key.
func FuzzDecodeCursor(f *testing.F) {
	for _, o := range []Order{OrderTop, OrderNewest, OrderOldest} {
		f.Add(int(o), EncodeCursor(o, Key{2, 1795602024000, 7}))
	}
	f.Add(0, "")
	f.Add(0, "YzE6dG9wOjA6MTc5NTYwMjAyNDAwMDox")
	f.Add(1, b64("c1:newest:0:-5:9"))
	f.Fuzz(func(t *testing.T, order int, cursor string) {
		o := Order(order % 3)
		if o < 0 {
			o = -o
		}
		k, err := DecodeCursor(o, cursor)
		if err != nil {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("error with code %s: %v", ErrorCode(err), err)
			}
			return
		}
		if k.ID <= 0 || k.LikeCount < 0 {
			t.Fatalf("accepted an impossible key %+v", k)
		}
		again, err := DecodeCursor(o, EncodeCursor(o, k))
		if err != nil || again != k {
			t.Fatalf("re-encoding %+v gave %+v, %v", k, again, err)
		}
	})
}
