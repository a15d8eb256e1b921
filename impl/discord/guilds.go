package discord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// ReasonMissingGuildsScope is the Reason of the Forbidden error Guilds
// returns for a token granted without the "guilds" scope: the token is
// good, its user known, and only logging in again granting that scope
// lets apikeyd list their guilds. A family answers it 403 with the error's
// Message.
const ReasonMissingGuildsScope = "missing_guilds_scope"

const (
	// maxGuildsBodyBytes caps a guild list: a user is in at most 200
	// guilds, each a partial guild object of a few hundred bytes.
	maxGuildsBodyBytes = 1 << 20
	// guildsPath lists the user's guilds. Without a limit Discord answers
	// up to 200, as many as a user can be in, so one page is all of them.
	guildsPath = "/users/@me/guilds"
	// authorizationPath describes the token itself, its scopes included.
	authorizationPath = "/oauth2/@me"
)

// Guild is a guild the user is in, as GET /users/@me/guilds describes it.
type Guild struct {
	ID   string
	Name string
	// Icon is the hash of the guild's icon; nil when it has none.
	Icon *string
}

// Guilds returns the guilds the user of token is in, cached per token for
// the same TTL as the identity (one request shared by concurrent callers).
// The slice is the caller's own; the strings behind Icon are shared.
//
// Errors: as UserID, and Forbidden with Reason ReasonMissingGuildsScope
// when the token was granted without the "guilds" scope.
func (c *Client) Guilds(ctx context.Context, token string) ([]Guild, error) {
	if err := checkToken(token); err != nil {
		return nil, err
	}
	guilds, err := c.guilds.get(ctx, keyOf(token), func(ctx context.Context) ([]Guild, error) {
		return c.fetchGuilds(ctx, token)
	})
	return slices.Clone(guilds), err
}

// fetchGuilds asks Discord for token's guilds. Discord answers a token
// without the "guilds" scope 401, as it answers a revoked one, so a 401 is
// followed by a look at the token's scopes to tell the two apart.
func (c *Client) fetchGuilds(ctx context.Context, token string) ([]Guild, error) {
	body, err := c.get(ctx, guildsPath, token, maxGuildsBodyBytes)
	var se *statusError
	if errors.As(err, &se) && se.status == http.StatusUnauthorized {
		return nil, c.whyGuildsRefused(ctx, token, err)
	}
	if err != nil {
		return nil, err
	}
	var list []struct {
		ID   string  `json:"id"`
		Name string  `json:"name"`
		Icon *string `json:"icon"`
	}
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, unavailable("Discord's answer is not a list of guilds", err)
	}
	guilds := make([]Guild, 0, len(list))
	for _, g := range list {
		if !isSnowflake(g.ID) {
			return nil, unavailable("Discord's answer is not a list of guilds", fmt.Errorf("guild id %q is not 1-20 digits", truncate(redact(g.ID, token))))
		}
		guilds = append(guilds, Guild{ID: g.ID, Name: g.Name, Icon: g.Icon})
	}
	return guilds, nil
}

// whyGuildsRefused asks Discord which scopes token carries, after
// /users/@me/guilds refused it with refusal: a token Discord still knows
// but without "guilds" is ReasonMissingGuildsScope's case; anything else
// stays refusal (or whatever kept Discord from answering).
func (c *Client) whyGuildsRefused(ctx context.Context, token string, refusal error) error {
	body, err := c.get(ctx, authorizationPath, token, maxBodyBytes)
	if err != nil {
		return err
	}
	var info struct {
		Scopes []string `json:"scopes"`
	}
	if err := json.Unmarshal(body, &info); err != nil {
		return unavailable("Discord's answer is not an authorization", err)
	}
	if slices.Contains(info.Scopes, "guilds") {
		return refusal
	}
	return &apierr.Error{
		Code:    apierr.Forbidden,
		Message: `The Discord access token was granted without the "guilds" scope, which listing your servers needs; log in again and allow it`,
		Reason:  ReasonMissingGuildsScope,
	}
}
