// Command apikeyd is a self-hosted API-key service: see README.md.
package main

import (
	"context"
	_ "embed"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/apikeyd/apikeyd/impl/app"
	"github.com/apikeyd/apikeyd/impl/exepages"
	"github.com/apikeyd/apikeyd/impl/gcpace"
)

//go:generate go tool -modfile=tools/go.mod oapi-codegen -config tools/oapi-codegen/apikeys.yaml -o gen/apikeys/apikeys.gen.go openapi/apikeys.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config tools/oapi-codegen/v1.yaml -o gen/v1/v1.gen.go openapi/v1.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config tools/oapi-codegen/v1client.yaml -o gen/v1client/v1client.gen.go openapi/v1.yaml
//go:generate go tool -modfile=tools/go.mod oapi-codegen -config tools/oapi-codegen/apikeysclient.yaml -o gen/apikeysclient/apikeysclient.gen.go openapi/apikeys.yaml
//go:generate go tool -modfile=tools/go.mod sqlc generate
//go:generate go run -C tools ./tzlist ../gen/tz/zones.gen.go
//go:generate go run -C tools ./docjson ../gen/docsjson/docsjson.gen.go ../openapi/v1.yaml ../openapi/apikeys.yaml
//go:generate go run ./openapi/internal/docgo gen/docsgo/docsgo.gen.go

// The schemas are embedded here because Go embeds only files at or below
// the embedding package, and they sit at the top for sqlc.
var (
	//go:embed schema.sql
	sqliteSchema string
	//go:embed schema.postgres.sql
	postgresSchema string
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

// settleDelay is how long after listening the start's garbage and pages
// are handed back to the system: after the first requests, off the path to
// ready.
const settleDelay = 100 * time.Millisecond

func main() {
	// Serving, the heap may grow by gcpace's floor past what is live
	// before a collection (see impl/gcpace), unless the operator set GOGC:
	// then Go's own pace is theirs to choose. Not during start-up, whose
	// garbage is handed back just after. Here, not in app.New: tests start
	// many servers side by side in one process, and both are
	// process-wide.
	listening := func(log *slog.Logger) {
		time.AfterFunc(settleDelay, func() { settle(log) })
		if os.Getenv("GOGC") == "" {
			gcpace.Start(gcpace.DefaultFloor)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(app.Main(ctx, app.Env{
		Args:      os.Args[1:],
		Getenv:    os.Getenv,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Schemas:   app.Schemas{SQLite: sqliteSchema, PostgreSQL: postgresSchema},
		Version:   version,
		Listening: listening,
	}))
}

// settle hands back what only the start needed: the pages its garbage
// held, which the background scavenger would return only gradually, and
// then the executable's pages it touched (see impl/exepages), after the
// collection, whose marking touches more of them.
func settle(log *slog.Logger) {
	debug.FreeOSMemory()
	r, err := exepages.Release()
	if err != nil {
		log.Warn("the start's pages of the executable were not all released", "err", err, "mappings", r.Mappings, "bytes", r.Bytes, "skipped", r.Skipped)
		return
	}
	log.Info("released the start's pages of the executable", "mappings", r.Mappings, "bytes", r.Bytes, "skipped", r.Skipped)
}
