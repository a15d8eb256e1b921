package v1

import (
	"context"
	"encoding/json"
	"fmt"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/store"
)

func (s *Server) CheckLoggingEvent(ctx context.Context, req api.CheckLoggingEventRequestObject) (api.CheckLoggingEventResponseObject, error) {
	guild, err := readID(req.Body.GuildId)
	if err != nil {
		return nil, err
	}
	p, err := s.authorizeGuild(ctx, guild)
	if apierr.CodeOf(err) == apierr.Forbidden {
		return guildForbidden[api.CheckLoggingEvent403ApplicationProblemPlusJSONResponse](s.declared(ctx, err)), nil
	}
	if err != nil {
		return nil, err
	}
	info := req.Body.EventInfo
	name := info.Category
	if info.Event != nil {
		name = *info.Event
	}
	flag := "log_" + name
	message := "Not logged: the logging module has no flag " + flag + "."
	if _, known := s.loggingDefaults[flag]; known {
		fields, err := eventFields(info)
		if err != nil {
			return nil, err
		}
		outcome, err := s.store.QueueLogEvent(ctx, guild, p.actor(), flag, fields)
		if err != nil {
			return nil, err
		}
		message = eventMessage(outcome, flag)
	}
	return api.CheckLoggingEvent200JSONResponse{Success: api.SuccessTrue, Data: api.LoggingEvent{Message: message}}, nil
}

// eventMessage says what became of an event under flag.
func eventMessage(outcome store.LogEventOutcome, flag string) string {
	switch outcome {
	case store.LogEventNoBotToken:
		return "Not logged: apikeyd has no Discord bot token."
	case store.LogEventModuleOff:
		return "Not logged: the logging module is off."
	case store.LogEventNoChannel:
		return "Not logged: the logging module has no logs channel."
	case store.LogEventFlagOff:
		return "Not logged: " + flag + " is off."
	}
	return "The event is queued for the logs channel."
}

// eventFields are what the message of an event shows: its fields that are
// set, data as JSON.
func eventFields(info api.LoggingEventInfo) (map[string]any, error) {
	fields := map[string]any{"category": info.Category, "success": info.Success}
	for name, v := range map[string]*string{"command": info.Command, "event": info.Event, "reason": info.Reason} {
		if v != nil {
			fields[name] = *v
		}
	}
	if info.Data != nil {
		b, err := json.Marshal(*info.Data)
		if err != nil {
			return nil, fmt.Errorf("event data: %w", err)
		}
		fields["data"] = string(b)
	}
	return fields, nil
}
