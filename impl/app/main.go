package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"

	"github.com/apikeyd/apikeyd/impl/observe"
)

// Env is what the process gives the program.
type Env struct {
	Args    []string
	Getenv  func(string) string
	Stdout  io.Writer
	Stderr  io.Writer
	Schemas Schemas
	Version string
	// Listening, when set, is called once serve listens, before it
	// answers, with serve's logger: main ends its start-up settings of the
	// runtime there.
	Listening func(*slog.Logger)
}

const usage = `apikeyd: a self-hosted API-key service

Usage:
  apikeyd [serve] [flags]     serve the API (the default)
  apikeyd guild-admin add|remove|list --guild G --user U
                              manage who administers a guild through /v1
  apikeyd rotate-master-key   reseal every stored key under the current master key
  apikeyd rotate-system-key   replace the System key of the /apiKeys routes
  apikeyd copy-to-postgres --to URL
                              copy a SQLite database into an empty PostgreSQL one
  apikeyd version             print the version
Run "apikeyd serve --help" for the flags.
`

// Main runs a subcommand and returns the process exit code.
func Main(ctx context.Context, env Env) int {
	args := env.Args
	cmd := "serve"
	if len(args) > 0 && len(args[0]) > 0 && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx, env, args)
	case "guild-admin":
		err = guildAdmin(ctx, env, args)
	case "rotate-master-key":
		err = rotateMasterKey(ctx, env, args)
	case "rotate-system-key":
		err = rotateSystemKey(ctx, env, args)
	case "copy-to-postgres":
		err = copyToPostgres(ctx, env, args)
	case "version":
		fmt.Fprintln(env.Stdout, "apikeyd", env.Version)
	case "help":
		fmt.Fprint(env.Stdout, usage)
	default:
		fmt.Fprintf(env.Stderr, "apikeyd: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	if err != nil {
		fmt.Fprintln(env.Stderr, "apikeyd:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, env Env, args []string) error {
	fs := flag.NewFlagSet("apikeyd serve", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	cfg, err := parseServeFlags(args, env.Getenv, fs)
	if err != nil {
		return err
	}
	// Lines wait a few milliseconds to be written together (one write a
	// batch, not one a request); the deferred Close writes the rest
	// before serve returns, and so before Main prints any error.
	logw := observe.NewLogWriter(env.Stderr)
	defer logw.Close()
	log := newLogger(logw, cfg.LogFormat)
	srv, err := New(ctx, cfg, env.Schemas, log)
	if err != nil {
		return err
	}
	defer srv.Close()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if err := checkListener(cfg, ln); err != nil {
		ln.Close()
		return err
	}
	log.Info("apikeyd listening", "addr", ln.Addr().String(), "db", cfg.dbForLog(), "version", env.Version)
	if env.Listening != nil {
		env.Listening(log)
	}
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	log.Info("apikeyd stopped")
	return nil
}

func newLogger(w io.Writer, format string) *slog.Logger {
	return slog.New(observe.NewLogHandler(w, format == "json"))
}
