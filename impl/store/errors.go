package store

import "errors"

// ErrDatabase marks every error that the database, or the connection to
// it, returned: a failure of the server rather than of a request. Each
// engine wraps it around its driver's errors where it calls the driver, so
// that callers classify with errors.Is instead of reading driver messages.
var ErrDatabase = errors.New("database")
