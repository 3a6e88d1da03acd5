package server

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"digitpad/server/internal/memstore"
)

func TestClientAddr(t *testing.T) {
	trusted, err := parseTrustedProxies([]string{"10.0.0.0/8", " 192.168.1.1", "fd00::/8", ""})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		peer    string
		header  string // X-Forwarded-For unless forwarded
		lines   []string
		fwd     bool
		trusted trustedProxies
		want    string
	}{
		{name: "no proxies configured: the peer, headers ignored", peer: "203.0.113.7:5000",
			lines: []string{"198.51.100.1"}, want: "203.0.113.7"},
		{name: "untrusted peer: its header is ignored (spoofing from outside)", peer: "203.0.113.7:5000",
			lines: []string{"198.51.100.1"}, trusted: trusted, want: "203.0.113.7"},
		{name: "trusted proxy: the client it names", peer: "10.1.2.3:80",
			lines: []string{"198.51.100.1"}, trusted: trusted, want: "198.51.100.1"},
		{name: "spoofed left entries are never reached", peer: "10.1.2.3:80",
			lines: []string{"1.1.1.1, 2.2.2.2, 198.51.100.1"}, trusted: trusted, want: "198.51.100.1"},
		{name: "client sends a trusted-looking address first: still the real client", peer: "10.1.2.3:80",
			lines: []string{"10.9.9.9, 198.51.100.1"}, trusted: trusted, want: "198.51.100.1"},
		{name: "chain of trusted proxies is skipped", peer: "10.1.2.3:80",
			lines: []string{"6.6.6.6, 198.51.100.1, 192.168.1.1, 10.0.0.5"}, trusted: trusted, want: "198.51.100.1"},
		{name: "several header lines read in order", peer: "10.1.2.3:80",
			lines: []string{"6.6.6.6", "198.51.100.1, 10.0.0.5"}, trusted: trusted, want: "198.51.100.1"},
		{name: "no header from a trusted proxy: the proxy", peer: "10.1.2.3:80", trusted: trusted, want: "10.1.2.3"},
		{name: "garbage right of the client ends at the proxy that wrote it", peer: "10.1.2.3:80",
			lines: []string{"198.51.100.1, not-an-ip"}, trusted: trusted, want: "10.1.2.3"},
		{name: "garbage behind a second trusted proxy ends at that proxy", peer: "10.1.2.3:80",
			lines: []string{"junk, 10.0.0.5"}, trusted: trusted, want: "10.0.0.5"},
		{name: "all hops trusted: the left-most", peer: "10.1.2.3:80",
			lines: []string{"10.0.0.7, 10.0.0.5"}, trusted: trusted, want: "10.0.0.7"},
		{name: "IPv6 client with port and brackets", peer: "[fd00::1]:80",
			lines: []string{"[2001:db8::5]:4431"}, trusted: trusted, want: "2001:db8::5"},
		{name: "IPv4-mapped peer matches an IPv4 CIDR", peer: "[::ffff:10.1.2.3]:80",
			lines: []string{"198.51.100.1"}, trusted: trusted, want: "198.51.100.1"},
		{name: "zone ids are not addresses", peer: "10.1.2.3:80",
			lines: []string{"fe80::1%eth0"}, trusted: trusted, want: "10.1.2.3"},
		{name: "Forwarded: for= right to left", peer: "10.1.2.3:80", fwd: true,
			lines: []string{`for=1.1.1.1;proto=https, for="[2001:db8::9]:443";by=10.0.0.5`}, trusted: trusted, want: "2001:db8::9"},
		{name: "Forwarded: unknown and obfuscated ids stop at the proxy", peer: "10.1.2.3:80", fwd: true,
			lines: []string{"for=198.51.100.1, for=_hidden"}, trusted: trusted, want: "10.1.2.3"},
		{name: "Forwarded: element without for= stops at the proxy", peer: "10.1.2.3:80", fwd: true,
			lines: []string{"for=198.51.100.1, proto=https"}, trusted: trusted, want: "10.1.2.3"},
		{name: "Forwarded configured: X-Forwarded-For is not read", peer: "10.1.2.3:80", fwd: true,
			header: "X-Forwarded-For", lines: []string{"198.51.100.1"}, trusted: trusted, want: "10.1.2.3"},
		{name: "X-Forwarded-For configured: a client's Forwarded passed through is not read", peer: "10.1.2.3:80",
			header: "Forwarded", lines: []string{"for=1.2.3.4"}, trusted: trusted, want: "10.1.2.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/v1/predict", nil)
			r.RemoteAddr = tt.peer
			configured := headerXFF
			if tt.fwd {
				configured = headerForwarded
			}
			sent := tt.header
			if sent == "" {
				sent = configured
			}
			for _, l := range tt.lines {
				r.Header.Add(sent, l)
			}
			got, ok := clientAddr(r, tt.trusted, configured)
			if !ok || got.String() != tt.want {
				t.Errorf("clientAddr = %v (ok %v), want %s", got, ok, tt.want)
			}
		})
	}
}

func TestParseTrustedProxies_RejectsBadEntries(t *testing.T) {
	for _, bad := range []string{"10.0.0.0/33", "not-a-cidr", "10.0.0.1/8/2"} {
		if _, err := parseTrustedProxies([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestClientIdentity(t *testing.T) {
	s, err := New(Config{Store: memstore.New(), Token: "secret-token", TrustedProxies: []string{"10.0.0.0/8"}})
	if err != nil {
		t.Fatal(err)
	}
	req := func(peer, xff, auth, clientID string) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/v1/predict", nil)
		r.RemoteAddr = peer
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		if clientID != "" {
			r.Header.Set("X-Client-ID", clientID)
		}
		return r
	}
	id := func(r *http.Request) string { return s.clientIdentity(r, bearerToken(r, false)) }
	a := id(req("10.0.0.1:1", "198.51.100.1", "", ""))
	b := id(req("10.0.0.2:1", "198.51.100.2", "", ""))
	if a == b {
		t.Error("two clients behind the proxy share one identity")
	}
	if c := id(req("10.0.0.2:1", "198.51.100.1", "", "pad-7")); c != a {
		t.Errorf("anonymous client id changed the identity (%s vs %s): ids are free to mint", c, a)
	}
	t1 := id(req("10.0.0.1:1", "198.51.100.1", "secret-token", "pad-1"))
	t2 := id(req("10.0.0.1:1", "198.51.100.1", "secret-token", "pad-2"))
	if t1 == t2 || t1 == a {
		t.Errorf("token holders' devices: %s and %s, want distinct and not the address %s", t1, t2, a)
	}
	if w := id(req("10.0.0.1:1", "198.51.100.1", "wrong", "pad-1")); w != a {
		t.Errorf("a wrong token gave identity %s, want the address %s", w, a)
	}
	v6a := id(req("[2001:db8:1:2::1]:1", "", "", ""))
	v6b := id(req("[2001:db8:1:2::ffff]:1", "", "", ""))
	if v6a != v6b {
		t.Errorf("IPv6 addresses of one /64: %s and %s, want one identity", v6a, v6b)
	}
}
