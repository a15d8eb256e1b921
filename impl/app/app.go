// Package app builds apikeyd from its configuration and runs it: the same
// constructor serves `go run .` and the end-to-end tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/apikeys"
	"github.com/apikeyd/apikeyd/impl/dashboard"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/discord/discordtest"
	"github.com/apikeyd/apikeyd/impl/docs"
	"github.com/apikeyd/apikeyd/impl/logchannel"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/ratelimit"
	"github.com/apikeyd/apikeyd/impl/session"
	"github.com/apikeyd/apikeyd/impl/store"
	v1 "github.com/apikeyd/apikeyd/impl/v1"
	"github.com/apikeyd/apikeyd/openapi"
)

// Server is a built apikeyd: its store and its HTTP handler.
type Server struct {
	cfg   Config
	log   *slog.Logger
	store *store.Store
	v1    *v1.Server
	// sessions are the dashboard's, which /v1's cookieAuth reads too.
	sessions *session.Manager
	handler  http.Handler
	// discordLimiter is the one gate of every call to Discord.
	discordLimiter *discord.Limiter
	// stop ends the background work; done is closed once it has ended.
	stop context.CancelFunc
	done chan struct{}
	// unlock releases the database for another server (lockDatabase).
	unlock func() error
	// logSender posts the logging module's messages; nil without a bot
	// token, when none are queued.
	logSender *logchannel.Sender
	// fakeDiscord is what --fake-discord started; nil without it.
	fakeDiscord *discordtest.Server
}

// errDatabaseInUse is what a second server on one database gets.
var errDatabaseInUse = errors.New("the database is in use by another apikeyd server: stop it first")

// New opens the store, installs the System key on first start and builds
// the handler.
func New(ctx context.Context, cfg Config, schemas Schemas, log *slog.Logger) (*Server, error) {
	if err := requireKeysFromEnvironment(cfg, true); err != nil {
		return nil, err
	}
	if cfg.SystemKey != "" {
		if err := checkSystemKey("APIKEYD_SYSTEM_KEY", cfg.SystemKey); err != nil {
			return nil, err
		}
	}
	if err := checkDashboard(cfg); err != nil {
		return nil, err
	}
	if cfg.DiscordBotToken != "" {
		if err := discord.CheckBotToken(cfg.DiscordBotToken); err != nil {
			return nil, fmt.Errorf("the Discord bot token (APIKEYD_DISCORD_BOT_TOKEN or --discord-bot-token-file): %w", err)
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	seed, err := loadCIMode(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.FakeDiscord {
		// Before the store opens: with a bot token, the logging module
		// queues its messages.
		cfg.DiscordBotToken = fakeBotToken
	}
	st, unlock, err := openServerStore(ctx, cfg, schemas, log)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st, unlock: unlock, discordLimiter: discord.NewLimiter(discord.LimiterConfig{})}
	err = s.installSystemKey(ctx)
	if err == nil {
		err = s.startCIMode(ctx, seed)
	}
	if err == nil {
		s.handler, err = s.routes()
	}
	if err != nil {
		s.stopCIMode()
		st.Close()
		unlock()
		return nil, err
	}
	ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		var wg sync.WaitGroup
		wg.Go(func() { s.sessions.Sweep(ctx, sessionSweepInterval) })
		wg.Go(func() { s.store.Listen(ctx, s.log) })
		if s.logSender != nil {
			wg.Go(func() { s.logSender.Run(ctx) })
		}
		s.v1.Run(ctx)
		wg.Wait()
	}()
	return s, nil
}

// Handler serves every route of apikeyd.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the server's storage, for tools that share the process.
func (s *Server) Store() *store.Store { return s.store }

// FlushKeyUses writes the guild-key uses recorded so far, which the
// server otherwise does every half second.
func (s *Server) FlushKeyUses(ctx context.Context) error { return s.v1.FlushKeyUses(ctx) }

// Close ends the background work, writing what it holds, closes the
// database and releases it for another server. It is safe to call more
// than once.
func (s *Server) Close() error {
	s.stop()
	<-s.done
	s.stopCIMode()
	err := s.store.Close()
	if s.unlock != nil {
		err = errors.Join(err, s.unlock())
		s.unlock = nil
	}
	return err
}

func (s *Server) routes() (http.Handler, error) {
	limiter := ratelimit.New(ratelimit.Config{
		PerSecond: s.cfg.AuthFailureRate, Burst: s.cfg.AuthFailureBurst, TrustedProxies: s.cfg.TrustedProxies,
	})
	observer := observe.New(s.log, !s.cfg.NoAccessLog)
	apiKeys := s.apiKeysAtFirstRequest(limiter, observer)
	discordClient := discord.NewClient(discord.Config{
		BaseURL:  s.cfg.DiscordAPIURL,
		CacheTTL: s.cfg.IdentityTTL,
		Limiter:  s.discordLimiter,
		Now:      s.cfg.Now,
	})
	dash, err := s.dashboard(discordClient)
	if err != nil {
		return nil, err
	}
	bot := discord.NewBot(discord.BotConfig{
		BaseURL: s.cfg.DiscordAPIURL,
		Token:   s.cfg.DiscordBotToken,
		Limiter: s.discordLimiter,
		Log:     s.log,
		Now:     s.cfg.Now,
	})
	if s.cfg.DiscordBotToken != "" {
		s.logSender = logchannel.New(logchannel.Config{
			Store: s.store, Poster: bot, Observer: observer, Log: s.log, Now: s.cfg.Now,
			PollInterval: s.cfg.LogChannel.PollInterval, FirstBackoff: s.cfg.LogChannel.FirstBackoff,
			MaxAttempts: s.cfg.LogChannel.MaxAttempts, MaxAge: s.cfg.LogChannel.MaxAge,
		})
	}
	s.v1, err = v1.New(v1.Config{
		Store:           s.store,
		Identity:        discordClient,
		Guilds:          discordClient,
		Bot:             bot,
		Sessions:        s.sessions,
		MaxKeysPerGuild: s.cfg.MaxKeysPerGuild,
		Limiter:         limiter,
		Observer:        observer,
		Log:             s.log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi/{name}", s.serveDocument)
	mux.Handle("GET /metrics", observer.MetricsHandler())
	// Beside the two families too, errors are JSON: a problem body, as /v1
	// writes it, rather than net/http's plain text.
	mux.Handle("/openapi/", s.getOnly())
	mux.Handle("/metrics", s.getOnly())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.v1.WriteError(w, r, apierr.New(apierr.NotFound, "no such route"))
	})
	// No method in the pattern: the docs answer 405 themselves.
	docsHandler := docs.Handler()
	mux.Handle("/docs", docsHandler)
	mux.Handle("/docs/", docsHandler)
	mux.Handle(dashboard.BasePath, dash)
	mux.Handle(dashboard.BasePath+"/", dash)
	return observer.Middleware(apiHeaders(byPrefix([]prefixed{{"/apiKeys", apiKeys}, {v1.BasePath, s.v1}}, mux))), nil
}

// apiKeysAtFirstRequest builds the /apiKeys family at its first request,
// not at start: a server whose clients use /v1 alone never builds its
// document and routes (issue #15: 0.13 MB of idle memory; the first
// /apiKeys request waits for the build, under a millisecond). Both
// documents are generated Go that tests build, so the error cannot
// happen; were it to, every /apiKeys request would answer 500 and log it.
func (s *Server) apiKeysAtFirstRequest(limiter *ratelimit.Limiter, observer *observe.Observer) http.Handler {
	build := sync.OnceValues(func() (http.Handler, error) { return apikeys.NewHandler(s.store, limiter, observer) })
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, err := build()
		if err != nil {
			s.v1.WriteError(w, r, fmt.Errorf("build the /apiKeys family: %w", err))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// serveDocument serves an embedded OpenAPI document, or the seed file's
// JSON Schema, by its file name.
func (s *Server) serveDocument(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if _, err := fs.Stat(openapi.Documents, name); err != nil || (!strings.HasSuffix(name, ".yaml") && name != openapi.SeedSchema) {
		s.v1.WriteError(w, r, apierr.New(apierr.NotFound, "no such document"))
		return
	}
	http.ServeFileFS(w, r, openapi.Documents, name)
}

// getOnly answers what a GET route beside it did not match: 404 to a GET
// or HEAD (GET /openapi/ names no document), 405 with Allow to any other
// method.
func (s *Server) getOnly() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			s.v1.WriteError(w, r, apierr.New(apierr.NotFound, "no such route"))
			return
		}
		w.Header().Set("Allow", "GET, HEAD")
		s.v1.WriteError(w, r, apierr.New(apierr.MethodNotAllowed, "method %s is not allowed here", r.Method))
	})
}

// prefixed is an API family and the prefix of its paths.
type prefixed struct {
	prefix  string
	handler http.Handler
}

// byPrefix sends each API family its requests untouched. ServeMux would
// clean their paths first and redirect, turning an empty path segment (an
// empty user name) into another route. The families are a slice, not a
// map, whose iteration costs more than the two prefixes' comparisons.
func byPrefix(families []prefixed, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, f := range families {
			if strings.HasPrefix(r.URL.Path, f.prefix) {
				f.handler.ServeHTTP(w, r)
				return
			}
		}
		rest.ServeHTTP(w, r)
	})
}

// Serve answers on ln until ctx is done, then stops accepting, lets
// in-flight requests finish (for up to 30 s) and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		// Far above validate.MaxHeaderBytes, so that the family answers
		// 431 in its own shape; net/http would answer in plain text.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:    func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}
