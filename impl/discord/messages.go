package discord

import (
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
	resp, done, err := sendTo(ctx, b.http, b.ctxTimeout, http.MethodPost, b.base, path, botAuthorizationPrefix+b.token, body)
	if err != nil {
		return err
	}
	defer done()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxMessageAnswerSize))
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	return b.refusal(path, resp, answer)
}
