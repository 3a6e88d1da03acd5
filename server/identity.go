package server

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Client identity, for rate limiting: who is behind a request, HTTP or websocket alike.
//
// The address is the TCP peer's, unless the peer is a trusted proxy (Config.TrustedProxies): then it is read
// from the forwarding header the proxies write (Config.ProxyHeader: X-Forwarded-For, or RFC 7239 Forwarded),
// right to left, skipping trusted hops: the right-most address that is not a trusted proxy is the client. A
// client can put anything at the left of that header, but every entry right of its own was appended by a proxy
// we trust, so what it wrote is never reached. An entry that cannot be parsed ("unknown", an obfuscated
// identifier, garbage) ends the walk at the proxy that appended it: those clients share that proxy's bucket
// rather than getting a fresh one per made-up value. Only the one configured header is read; a proxy that
// writes X-Forwarded-For passes a client's own Forwarded header through untouched, so honouring both would let
// the client choose.
//
// The identity rate limits count against is then:
//   - a request with a valid bearer token: the token and the X-Client-ID it names (token holders are trusted
//     not to mint ids; one bucket per clerk device behind one shared token);
//   - otherwise the client address (IPv6 by /64, the block one subscriber gets). An anonymous X-Client-ID is
//     ignored: anyone can send a new one with every request.

// trustedProxies is a parsed --trusted-proxies list.
type trustedProxies []netip.Prefix

// parseTrustedProxies reads CIDRs (or single addresses) separated by commas.
func parseTrustedProxies(list []string) (trustedProxies, error) {
	var out trustedProxies
	for _, s := range list {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			a, err := netip.ParseAddr(s)
			if err != nil {
				return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
			}
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q: %w", s, err)
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

func (t trustedProxies) trusts(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range t {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// Forwarding headers.
const (
	headerXFF       = "X-Forwarded-For"
	headerForwarded = "Forwarded"
)

// clientAddr is the address of the client behind r (see the comment at the top of this file). ok is false when
// even the peer address cannot be parsed (then callers fall back to RemoteAddr as an opaque key).
func clientAddr(r *http.Request, trusted trustedProxies, header string) (netip.Addr, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		host, _, herr := net.SplitHostPort(r.RemoteAddr)
		if herr != nil {
			return netip.Addr{}, false
		}
		a, perr := netip.ParseAddr(host)
		if perr != nil {
			return netip.Addr{}, false
		}
		ap = netip.AddrPortFrom(a, 0)
	}
	addr := ap.Addr().Unmap()
	if len(trusted) == 0 || !trusted.trusts(addr) {
		return addr, true
	}
	hops := forwardedHops(r.Header.Values(header), header == headerForwarded)
	for i := len(hops) - 1; i >= 0; i-- {
		hop, ok := parseHop(hops[i])
		if !ok {
			return addr, true // the trusted proxy at addr appended something we cannot read: stop there
		}
		addr = hop
		if !trusted.trusts(hop) {
			return hop, true
		}
	}
	return addr, true // every hop is a trusted proxy: the left-most is as far as we can see
}

// forwardedHops lists the hop entries of all header lines in order: the X-Forwarded-For addresses, or the for=
// values of Forwarded elements (an element without for= counts as unreadable).
func forwardedHops(lines []string, forwarded bool) []string {
	var hops []string
	for _, line := range lines {
		for _, el := range strings.Split(line, ",") {
			el = strings.TrimSpace(el)
			if !forwarded {
				hops = append(hops, el)
				continue
			}
			for_ := ""
			for _, pair := range strings.Split(el, ";") {
				k, v, ok := strings.Cut(strings.TrimSpace(pair), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "for") {
					for_ = strings.TrimSpace(v)
				}
			}
			hops = append(hops, for_)
		}
	}
	return hops
}

// parseHop reads one hop: an IPv4 or IPv6 address, optionally quoted, bracketed and with a port.
func parseHop(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	if s == "" {
		return netip.Addr{}, false
	}
	if a, err := netip.ParseAddr(s); err == nil && a.Zone() == "" {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil && ap.Addr().Zone() == "" {
		return ap.Addr().Unmap(), true
	}
	if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		if a, err := netip.ParseAddr(s[1 : len(s)-1]); err == nil && a.Zone() == "" {
			return a.Unmap(), true
		}
	}
	return netip.Addr{}, false
}

// addrKey is the rate-limit key of a client address: IPv4 as is, IPv6 by its /64.
func addrKey(a netip.Addr) string {
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}

// clientIdentity is the key rate limits count r against (see the comment at the top of this file). token is
// the bearer token the request carries (header or, for websockets, access_token), "" when none.
func (s *Server) clientIdentity(r *http.Request, token string) string {
	if token != "" && s.validToken("Bearer "+token) {
		sum := sha256.Sum256([]byte(token)) // the key never holds the secret itself
		key := "token:" + hex.EncodeToString(sum[:8])
		if id := r.Header.Get("X-Client-ID"); id != "" && len(id) <= s.cfg.Limits.MaxIDLen {
			key += "/client:" + id
		}
		return key
	}
	a, ok := clientAddr(r, s.proxies, s.cfg.ProxyHeader)
	if !ok {
		return "peer:" + r.RemoteAddr
	}
	return addrKey(a)
}

// bearerToken is the token a request carries in its Authorization header, or (websockets only: browsers cannot
// set headers there) in ?access_token=.
func bearerToken(r *http.Request, ws bool) string {
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return strings.TrimSpace(tok)
	}
	if ws {
		return r.URL.Query().Get("access_token")
	}
	return ""
}
