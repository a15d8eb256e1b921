package v1

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"

	api "github.com/apikeyd/apikeyd/gen/v1"
	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// maxSettingsBodies bounds the memory of settingsBodies (a body is about
// 400 bytes); when full it starts over.
const maxSettingsBodies = 10_000

// settingsBodies remembers, for each guild, GET /settings' 200 answer as
// encoded for the settings last read. The answer is a function of the
// settings alone and a body is reused only for settings equal to those it
// was encoded from, so no change has to invalidate it. It saves the JSON
// encoding, about a fifth of a key-authenticated read (BENCHMARKS.md).
type settingsBodies struct {
	mu     sync.Mutex
	bodies map[snowflake.ID]settingsBody
}

type settingsBody struct {
	settings store.GuildSettings
	body     settingsAnswer
}

func newSettingsBodies() *settingsBodies {
	return &settingsBodies{bodies: map[snowflake.ID]settingsBody{}}
}

// answer is the 200 answer for st.
func (c *settingsBodies) answer(st store.GuildSettings) (settingsAnswer, error) {
	c.mu.Lock()
	got, ok := c.bodies[st.GuildID]
	c.mu.Unlock()
	if ok && sameSettings(got.settings, st) {
		return got.body, nil
	}
	body, err := encodeSettings(st)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.bodies) >= maxSettingsBodies {
		c.bodies = map[snowflake.ID]settingsBody{}
	}
	c.bodies[st.GuildID] = settingsBody{settings: st, body: body}
	return body, nil
}

// sameSettings compares every field by value. Comparing the structs with
// == keeps a new field from being forgotten here (a field that is not
// comparable fails the build instead).
func sameSettings(a, b store.GuildSettings) bool {
	ad, bd := a.AutoDelete, b.AutoDelete
	a.AutoDelete, b.AutoDelete = nil, nil
	return a == b && (ad == nil) == (bd == nil) && (ad == nil || *ad == *bd)
}

func encodeSettings(st store.GuildSettings) (settingsAnswer, error) {
	body, err := json.Marshal(api.GetSettings200JSONResponse{Success: api.SuccessTrue, Data: api.GuildSettings{
		// apikeyd is no Discord bot: it knows no guild names or icons,
		// and sells nothing.
		Metadata:     api.Guild{Id: st.GuildID.String(), Name: "", Icon: nil, Active: true},
		Settings:     settingsFields(st),
		Entitlements: []api.Entitlement{},
	}})
	if err != nil {
		return nil, fmt.Errorf("encode settings: %w", err)
	}
	// The newline json.Encoder writes, as in every other answer.
	return append(body, '\n'), nil
}

// settingsAnswer is GET /settings' 200 answer, encoded.
type settingsAnswer []byte

func (b settingsAnswer) VisitGetSettingsResponse(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(b)
	return err
}
