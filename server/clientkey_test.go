package server

import "testing"

// TestClientKey: rate limits count an IPv6 client by its /64, so that one subscriber cannot take a fresh budget
// with each of its addresses; IPv4, IPv4-mapped IPv6 and anything unparsable count as they are.
func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ host, want string }{
		{"203.0.113.7", "203.0.113.7"},
		{"::ffff:203.0.113.7", "203.0.113.7"},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "2001:db8:1:3::/64"},
		{"::1", "::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"pipe", "pipe"},
		{"", ""},
	} {
		if got := clientKey(tc.host); got != tc.want {
			t.Errorf("clientKey(%q) = %q, want %q", tc.host, got, tc.want)
		}
	}
}
