package dashboard_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
)

const wantCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Every answer of the dashboard carries its strict Content-Security-Policy
// (scripts and styles from this server only), and every page is a whole
// document: a language, a title, and nothing loaded from another origin.
func TestEveryPageIsStrict(t *testing.T) {
	w := newWorld(t)
	signedOut := newBrowser(t)
	signedIn := newBrowser(t)
	w.logIn(t, signedIn)
	external := regexp.MustCompile(`(src|href|action)="(https?:)?//`)
	for _, c := range []struct {
		name string
		b    *browser
		path string
		page bool
	}{
		{"home, signed out", signedOut, "/dashboard/", true},
		{"home, signed in", signedIn, "/dashboard/", true},
		{"keys page", signedIn, "/dashboard/guilds/" + guild.String(), true},
		{"keys page, signed out", signedOut, "/dashboard/guilds/" + guild.String(), true},
		{"a refused callback", signedOut, "/dashboard/callback?code=x&state=y", true},
		{"no such page", signedIn, "/dashboard/nothing", true},
		{"no such guild id", signedIn, "/dashboard/guilds/abc", true},
		{"the login redirect", signedOut, "/dashboard/login", false},
		{"/dashboard", signedOut, "/dashboard", false},
		{"the script", signedOut, "/dashboard/assets/dashboard.js", false},
		{"the style sheet", signedOut, "/dashboard/assets/dashboard.css", false},
		{"the icon", signedOut, "/dashboard/assets/icon.svg", false},
	} {
		a := c.b.get(w.URL + c.path)
		if got := a.Header.Get("Content-Security-Policy"); got != wantCSP {
			t.Errorf("%s: Content-Security-Policy %q", c.name, got)
		}
		if got := a.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("%s: Referrer-Policy %q", c.name, got)
		}
		if !c.page {
			continue
		}
		for _, want := range []string{`<html lang="en">`, "<title>", `<meta name="viewport"`} {
			if !strings.Contains(a.body, want) {
				t.Errorf("%s: no %s", c.name, want)
			}
		}
		if m := external.FindString(a.body); m != "" {
			t.Errorf("%s loads from another origin: %s", c.name, m)
		}
		if strings.Contains(a.body, "<script>") || strings.Contains(a.body, "style=") {
			t.Errorf("%s has inline script or style, which its policy refuses", c.name)
		}
	}
	if a := signedOut.get(w.URL + "/dashboard"); a.StatusCode != http.StatusMovedPermanently || a.Header.Get("Location") != "/dashboard/" {
		t.Errorf("/dashboard: %d to %q", a.StatusCode, a.Header.Get("Location"))
	}
}
