// Package seed reads the seed file of `apikeyd serve --seed FILE`: data
// with fixed values (guilds with administrators, settings and keys; user
// keys; the fake Discord's users) that other projects' tests hard-code.
//
// A file is YAML or JSON, checked against the published JSON Schema
// (openapi/seed.schema.json) and then across its items (a key named twice,
// more keys than a guild may hold). A file with any problem is refused as
// a whole, each problem named by line and field, as
// "seed.yaml:12: guilds[0].keys[1]: not a guild key (checksum)"; no
// message repeats a value, which may be a key.
package seed

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	yaml "github.com/oasdiff/yaml3"

	"github.com/apikeyd/apikeyd/impl/snowflake"
	"github.com/apikeyd/apikeyd/impl/store"
)

// Seed is a seed file, read and checked.
type Seed struct {
	// Store is what the database gets (store.ApplySeed).
	Store store.Seed
	// DiscordUsers are the fake Discord's users.
	DiscordUsers []DiscordUser
	// DiscordUsersWhere names discord_users in the file, for refusing them
	// when no fake Discord runs.
	DiscordUsersWhere string
}

// DiscordUser is a user the fake Discord knows by a static token.
type DiscordUser struct {
	Token    string
	ID       snowflake.ID
	Username string
	Guilds   []DiscordGuild
}

// DiscordGuild is a guild as GET /users/@me/guilds lists it to a member.
type DiscordGuild struct {
	ID          snowflake.ID
	Name        string
	Owner       bool
	Permissions string
}

// Problem is one thing wrong with a seed file.
type Problem struct {
	File  string
	Line  int    // 0 when the file as a whole is at fault
	Field string // as guilds[0].keys[1]; "" for the file as a whole
	Msg   string
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		b.WriteString(":" + strconv.Itoa(p.Line))
	}
	if p.Field != "" {
		b.WriteString(": " + p.Field)
	}
	return b.String() + ": " + p.Msg
}

// Error is a refused seed file: every problem found, in order of line.
type Error struct {
	Problems []Problem
}

func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// Load reads and checks the seed file at path; a guild may hold
// maxKeysPerGuild keys.
func Load(path string, maxKeysPerGuild int) (*Seed, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	return Parse(path, data, maxKeysPerGuild)
}

// Parse checks data, the content of the seed file name: JSON when its
// name ends in .json or it starts with "{", else YAML.
func Parse(name string, data []byte, maxKeysPerGuild int) (*Seed, error) {
	p := &parser{file: name}
	schema, err := compileSchema()
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}
	if !p.parse(data) {
		return nil, p.err()
	}
	p.validate(schema)
	if len(p.problems) > 0 {
		return nil, p.err()
	}
	var raw rawSeed
	b, err := json.Marshal(p.tree.value)
	if err == nil {
		err = json.Unmarshal(b, &raw)
	}
	if err != nil {
		// The schema admitted what the types below do not hold: a bug of
		// ours, not of the file.
		return nil, fmt.Errorf("seed: %s: %w", name, err)
	}
	seed := p.build(raw, maxKeysPerGuild)
	if len(p.problems) > 0 {
		return nil, p.err()
	}
	return seed, nil
}

// rawSeed is the file's content once the schema has admitted it.
type rawSeed struct {
	Guilds []struct {
		ID             snowflake.ID   `json:"id"`
		Administrators []snowflake.ID `json:"administrators"`
		Settings       struct {
			Language   *string `json:"language"`
			GMT        *string `json:"gmt"`
			UnitSystem *string `json:"unit_system"`
			AutoDelete *int64  `json:"auto_delete"`
		} `json:"settings"`
		Keys []string `json:"keys"`
	} `json:"guilds"`
	UserKeys []struct {
		Token string `json:"token"`
		User  string `json:"user"`
		Note  string `json:"note"`
	} `json:"user_keys"`
	DiscordUsers []struct {
		Token    string       `json:"token"`
		ID       snowflake.ID `json:"id"`
		Username string       `json:"username"`
		Guilds   []struct {
			ID          snowflake.ID `json:"id"`
			Name        string       `json:"name"`
			Owner       bool         `json:"owner"`
			Permissions string       `json:"permissions"`
		} `json:"guilds"`
	} `json:"discord_users"`
}

type parser struct {
	file     string
	tree     tree
	problems []Problem
}

func (p *parser) problemAt(line int, path []string, msg string) {
	p.problems = append(p.problems, Problem{File: p.file, Line: line, Field: fieldName(path), Msg: msg})
}

func (p *parser) err() error {
	slices.SortStableFunc(p.problems, func(a, b Problem) int { return a.Line - b.Line })
	return &Error{Problems: p.problems}
}

// yamlLine is how the YAML parser names the line of a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parse reads data into p.tree; false, with a problem, if it is not one
// document of JSON or YAML.
func (p *parser) parse(data []byte) bool {
	isJSON := strings.EqualFold(filepath.Ext(p.file), ".json") || bytes.HasPrefix(bytes.TrimSpace(data), []byte("{"))
	if isJSON {
		// YAML reads more than JSON: a .json file must be JSON.
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			line := 0
			var se *json.SyntaxError
			if errors.As(err, &se) {
				line = 1 + bytes.Count(data[:se.Offset], []byte("\n"))
			}
			p.problemAt(line, nil, "not JSON: "+strings.TrimPrefix(err.Error(), "json: "))
			return false
		}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			p.problemAt(0, nil, "the file is empty: a seed file is a mapping of guilds, user_keys and discord_users")
			return false
		}
		p.yamlProblem(err)
		return false
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			p.yamlProblem(err)
		} else {
			p.problemAt(extra.Line, nil, "a second document: a seed file is one document")
		}
		return false
	}
	p.tree.root = &root
	p.tree.value = p.toValue(&root, nil)
	return len(p.problems) == 0
}

func (p *parser) yamlProblem(err error) {
	msg := err.Error()
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		p.problemAt(line, nil, "not YAML: "+m[2])
		return
	}
	p.problemAt(0, nil, "not YAML: "+strings.TrimPrefix(msg, "yaml: "))
}

// whereString names the value at toks as an error should: "file:line:
// field".
func (p *parser) whereString(toks []string) string {
	s := p.file + ":" + strconv.Itoa(p.tree.keyNode(toks).Line)
	if f := fieldName(toks); f != "" {
		s += ": " + f
	}
	return s
}

// firstSeen remembers where each value was first named, to refuse one
// named twice.
type firstSeen map[string][]string

// again adds a problem at path if value was named before, and reports
// whether it was.
func (p *parser) again(seen firstSeen, value string, path []string, what string) bool {
	if first, ok := seen[value]; ok {
		p.problemAt(p.tree.keyNode(path).Line, path, fmt.Sprintf("the same %s as %s (line %d)", what, fieldName(first), p.tree.keyNode(first).Line))
		return true
	}
	seen[value] = path
	return false
}

func path(toks ...any) []string {
	out := make([]string, len(toks))
	for i, t := range toks {
		out[i] = fmt.Sprint(t)
	}
	return out
}

// build turns raw into a Seed, adding a problem for what the schema alone
// cannot see: a guild, key, token or user named twice, and more keys than
// a guild may hold.
func (p *parser) build(raw rawSeed, maxKeysPerGuild int) *Seed {
	out := &Seed{}
	guildIDs, keyValues := firstSeen{}, firstSeen{}
	for i, g := range raw.Guilds {
		p.again(guildIDs, g.ID.String(), path("guilds", i, "id"), "guild")
		if len(g.Keys) > maxKeysPerGuild {
			at := path("guilds", i, "keys")
			p.problemAt(p.tree.keyNode(at).Line, at, fmt.Sprintf("%d keys, more than a guild may hold (--max-keys-per-guild %d)", len(g.Keys), maxKeysPerGuild))
		}
		sg := store.SeedGuild{
			ID: g.ID, Admins: g.Administrators, Where: p.whereString(path("guilds", i)),
			Settings: store.SettingsChange{Language: g.Settings.Language, GMT: g.Settings.GMT, UnitSystem: g.Settings.UnitSystem, AutoDelete: g.Settings.AutoDelete},
		}
		for j, k := range g.Keys {
			at := path("guilds", i, "keys", j)
			p.again(keyValues, k, at, "key")
			sg.Keys = append(sg.Keys, store.SeedKey{Token: k, Where: p.whereString(at)})
		}
		out.Store.Guilds = append(out.Store.Guilds, sg)
	}
	for i, k := range raw.UserKeys {
		at := path("user_keys", i)
		p.again(keyValues, k.Token, path("user_keys", i, "token"), "key")
		out.Store.UserKeys = append(out.Store.UserKeys, store.SeedUserKey{Token: k.Token, User: k.User, Note: k.Note, Where: p.whereString(at)})
	}
	tokens, users := firstSeen{}, firstSeen{}
	for i, u := range raw.DiscordUsers {
		p.again(tokens, u.Token, path("discord_users", i, "token"), "token")
		p.again(users, u.ID.String(), path("discord_users", i, "id"), "user")
		du := DiscordUser{Token: u.Token, ID: u.ID, Username: u.Username}
		for _, g := range u.Guilds {
			du.Guilds = append(du.Guilds, DiscordGuild{ID: g.ID, Name: g.Name, Owner: g.Owner, Permissions: g.Permissions})
		}
		out.DiscordUsers = append(out.DiscordUsers, du)
	}
	if len(raw.DiscordUsers) > 0 {
		out.DiscordUsersWhere = p.whereString(path("discord_users"))
	}
	return out
}
