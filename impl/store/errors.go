package store

import (
	"errors"

	"github.com/apikeyd/apikeyd/impl/store/driver"
)

// ErrDatabase marks every error that the database, or the connection to
// it, returned: a failure of the server rather than of a request. Each
// engine wraps it around its driver's errors (driver.ErrDatabase), so
// that callers classify with errors.Is instead of reading driver messages.
var ErrDatabase = driver.ErrDatabase

// The store's refusals: states of the data that a request can run into.
// They say what is so, not what a client reads: each family words them
// in its own error body.
var (
	// ErrKeyNotFound: no key has the token looked up, or the guild has no
	// such key to delete.
	ErrKeyNotFound = errors.New("no such key")
	// ErrSessionNotFound: no dashboard session has the id looked up, or
	// it ended by its idle or absolute limit.
	ErrSessionNotFound = errors.New("no such session")
	// ErrGuildNotFound: apikeyd does not know the guild.
	ErrGuildNotFound = errors.New("no such guild")
	// ErrGuildKeyLimit: the guild holds as many keys as it may already.
	ErrGuildKeyLimit = errors.New("the guild holds its maximum of keys")
	// ErrLoggingAlreadyEnabled and ErrLoggingAlreadyDisabled: the logging
	// module is in the state asked for already.
	ErrLoggingAlreadyEnabled  = errors.New("the logging module is already enabled")
	ErrLoggingAlreadyDisabled = errors.New("the logging module is already disabled")
	// ErrMasterKeyRotated: the master key was rotated while this process
	// ran with the old one, which must seal nothing more; it needs a
	// restart.
	ErrMasterKeyRotated = errors.New("the master key was rotated under this process")
	// ErrLogMessageInFlight: a message for the logs channel that names the
	// member being erased was being posted for as long as a post may
	// take (EraseLoggingEntriesOf), so nothing was erased.
	ErrLogMessageInFlight = errors.New("a message naming the member is being posted to the logs channel")
	// ErrDatabaseFileGone: SQLite's database file was deleted, or another
	// file put at its path, while this process had it open
	// (driver.ErrDatabaseFileGone). It comes wrapped in ErrDatabase.
	ErrDatabaseFileGone = driver.ErrDatabaseFileGone
	// ErrMasterKeyMismatch means the database's keys are sealed under
	// another master key than the one apikeyd was given.
	ErrMasterKeyMismatch = errors.New("the master key is not the one the stored keys are sealed under")
)
