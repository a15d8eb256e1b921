// Package app builds apikeyd from its configuration and runs it: the same
// constructor serves `go run .` and the end-to-end tests.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"time"

	"github.com/apikeyd/apikeyd/impl/apikeys"
	"github.com/apikeyd/apikeyd/impl/discord"
	"github.com/apikeyd/apikeyd/impl/docs"
	"github.com/apikeyd/apikeyd/impl/keys"
	"github.com/apikeyd/apikeyd/impl/observe"
	"github.com/apikeyd/apikeyd/impl/ratelimit"
	"github.com/apikeyd/apikeyd/impl/store"
	v1 "github.com/apikeyd/apikeyd/impl/v1"
	"github.com/apikeyd/apikeyd/openapi"
)

// Server is a built apikeyd: its store and its HTTP handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *store.Store
	v1      *v1.Server
	handler http.Handler
	// stop ends the background work; done is closed once it has ended.
	stop context.CancelFunc
	done chan struct{}
}

// New opens the store, installs the System key on first start and builds
// the handler. schema is schema.sql.
func New(ctx context.Context, cfg Config, schema string, log *slog.Logger) (*Server, error) {
	st, err := openStore(ctx, cfg, schema, log)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, store: st}
	if err := s.installSystemKey(ctx); err != nil {
		st.Close()
		return nil, err
	}
	if s.handler, err = s.routes(); err != nil {
		st.Close()
		return nil, err
	}
	ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.done = make(chan struct{})
	go func() {
		defer close(s.done)
		s.v1.Run(ctx)
	}()
	// Parsing the documents leaves megabytes of garbage behind; hand that
	// memory back now rather than idle on it until the scavenger does.
	debug.FreeOSMemory()
	return s, nil
}

// Handler serves every route of apikeyd.
func (s *Server) Handler() http.Handler { return s.handler }

// Store is the server's storage, for tools that share the process.
func (s *Server) Store() *store.Store { return s.store }

// FlushKeyUses writes the guild-key uses recorded so far, which the
// server otherwise does every half second.
func (s *Server) FlushKeyUses(ctx context.Context) error { return s.v1.FlushKeyUses(ctx) }

// Close ends the background work, writing what it holds, and closes the
// database. It is safe to call more than once.
func (s *Server) Close() error {
	s.stop()
	<-s.done
	return s.store.Close()
}

func (s *Server) routes() (http.Handler, error) {
	limiter := ratelimit.New(ratelimit.Config{PerSecond: s.cfg.AuthFailureRate, Burst: s.cfg.AuthFailureBurst})
	observer := observe.New(s.log)
	apiKeys, err := apikeys.NewHandler(s.store, limiter, observer)
	if err != nil {
		return nil, err
	}
	s.v1, err = v1.New(v1.Config{
		Store: s.store,
		Identity: discord.NewClient(discord.Config{
			BaseURL:  s.cfg.DiscordAPIURL,
			CacheTTL: s.cfg.IdentityTTL,
		}),
		MaxKeysPerGuild: s.cfg.MaxKeysPerGuild,
		Limiter:         limiter,
		Observer:        observer,
		Log:             s.log,
	})
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /openapi/", http.StripPrefix("/openapi/", http.FileServerFS(openapi.Documents)))
	mux.Handle("GET /metrics", observer.MetricsHandler())
	// No method in the pattern: the docs answer 405 themselves.
	docsHandler := docs.Handler()
	mux.Handle("/docs", docsHandler)
	mux.Handle("/docs/", docsHandler)
	return observer.Middleware(byPrefix(map[string]http.Handler{"/apiKeys/": apiKeys, v1.BasePath: s.v1}, mux)), nil
}

// byPrefix sends each API family its requests untouched. ServeMux would
// clean their paths first and redirect, turning an empty path segment (an
// empty user name) into another route.
func byPrefix(families map[string]http.Handler, rest http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for prefix, h := range families {
			if strings.HasPrefix(r.URL.Path, prefix) {
				h.ServeHTTP(w, r)
				return
			}
		}
		rest.ServeHTTP(w, r)
	})
}

// installSystemKey installs the System key on first start: the one from
// the environment, else the one in <data-dir>/system.key, else a new one
// written there. Its value is never logged; only the file's path is.
func (s *Server) installSystemKey(ctx context.Context) error {
	has, err := s.store.HasSystemKey(ctx)
	if err != nil || has {
		if has && s.cfg.SystemKey != "" {
			s.log.Warn("APIKEYD_SYSTEM_KEY is ignored: a System key is installed already")
		}
		return err
	}
	token := s.cfg.SystemKey
	if token != "" && len(token) < 16 {
		return errors.New("APIKEYD_SYSTEM_KEY: want at least 16 characters")
	}
	if token == "" {
		path := filepath.Join(s.cfg.DataDir, "system.key")
		var created bool
		if token, created, err = loadOrCreateSystemKey(path); err != nil {
			return err
		}
		if created {
			s.log.Info("generated the System key; it is in this file, readable only by you", "path", path)
		}
	}
	if _, err := s.store.InstallSystemKey(ctx, token); err != nil {
		return err
	}
	return nil
}

func loadOrCreateSystemKey(path string) (token string, created bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		token = string(trimNewline(b))
		if len(token) < 16 {
			return "", false, fmt.Errorf("system key file %s: want at least 16 characters", path)
		}
		return token, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read system key: %w", err)
	}
	if token, err = keys.Generate(keys.User); err != nil {
		return "", false, fmt.Errorf("generate system key: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create data dir: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", false, fmt.Errorf("write system key: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write system key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return "", false, fmt.Errorf("write system key: %w", err)
	}
	return token, true, f.Close()
}

func trimNewline(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
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
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
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
