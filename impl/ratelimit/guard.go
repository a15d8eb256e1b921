package ratelimit

import "github.com/apikeyd/apikeyd/impl/apierr"

// Guard authenticates for a client address: while the address has failed
// too often it gets 429 and check is not run; otherwise check runs, and
// the address is charged when check says its credentials failed (each
// family says which refusals count). It is the one rate-limited
// authentication of both families.
func (l *Limiter) Guard(addr string, check func() (failed bool, err error)) error {
	if wait, blocked := l.Blocked(addr); blocked {
		return apierr.TooMany(wait)
	}
	failed, err := check()
	if failed {
		l.Fail(addr)
	}
	return err
}
