// A project of its own, as a user generating a client would have: .ci/sdk-clients
// copies it to a scratch directory outside this repository, generates the
// ogen clients into it from the documents a started apikeyd serves, and runs it.
module example.com/apikeyd-ogen-roundtrip

go 1.26.0

// The runtime of the generator .ci/sdk-clients runs (ogen v1.24.0).
require github.com/ogen-go/ogen v1.24.0
