package validate

import (
	"errors"
	"strings"
)

// ErrSchemeNotUsed is what an Authenticate function returns for a security
// scheme the request does not use (a bare key offered to a Bearer scheme),
// so that the error of the scheme it does use is the one reported.
var ErrSchemeNotUsed = errors.New("security scheme not used by this request")

// CutBearer strips a case-insensitive "Bearer " scheme from an
// Authorization header value, and says whether there was one.
func CutBearer(header string) (token string, bearer bool) {
	const prefix = "bearer "
	if len(header) >= len(prefix) && strings.EqualFold(header[:len(prefix)], prefix) {
		return strings.TrimSpace(header[len(prefix):]), true
	}
	return strings.TrimSpace(header), false
}
