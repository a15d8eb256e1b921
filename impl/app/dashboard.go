package app

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/dashboard"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/session"
)

// dashboardOn says whether cfg turns the dashboard on.
func (c Config) dashboardOn() bool { return c.DiscordClientID != "" }

// publicURL is where browsers reach apikeyd: --public-url, else the
// listen address over http.
func (c Config) publicURL() (*url.URL, error) {
	raw := c.PublicURL
	if raw == "" {
		raw = "http://" + c.Addr
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--public-url: want an absolute http or https URL such as https://keys.example.com, got %q", raw)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("--public-url: want the URL of apikeyd's root, without a path, query or user, got %q", raw)
	}
	u.Path = ""
	return u, nil
}

// redirectURI is where Discord sends the browser back after a login: the
// URL to register with the Discord application.
func redirectURI(public *url.URL) string { return public.String() + "/dashboard/callback" }

// checkDashboard refuses a configuration under which the dashboard would
// not work safely. Browsers give the clipboard and Secure cookies only to
// a secure context (https, or a loopback address), and a wildcard listen
// address says nothing of where browsers reach the server, so the
// redirect URI Discord checks could not be right.
func checkDashboard(c Config) error {
	if !c.dashboardOn() {
		return nil
	}
	if c.DiscordClientSecret == "" {
		return errors.New("the dashboard needs its Discord application's client secret: set APIKEYD_DISCORD_CLIENT_SECRET or --discord-client-secret-file")
	}
	if c.PublicURL == "" && wildcardAddr(c.Addr) {
		return fmt.Errorf("the dashboard needs --public-url when listening on every address (%s): browsers must be sent back to a URL that reaches this server", c.Addr)
	}
	u, err := c.publicURL()
	if err != nil {
		return err
	}
	if u.Scheme != "https" && !loopbackHost(u.Hostname()) {
		return fmt.Errorf("the dashboard needs an https --public-url (or a loopback one such as http://127.0.0.1:8080): browsers keep the clipboard and secure cookies from %s", u)
	}
	if _, err := url.Parse(c.DiscordAuthorizeURL); err != nil || !strings.HasPrefix(c.DiscordAuthorizeURL, "http") {
		return fmt.Errorf("--discord-authorize-url: want an absolute URL, got %q", c.DiscordAuthorizeURL)
	}
	return nil
}

// wildcardAddr says whether addr listens on every address: ":8080",
// "0.0.0.0:8080", "[::]:8080".
func wildcardAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsUnspecified()
}

func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// sessionSweepInterval is how often ended dashboard sessions are deleted.
const sessionSweepInterval = 10 * time.Minute

// dashboard builds the sessions and the dashboard's handler: off, saying
// how to turn it on, without a client id. The sessions exist either way,
// for /v1's cookieAuth to refuse what it is sent.
func (s *Server) dashboard(client *discord.Client) (*dashboard.Handler, error) {
	sessions := session.Config{
		Store: s.store, Forget: client,
		Idle: s.cfg.SessionIdle, Absolute: s.cfg.SessionAbsolute,
		Log: s.log, Now: s.cfg.Now,
	}
	cfg := dashboard.Config{Identity: client, Log: s.log}
	if s.cfg.dashboardOn() {
		public, err := s.cfg.publicURL()
		if err != nil {
			return nil, err
		}
		oauth := discord.NewOAuth(discord.OAuthConfig{
			ClientID:     s.cfg.DiscordClientID,
			ClientSecret: s.cfg.DiscordClientSecret,
			AuthorizeURL: s.cfg.DiscordAuthorizeURL,
			APIURL:       s.cfg.DiscordAPIURL,
			RedirectURL:  redirectURI(public),
			Limiter:      s.discordLimiter,
		})
		sessions.OAuth, cfg.OAuth, cfg.PublicURL = oauth, oauth, public
		s.log.Info("dashboard on: register its redirect URI with the Discord application",
			"dashboard", public.String()+dashboard.BasePath+"/", "redirect_uri", redirectURI(public))
	}
	s.sessions = session.New(sessions)
	cfg.Sessions = s.sessions
	return dashboard.New(cfg)
}
