// A project of its own, as a user generating a client would have: .ci/sdk-clients
// copies it to a scratch directory outside this repository, generates the
// clients into it from the documents a started apikeyd serves, and runs it.
module example.com/apikeyd-roundtrip

go 1.26.0
