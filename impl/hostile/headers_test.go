package hostile_test

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

// headers: over 32 KiB of headers, in one header or many, for both
// families: 431 before anything else is looked at.
func (g *gen) headers() {
	targets := []struct{ family, method, target string }{
		{famV1, "GET", "/v1/settings?guild_id=" + guild.String()},
		{famV1, "POST", "/v1/auth/api-key"},
		{famV1, "GET", "/v1/livez"},
		{famAPIKeys, "POST", "/apiKeys/new/alice"},
		{famAPIKeys, "GET", "/apiKeys/getKeys"},
	}
	for _, tg := range targets {
		auth := apptest.SystemKey
		if tg.family == famV1 {
			auth = "Bearer " + adminToken
		}
		for i, h := range []http.Header{
			hdr("X-Padding", strings.Repeat("p", 33<<10)),
			hdr("X-Padding", strings.Repeat("p", 512<<10)),
			hdr("Cookie", "session="+strings.Repeat("c", 40<<10)),
			hdr("Authorization", "Bearer "+strings.Repeat("A", 40<<10)),
			manyHeaders(400, 100),
		} {
			if h.Get("Authorization") == "" {
				h.Set("Authorization", auth)
			}
			var body []byte
			if tg.method == "POST" && tg.family == famV1 {
				h.Set("Content-Type", "application/json")
				body = []byte(`{"guild_id": "` + guild.String() + `"}`)
			}
			g.add(hostileRequest{family: tg.family, kind: fmt.Sprintf("headers over 32 KiB (%d)", i), method: tg.method,
				target: tg.target, header: h, body: body, want: http.StatusRequestHeaderFieldsTooLarge})
		}
	}
	// Hostile but small headers do not change what is refused.
	for _, h := range []http.Header{
		hdr("X-Forwarded-For", "127.0.0.1", "X-Real-IP", "127.0.0.1", "X-Original-URL", "/apiKeys/getKeys"),
		hdr("X-HTTP-Method-Override", "GET", "X-Rewrite-URL", "/apiKeys/getKeys"),
		hdr("User-Agent", "${jndi:ldap://127.0.0.1:1/a}", "Referer", "<script>alert(1)</script>"),
		hdr("Content-Type", "application/json; charset=\xff", "Accept", "*/*;q=\xff"),
	} {
		g.add(hostileRequest{family: famAPIKeys, kind: "hostile headers", method: "POST", target: "/apiKeys/new/mallory", header: h, want: http.StatusForbidden})
		h2 := h.Clone()
		g.add(hostileRequest{family: famV1, kind: "hostile headers", method: "POST", target: "/v1/auth/api-key", header: h2,
			body: []byte(`{"guild_id": "` + guild.String() + `"}`)})
	}
}

func manyHeaders(n, size int) http.Header {
	h := http.Header{}
	for i := range n {
		h.Set(fmt.Sprintf("X-Many-%d", i), strings.Repeat("m", size))
	}
	return h
}
