package hostile_test

import (
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/apikeyd/apikeyd/impl/apptest"
	"github.com/apikeyd/apikeyd/impl/keys"
)

// /v1: wrong methods, bad credentials, no rights and odd paths.

func (g *gen) v1(doc *openapi3.T) {
	adm := "Bearer " + adminToken
	ops := operations(doc)
	declared := map[string][]string{}
	for _, o := range ops {
		declared[o.path] = append(declared[o.path], o.method)
	}

	// Wrong methods on every path.
	paths := make([]string, 0, len(declared))
	for p := range declared {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, m := range allMethods {
			if !slices.Contains(declared[p], m) {
				g.add(hostileRequest{family: famV1, kind: "wrong method", method: m, target: "/v1" + p,
					header: hdr("Authorization", adm), want: http.StatusMethodNotAllowed})
			}
		}
	}

	for _, o := range ops {
		target := "/v1" + o.path
		base := g.v1Query(o)
		if base != "" {
			target += "?" + base
		}
		var baseBody []byte
		if o.body != nil {
			baseBody = []byte(objectText(g.baseBody(o.body)))
		}
		ct := ""
		if o.body != nil {
			ct = "application/json"
		}
		guildScoped := strings.Contains(base, "guild_id=") || (o.body != nil && o.body.Properties["guild_id"] != nil)

		// Credentials that are missing, unknown, of the other family or
		// of the wrong form: 401; a user without rights: 403.
		if o.secured {
			for _, cred := range g.badCredentials() {
				g.add(hostileRequest{family: famV1, kind: "bad credential", method: o.method, target: target,
					header: hdr("Authorization", cred, "Content-Type", ct), body: baseBody, want: http.StatusUnauthorized})
			}
			if guildScoped {
				g.add(hostileRequest{family: famV1, kind: "no rights on the guild", method: o.method, target: target,
					header: hdr("Authorization", "Bearer "+userToken, "Content-Type", ct), body: baseBody, want: http.StatusForbidden})
			}
		}

		for _, q := range o.query {
			g.v1QueryMutations(o, q, adm)
		}
		if o.body != nil {
			g.v1BodyMutations(o, target, baseBody, adm)
		}
	}

	// Odd paths: none names a route, or the route it names lacks its
	// parameters or body.
	long := strings.Repeat("a", 10<<10)
	odd := []string{
		"/v1/%2e%2e/apiKeys/getKeys", "/v1/..%2fapiKeys/getKeys", "/v1/../apiKeys/getKeys", "/v1/auth/api-key%00",
		"/v1//auth/api-key", "/v1/auth//api-key", "/v1/./auth/api-key", "/v1/auth/./api-key", "/v1/auth/../settings",
		"/v1/" + long, "/v1/auth/" + long, "/v1/settings/" + long, "/v1x", "/v1%2fsettings", "/v1/settings;jsessionid=1",
		"/v1/SETTINGS", "/v1/settings%20", "/v1/%ff", "/v1/%c0%af", "/v1/modules/logging/settings/extra",
		"/v1/auth/api-key//", "/v1/%00", "/v1/%25", "/v1/auth/api-key/%2e%2e", "/v1/modules/%2e%2e/settings",
		"/v1/" + strings.Repeat("a/", 500),
	}
	for _, p := range odd {
		for _, m := range []string{"GET", "POST", "DELETE"} {
			h := hdr("Authorization", adm)
			var body []byte
			if m != "GET" {
				h.Set("Content-Type", "application/json")
				body = []byte(`{}`)
			}
			g.add(hostileRequest{family: famV1, kind: "odd path", method: m, target: p, header: h, body: body})
		}
	}
}

// badCredentials are Authorization headers that name no one who may act:
// missing, empty, malformed, unknown, or a key of the other family.
func (g *gen) badCredentials() []string {
	creds := []string{
		"", "Bearer", "Bearer ", "Basic YWRtaW46YWRtaW4=", "Bearer not-a-token-anyone-knows", adminToken,
		"Bearer " + adminToken + "x", "Bearer " + strings.ToUpper(adminToken), "Bearer\t" + adminToken, "Token " + adminToken,
		wellFormedKey(keys.Guild), "Bearer " + wellFormedKey(keys.Guild), "akdg_AGIIXXlxhPtuKA4aZ9x37GoYHcnUuR28tJ7o",
		"Bearer akdg_", "akdg_" + strings.Repeat("0", 200), g.fx.userKey, "Bearer " + g.fx.userKey,
		apptest.SystemKey, "Bearer " + apptest.SystemKey, "Bearer \xff\xfe",
	}
	for _, s := range injections[:12] {
		creds = append(creds, "Bearer "+s)
	}
	return slices.DeleteFunc(creds, func(s string) bool { return !headerSafe(s) })
}
