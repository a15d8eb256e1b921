package apikeys_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/apikeyd/apikeyd/impl/apptest"
)

func createKey(t *testing.T, inst *apptest.Instance, user, note string) string {
	t.Helper()
	token, err := inst.Server.Store().CreateUserKey(context.Background(), user, note)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

type errorBody struct {
	Error struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
	CatchError string `json:"catchError"`
}

type keyList struct {
	Keys []struct {
		Token, User, Note string
	} `json:"keys"`
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}
