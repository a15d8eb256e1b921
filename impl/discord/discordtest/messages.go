package discordtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The messages side of the fake: POST /channels/{id}/messages, answered
// to a bot token AddBot registered for a channel of a guild the bot is
// in (404 Unknown Channel, code 10003, otherwise), recording each message
// it posts. A nonce sent with enforce_nonce: true posts once within
// NonceWindow: a second message with it gets the first one back, as
// Discord does.

// CodeUnknownChannel is Discord's JSON error code for a channel it does
// not know.
const CodeUnknownChannel = 10003

// NonceWindow is how long the fake remembers a nonce; Discord says "the
// past few minutes".
const NonceWindow = 5 * time.Minute

// Posted is a message the fake posted.
type Posted struct {
	ID        string
	ChannelID string
	Nonce     string
	// Body is the request's JSON as sent.
	Body map[string]any
	// Raw is the request's body as sent, byte for byte.
	Raw string
}

// messages is the fake's message state; Server.mu guards it.
type messages struct {
	posted []Posted
	// nonces maps a nonce to the index of its message in posted and when
	// it was posted.
	nonces map[string]nonceSeen
	// sends counts the POSTs that reached the route.
	sends  int
	nextID int64
	// inFlight counts each channel's POSTs between their arrival and
	// their answer; mostInFlight is the most there were at once.
	inFlight, mostInFlight map[string]int
}

type nonceSeen struct {
	index int
	at    time.Time
}

func newMessages() messages {
	return messages{nonces: map[string]nonceSeen{}, nextID: 1300000000000000000, inFlight: map[string]int{}, mostInFlight: map[string]int{}}
}

// Posted lists the messages posted to the channel, oldest first.
func (s *Server) Posted(channelID string) []Posted {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Posted
	for _, p := range s.messages.posted {
		if p.ChannelID == channelID {
			out = append(out, p)
		}
	}
	return out
}

// MessageSends is how many messages reached the route, posted or not
// (those FailWith or RateLimit answer do not).
func (s *Server) MessageSends() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messages.sends
}

// MostConcurrentPosts is the most POSTs to the channel's messages that
// were in flight at once, each from its arrival (before Delay or Hold) to
// its answer: above 1, two senders posted to the channel at the same
// time.
func (s *Server) MostConcurrentPosts(channelID string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messages.mostInFlight[channelID]
}

// postArrived counts a POST to the channel in flight until the returned
// func is called, when it is answered.
func (s *Server) postArrived(channel string) (answered func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &s.messages
	m.inFlight[channel]++
	m.mostInFlight[channel] = max(m.mostInFlight[channel], m.inFlight[channel])
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.messages.inFlight[channel]--
	}
}

// channelMessagesRoute reports whether path is /channels/{id}/messages.
func channelMessagesRoute(path string) (string, bool) {
	rest, ok := strings.CutPrefix(path, "/channels/")
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/messages")
	return id, ok && id != "" && !strings.Contains(id, "/")
}

// serveMessage answers a bot's POST /channels/{id}/messages.
func (s *Server) serveMessage(w http.ResponseWriter, r *http.Request, _ string) {
	channel, _ := channelMessagesRoute(strings.TrimPrefix(r.URL.Path, APIPrefix))
	token, isBot := strings.CutPrefix(r.Header.Get("Authorization"), "Bot ")
	raw, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "400: Bad Request", "code": 50109})
		return
	}
	nonce, _ := body["nonce"].(string)
	enforce, _ := body["enforce_nonce"].(bool)
	if len(nonce) > 25 {
		writeJSON(w, http.StatusBadRequest, map[string]any{"message": "Invalid Form Body", "code": 50035})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.messages.sends++
	if _, known := s.bots.tokens[token]; !isBot || !known {
		writeUnauthorized(w)
		return
	}
	if !s.botChannelLocked(channel) {
		writeJSON(w, http.StatusNotFound, map[string]any{"message": "Unknown Channel", "code": CodeUnknownChannel})
		return
	}
	now := time.Now()
	if seen, ok := s.messages.nonces[nonce]; ok && enforce && nonce != "" && now.Sub(seen.at) < NonceWindow {
		writeJSON(w, http.StatusOK, messageObject(s.messages.posted[seen.index]))
		return
	}
	p := Posted{ID: strconv.FormatInt(s.messages.nextID, 10), ChannelID: channel, Nonce: nonce, Body: body, Raw: string(raw)}
	s.messages.nextID++
	s.messages.posted = append(s.messages.posted, p)
	if nonce != "" {
		s.messages.nonces[nonce] = nonceSeen{index: len(s.messages.posted) - 1, at: now}
	}
	writeJSON(w, http.StatusOK, messageObject(p))
}

// botChannelLocked reports whether a guild the bot is in has the channel.
func (s *Server) botChannelLocked(id string) bool {
	for _, g := range s.bots.botGuilds {
		for _, c := range g.Channels {
			if c.ID == id {
				return true
			}
		}
	}
	return false
}

func messageObject(p Posted) map[string]any {
	return map[string]any{
		"id": p.ID, "channel_id": p.ChannelID, "type": 0, "content": "", "nonce": p.Nonce,
		"embeds": p.Body["embeds"], "mentions": []any{}, "mention_roles": []any{}, "pinned": false, "tts": false,
	}
}
