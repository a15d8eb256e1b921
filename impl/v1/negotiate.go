package v1

import (
	"net/http"
	"strconv"
	"strings"
)

const (
	mediaProblem = "application/problem+json"
	mediaJSON    = "application/json"
)

// negotiated is the one place where an error answer of the family gets
// its media type (the rule in openapi/v1.yaml's description): every error
// is written as application/problem+json, whether by WriteError or by a
// handler's typed response, and this writer, between them and the
// client, turns it into application/json for a request whose Accept
// asks for that, and adds Vary: Accept to every error. Husqy documents
// its errors as application/json, so clients generated from its
// documents read ours this way.
type negotiated struct {
	http.ResponseWriter
	wantJSON bool
	written  bool
}

// negotiate wraps w for r, once: the family's stack wraps every request
// (withRequestState), and WriteError wraps too, for the routes outside
// the family that answer with it.
func negotiate(w http.ResponseWriter, r *http.Request) http.ResponseWriter {
	if n, ok := w.(*negotiated); ok {
		return n
	}
	n := negotiation(w, r)
	return &n
}

// negotiation is w as negotiated for r's Accept.
func negotiation(w http.ResponseWriter, r *http.Request) negotiated {
	return negotiated{ResponseWriter: w, wantJSON: prefersJSON(r.Header.Values("Accept"))}
}

func (n *negotiated) WriteHeader(status int) {
	if !n.written {
		n.written = true
		h := n.Header()
		if h.Get("Content-Type") == mediaProblem {
			h.Add("Vary", "Accept")
			if n.wantJSON {
				h.Set("Content-Type", mediaJSON)
			}
		}
	}
	n.ResponseWriter.WriteHeader(status)
}

func (n *negotiated) Write(b []byte) (int, error) {
	if !n.written {
		n.WriteHeader(http.StatusOK)
	}
	return n.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (n *negotiated) Unwrap() http.ResponseWriter { return n.ResponseWriter }

// prefersJSON says whether an Accept lists application/json and not
// application/problem+json, each counted only with a q above 0. Media
// ranges (*/*, application/*) list neither: such a client gets the
// problem type, as does one that sends no Accept.
func prefersJSON(accept []string) bool {
	var json, problem bool
	for _, value := range accept {
		for _, part := range strings.Split(value, ",") {
			media, params, _ := strings.Cut(part, ";")
			if !accepted(params) {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(media)) {
			case mediaJSON:
				json = true
			case mediaProblem:
				problem = true
			}
		}
	}
	return json && !problem
}

// accepted reads a media range's parameters: false for q=0 (RFC 9110
// 12.4.2: "not acceptable"), true otherwise, and for a q that does not
// parse, which says nothing against the type.
func accepted(params string) bool {
	for _, p := range strings.Split(params, ";") {
		name, value, ok := strings.Cut(p, "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "q") {
			continue
		}
		q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
		return err != nil || q > 0
	}
	return true
}
