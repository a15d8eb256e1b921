package discord

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// Embed is the one embed of a message for a logs channel.
type Embed struct {
	Title       string
	Description string
	Timestamp   time.Time
}

// Message is a message for a channel. Nothing in it ever pings anyone:
// it is sent with allowed_mentions parsing nothing.
type Message struct {
	// Nonce, at most 25 characters, is sent with enforce_nonce: Discord
	// posts one message per nonce within a few minutes, however often it
	// is sent.
	Nonce string
	Embed Embed
}

// Discord's bounds on what PostMessage sends.
const (
	maxNonceLength       = 25
	MaxEmbedTitle        = 256
	MaxEmbedDescription  = 4096
	maxMessageAnswerSize = 64 << 10
)

// PostMessage posts m to the channel as the bot. A 429, or the Limiter
// holding the call back, is an *apierr.Error with RetryAfter set.
func (b *Bot) PostMessage(ctx context.Context, channelID string, m Message) error {
	if !isSnowflake(channelID) {
		return apierr.New(apierr.Invalid, "channel id: must be a Discord id in digits")
	}
	if len(m.Nonce) == 0 || len(m.Nonce) > maxNonceLength {
		return apierr.New(apierr.Invalid, "nonce: must be 1 to %d characters", maxNonceLength)
	}
	if err := b.usable(); err != nil {
		return err
	}
	body, err := json.Marshal(map[string]any{
		"embeds": []map[string]any{{
			"title": m.Embed.Title, "description": m.Embed.Description,
			"timestamp": m.Embed.Timestamp.UTC().Format(time.RFC3339),
		}},
		"allowed_mentions": map[string]any{"parse": []string{}},
		"nonce":            m.Nonce,
		"enforce_nonce":    true,
	})
	if err != nil {
		return fmt.Errorf("post message: %w", err)
	}
	path := "/channels/" + channelID + "/messages"
	if b.ctxTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, b.ctxTimeout)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.base+path, bytes.NewReader(body))
	if err != nil {
		return &apierr.Error{Code: apierr.Internal, Message: "invalid Discord API URL", Cause: err}
	}
	req.Header.Set("Authorization", botAuthorizationPrefix+b.token)
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.http.Do(req)
	if err != nil {
		return transportError(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessageAnswerSize))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return b.refusal(path, resp, answer)
}
