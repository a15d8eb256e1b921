// Package sdk holds the round trips that prove the clients oapi-codegen
// generates from the documents (gen/v1client, gen/apikeysclient) work
// against a started apikeyd; see sdk_test.go.
package sdk
