package v1

import (
	"github.com/apikeyd/apikeyd/impl/apierr"
	"github.com/apikeyd/apikeyd/impl/snowflake"
)

// msgInvalid is the message of a request that the document admits but
// the server cannot read: the generated code failing to bind it, or an id
// beyond what an int64 holds.
const msgInvalid = "The request does not match the API document"

// readID reads a Discord id at the handler's edge. The document's types
// carry ids as text (json.Number in a body, which reads an integer and a
// digit string alike, and a string in the query), so that the generated
// code depends on nothing of ours; the validator has checked their
// pattern already, and what is left to refuse here is an id at or above
// 2^63, which no pattern can bound.
func readID[T ~string](v T) (snowflake.ID, error) {
	id, err := snowflake.Parse(string(v))
	if err != nil {
		return 0, &apierr.Error{Code: apierr.Invalid, Message: msgInvalid, Cause: err}
	}
	return id, nil
}
