package v1

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
)

const (
	defaultPageSize = 50
	cursorPrefix    = "v1:"
)

func (s *Server) ListAuditEntries(ctx context.Context, req api.ListAuditEntriesRequestObject) (api.ListAuditEntriesResponseObject, error) {
	q := req.Params
	if _, err := s.authorizeGuild(ctx, q.GuildId); err != nil {
		return nil, err
	}
	limit := defaultPageSize
	if q.Limit != nil {
		limit = *q.Limit
	}
	var before int64
	if q.Cursor != nil {
		var ok bool
		if before, ok = parseCursor(*q.Cursor); !ok {
			return api.ListAuditEntries400ApplicationProblemPlusJSONResponse(problem(&apierr.Error{
				Code:    apierr.Invalid,
				Message: "cursor: must be the next_cursor of a previous page",
				Fields:  map[string]string{"cursor": "must be the next_cursor of a previous page"},
			})), nil
		}
	}
	// One entry more than the page tells whether there is a next page.
	entries, err := s.store.AuditEntries(ctx, q.GuildId, before, limit+1)
	if err != nil {
		return nil, err
	}
	page := api.AuditEntries{Entries: make([]api.AuditEntry, 0, min(len(entries), limit))}
	if len(entries) > limit {
		entries = entries[:limit]
		page.NextCursor = ptr(makeCursor(entries[limit-1].ID))
	}
	for _, e := range entries {
		page.Entries = append(page.Entries, api.AuditEntry{
			Id: e.ID, GuildId: e.GuildID, CreatedAt: e.CreatedAt,
			Actor: e.Actor, Action: api.AuditEntryAction(e.Action), Changes: e.Changes,
		})
	}
	return api.ListAuditEntries200JSONResponse{Success: api.SuccessTrue, Data: page}, nil
}

// A cursor names the last entry of a page; it is opaque to clients so
// that its form may change.
func makeCursor(lastID int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(lastID, 10)))
}

func parseCursor(c string) (int64, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, false
	}
	digits, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id < 1 {
		return 0, false
	}
	return id, true
}
