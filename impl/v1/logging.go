package v1

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// loggingDefaults reads the log_* flags and their defaults from the
// document, so that a flag added there is a flag of the service.
func loggingDefaults(doc *openapi3.T) (map[string]bool, error) {
	ref := doc.Components.Schemas["ModuleLogging"]
	if ref == nil {
		return nil, fmt.Errorf("the document has no ModuleLogging schema")
	}
	out := map[string]bool{}
	for name, p := range ref.Value.Properties {
		if !strings.HasPrefix(name, "log_") {
			continue
		}
		def, ok := p.Value.Default.(bool)
		if !ok {
			return nil, fmt.Errorf("ModuleLogging.%s has no boolean default", name)
		}
		out[name] = def
	}
	return out, nil
}

func (s *Server) GetLoggingStatus(ctx context.Context, req api.GetLoggingStatusRequestObject) (api.GetLoggingStatusResponseObject, error) {
	guild, err := readID(req.Params.GuildId)
	if err != nil {
		return nil, err
	}
	l, err := s.loggingOf(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.GetLoggingStatus403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	return api.GetLoggingStatus200JSONResponse{Success: api.SuccessTrue, Data: api.LoggingStatus{Status: l.Enabled}}, nil
}

func (s *Server) EnableLogging(ctx context.Context, req api.EnableLoggingRequestObject) (api.EnableLoggingResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	body, err := s.setLogging(ctx, guild, true)
	switch apierr.CodeOf(err) {
	case "":
		return api.EnableLogging200JSONResponse(body), nil
	case apierr.Forbidden:
		return guildForbidden[api.EnableLogging403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	case apierr.Conflict:
		return api.EnableLogging409ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	return nil, err
}

func (s *Server) DisableLogging(ctx context.Context, req api.DisableLoggingRequestObject) (api.DisableLoggingResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	body, err := s.setLogging(ctx, guild, false)
	switch apierr.CodeOf(err) {
	case "":
		return api.DisableLogging200JSONResponse(body), nil
	case apierr.Forbidden:
		return guildForbidden[api.DisableLogging403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	case apierr.Conflict:
		return api.DisableLogging409ApplicationProblemPlusJSONResponse(s.declared(ctx, err)), nil
	}
	return nil, err
}

// setLogging turns the module on or off: apierr.Conflict when it is in
// that state already.
func (s *Server) setLogging(ctx context.Context, guild snowflake.ID, enabled bool) (api.LoggingSettingsEnvelope, error) {
	p, err := s.authorizeGuild(ctx, guild)
	if err != nil {
		return api.LoggingSettingsEnvelope{}, err
	}
	l, err := s.store.SetLoggingEnabled(ctx, guild, p.actor(), enabled)
	if errors.Is(err, store.ErrLoggingAlreadyEnabled) || errors.Is(err, store.ErrLoggingAlreadyDisabled) {
		state := map[bool]string{true: "enabled", false: "disabled"}[enabled]
		return api.LoggingSettingsEnvelope{}, apierr.New(apierr.Conflict, "The logging module is already %s.", state)
	}
	if err != nil {
		return api.LoggingSettingsEnvelope{}, err
	}
	return s.loggingBody(l)
}

func (s *Server) GetLoggingSettings(ctx context.Context, req api.GetLoggingSettingsRequestObject) (api.GetLoggingSettingsResponseObject, error) {
	guild, err := readID(req.Params.GuildId)
	if err != nil {
		return nil, err
	}
	l, err := s.loggingOf(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.GetLoggingSettings403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	body, err := s.loggingBody(l)
	if err != nil {
		return nil, err
	}
	return api.GetLoggingSettings200JSONResponse(body), nil
}

func (s *Server) UpdateLoggingSettings(ctx context.Context, req api.UpdateLoggingSettingsRequestObject) (api.UpdateLoggingSettingsResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.UpdateLoggingSettings403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	change, err := s.loggingChange(req.Body)
	if err != nil {
		return nil, err
	}
	l, err := s.store.UpdateLoggingSettings(ctx, guild, p.actor(), change, s.loggingDefaults)
	if err != nil {
		return nil, err
	}
	body, err := s.loggingBody(l)
	if err != nil {
		return nil, err
	}
	return api.UpdateLoggingSettings200JSONResponse(body), nil
}

func (s *Server) ResetLoggingSettings(ctx context.Context, req api.ResetLoggingSettingsRequestObject) (api.ResetLoggingSettingsResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.ResetLoggingSettings403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	l, err := s.store.ResetLoggingSettings(ctx, guild, p.actor(), s.loggingDefaults)
	if err != nil {
		return nil, err
	}
	body, err := s.loggingBody(l)
	if err != nil {
		return nil, err
	}
	return api.ResetLoggingSettings200JSONResponse(body), nil
}

// loggingOf reads the logging module of a guild the caller may act on.
func (s *Server) loggingOf(ctx context.Context, guild snowflake.ID) (store.LoggingSettings, error) {
	if _, err := s.authorizeGuild(ctx, guild); err != nil {
		return store.LoggingSettings{}, err
	}
	return s.store.LoggingSettings(ctx, guild)
}

// loggingChange reads the fields an update sets: with ~150 flags, through
// JSON rather than field by field. Left-out and null fields are nil
// pointers, which omitempty drops.
func (s *Server) loggingChange(b *api.ModuleLoggingUpdate) (store.LoggingChange, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return store.LoggingChange{}, fmt.Errorf("read logging update: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return store.LoggingChange{}, fmt.Errorf("read logging update: %w", err)
	}
	change := store.LoggingChange{Flags: map[string]bool{}}
	if b.LogsChannelId != nil {
		channel, err := readID(*b.LogsChannelId)
		if err != nil {
			return store.LoggingChange{}, err
		}
		change.LogsChannelID = &channel
	}
	for name, v := range fields {
		if _, known := s.loggingDefaults[name]; !known {
			continue
		}
		var on bool
		if err := json.Unmarshal(v, &on); err != nil {
			return store.LoggingChange{}, fmt.Errorf("read logging flag %s: %w", name, err)
		}
		change.Flags[name] = on
	}
	return change, nil
}

// loggingBody is the answer of every logging settings operation.
func (s *Server) loggingBody(l store.LoggingSettings) (api.LoggingSettingsEnvelope, error) {
	fields := make(map[string]any, len(s.loggingDefaults)+3)
	for name, def := range s.loggingDefaults {
		fields[name] = def
	}
	for name, v := range l.Flags {
		if _, known := s.loggingDefaults[name]; known {
			fields[name] = v
		}
	}
	fields["id"] = l.ID
	fields["guild_id"] = l.GuildID.String()
	fields["logs_channel_id"] = l.LogsChannelID.String()
	var settings api.ModuleLogging
	raw, err := json.Marshal(fields)
	if err == nil {
		err = json.Unmarshal(raw, &settings)
	}
	if err != nil {
		return api.LoggingSettingsEnvelope{}, fmt.Errorf("logging settings body: %w", err)
	}
	return api.LoggingSettingsEnvelope{Success: api.SuccessTrue, Data: api.LoggingSettings{Settings: settings}}, nil
}

const (
	defaultPageSize = 50
	cursorPrefix    = "v1:"
)

func (s *Server) ListAuditEntries(ctx context.Context, req api.ListAuditEntriesRequestObject) (api.ListAuditEntriesResponseObject, error) {
	q := req.Params
	guild, err := readID(q.GuildId)
	if err != nil {
		return nil, err
	}
	_, err = s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.ListAuditEntries403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
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
			return api.ListAuditEntries400ApplicationProblemPlusJSONResponse(s.declared(ctx, &apierr.Error{
				Code:    apierr.Invalid,
				Message: "cursor: must be the next_cursor of a previous page",
				Fields:  map[string]string{"cursor": "must be the next_cursor of a previous page"},
			})), nil
		}
	}
	// One entry more than the page tells whether there is a next page.
	entries, err := s.store.AuditEntries(ctx, guild, before, limit+1)
	if err != nil {
		return nil, err
	}
	page := api.AuditEntries{Entries: make([]api.AuditEntry, 0, min(len(entries), limit))}
	if len(entries) > limit {
		entries = entries[:limit]
		page.NextCursor = ptr(makeCursor(entries[limit-1].ID))
	}
	for _, e := range entries {
		entry := api.AuditEntry{
			Id: e.ID, GuildId: e.GuildID.String(), CreatedAt: e.CreatedAt,
			Actor: e.Actor, Action: api.AuditEntryAction(e.Action), Changes: e.Changes,
		}
		if e.Undelivered {
			entry.Undelivered = &e.Undelivered
		}
		page.Entries = append(page.Entries, entry)
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

func (s *Server) GetLoggingPrivacyEntries(ctx context.Context, req api.GetLoggingPrivacyEntriesRequestObject) (api.GetLoggingPrivacyEntriesResponseObject, error) {
	data, forbidden, err := privacyCount(ctx, s, req.Params.GuildId, req.Params.PrivacyMemberId, s.store.LoggingEntriesOf)
	switch {
	case err != nil:
		return nil, err
	case forbidden != nil:
		return guildForbidden[api.GetLoggingPrivacyEntries403ApplicationProblemPlusJSONResponse](*forbidden), nil
	}
	return api.GetLoggingPrivacyEntries200JSONResponse{Success: api.SuccessTrue, Data: data}, nil
}

func (s *Server) DeleteLoggingPrivacyEntries(ctx context.Context, req api.DeleteLoggingPrivacyEntriesRequestObject) (api.DeleteLoggingPrivacyEntriesResponseObject, error) {
	data, forbidden, err := privacyErase(ctx, s, req.Body.GuildId, req.Body.PrivacyMemberId, s.store.EraseLoggingEntriesOf, msgLoggingErased)
	switch {
	case err != nil:
		return nil, err
	case forbidden != nil:
		return guildForbidden[api.DeleteLoggingPrivacyEntries403ApplicationProblemPlusJSONResponse](*forbidden), nil
	}
	return api.DeleteLoggingPrivacyEntries200JSONResponse{Success: api.SuccessTrue, Data: data}, nil
}
