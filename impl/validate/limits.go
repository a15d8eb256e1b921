package validate

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/apikeyd/apikeyd/impl/apierr"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 1 << 20

// MaxHeaderBytes bounds a request's headers. The HTTP server refuses far
// larger ones itself, in plain text; this limit answers in the family's
// shape well before that.
const MaxHeaderBytes = 32 << 10

// readWithinLimits refuses a request whose headers or body are over their
// bounds and reads the body whole; the request is left with a body that
// reads the same bytes again.
func readWithinLimits(w http.ResponseWriter, r *http.Request) ([]byte, *apierr.Error) {
	if headerBytes(r.Header) > MaxHeaderBytes {
		return nil, apierr.New(apierr.HeaderTooLarge, "the headers are over %d bytes", MaxHeaderBytes)
	}
	if r.ContentLength > MaxBodyBytes {
		return nil, apierr.New(apierr.TooLarge, "the body is over %d bytes", MaxBodyBytes)
	}
	if r.Body == nil || r.Body == http.NoBody {
		// A bodiless request keeps NoBody, which the validator skips.
		return nil, nil
	}
	// Any other body is read here, whole, so that a body that cannot be
	// read (a broken chunk, a client gone) is the client's 400 and not a
	// failure of whichever check reads it first.
	// Not closed: a body refused as too large is drained, from the
	// request's own reader, before the answer.
	data, err := readBody(w, r)
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return nil, apierr.New(apierr.TooLarge, "the body is over %d bytes", MaxBodyBytes)
	case err != nil:
		return nil, &apierr.Error{Code: apierr.Invalid, Message: "body: could not be read", Fields: map[string]string{"body": "could not be read"}, Cause: err}
	}
	replay(r, data)
	return data, nil
}

// readBody reads a request's body whole. One of a stated length, which
// readWithinLimits has bounded, is read into a buffer of that length, where
// net/http ends it; only one of unknown length (chunked, or 0 beside a body,
// as a client's request may say) needs a MaxBytesReader, and io.ReadAll's
// growing buffer.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if n := r.ContentLength; n > 0 {
		data := make([]byte, n)
		if _, err := io.ReadFull(r.Body, data); err != nil {
			return nil, err
		}
		return data, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, MaxBodyBytes))
}

// replay gives a request a body that reads data again, and a GetBody that
// gives another such body: openapi3filter reads the body whole and then
// takes the request's next body from GetBody, where it would otherwise
// build its own reader around another copy.
func replay(r *http.Request, data []byte) {
	if len(data) == 0 {
		r.Body = http.NoBody
		return
	}
	r.Body = newReplayed(data)
	r.GetBody = func() (io.ReadCloser, error) { return newReplayed(data), nil }
}

// replayed is a body read whole, read again: a bytes.Reader and a Close
// in one allocation.
type replayed struct{ bytes.Reader }

func newReplayed(data []byte) *replayed {
	b := &replayed{}
	b.Reset(data)
	return b
}

func (*replayed) Close() error { return nil }

// headerBytes is the size of a request's headers as sent on the wire.
func headerBytes(h http.Header) int {
	n := 0
	for name, values := range h {
		for _, v := range values {
			n += len(name) + len(v) + 4 // ": " and CRLF
		}
	}
	return n
}

// maxDrainBytes bounds how much of a refused body is read and thrown away.
const maxDrainBytes = 8 << 20

// drain reads what is left of a body that is too large (up to a bound),
// so that a client still sending it reads the 413 instead of a reset
// connection; the server closes the connection after the answer.
func drain(body io.ReadCloser) {
	if body != nil {
		io.CopyN(io.Discard, body, maxDrainBytes)
	}
}
