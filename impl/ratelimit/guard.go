package ratelimit

import "github.com/apikeyd/apikeyd/impl/apierr"

// Guard authenticates for a client address, and is the one rate-limited
// authentication of both families. check resolves the credentials; before
// it sends one that only Discord or the database can judge, it calls
// Attempt.Unproven, which takes a failure from the address's bucket (or
// answers 429). check says whether the credentials failed (each family
// says which refusals count): a failure keeps what Unproven took, and a
// failure decided locally takes one if the bucket holds it; anything else
// gives back what Unproven took.
func (l *Limiter) Guard(addr string, check func(*Attempt) (failed bool, err error)) error {
	a := &Attempt{limiter: l, addr: addr}
	failed, err := check(a)
	a.settle(failed)
	return err
}

// Attempt is one request's authentication, from one client address.
type Attempt struct {
	limiter *Limiter
	addr    string
	taken   bool // Unproven took a failure from the bucket
}

// Unproven takes a failure from the address's bucket before a credential
// leaves the process to be judged; while the bucket is empty it returns
// the 429 to answer instead, and the credential must not be sent.
func (a *Attempt) Unproven() error {
	l := a.limiter
	if a.taken || !l.enabled() {
		return nil
	}
	wait, ok := l.take(a.addr)
	if !ok {
		return apierr.TooMany(wait)
	}
	a.taken = true
	return nil
}

func (a *Attempt) settle(failed bool) {
	l := a.limiter
	switch {
	case !l.enabled():
	case a.taken && !failed:
		l.giveBack(a.addr)
	case !a.taken && failed:
		l.charge(a.addr)
	}
}
