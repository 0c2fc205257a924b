// A conformance plugin written against go-plugins' documented wire types (wire.go), Go standard
// library only. One binary, three transports:
//
//	plugin http          listen on 127.0.0.1:0, print "LISTENING <port>" on stdout
//	plugin unix <path>   listen on the Unix socket <path>, print "LISTENING <path>"
//	plugin exec          speak the exec protocol on stdin/stdout (handshake first)
//
// Every transport runs the same operations (Req.Op), so the test asserts the same behaviour on
// each: echo (round trip, request id, the deadline as received), fail (the plugin's own "no"),
// hang (until the host gives up), seen/cancelled (what the plugin received, by request id).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Req is the test's request body (the `data` of every envelope).
type Req struct {
	Op    string `json:"op"`
	Value string `json:"value,omitempty"`
	// ID names another request, for "seen" and "cancelled".
	ID string `json:"id,omitempty"`
}

// Resp is the test's response body.
type Resp struct {
	Value     string `json:"value"`
	RequestID string `json:"request_id"`
	// Timeout is the deadline exactly as it arrived on the wire.
	Timeout string `json:"timeout"`
	// TimeoutMs is that deadline as this plugin understood it (time.ParseDuration for HTTP).
	TimeoutMs  float64 `json:"timeout_ms"`
	ParseError string  `json:"parse_error,omitempty"`
	Flag       bool    `json:"flag"`
}

// errDeclined is the plugin's own "no": HTTP `error`, Unix `success: false`.
var errDeclined = errors.New("card declined")

// registry remembers which request ids arrived and which were cancelled, across connections.
type registry struct {
	mu        sync.Mutex
	seen      map[string]bool
	cancelled map[string]bool
}

var known = &registry{seen: map[string]bool{}, cancelled: map[string]bool{}}

func (r *registry) mark(set map[string]bool, id string) {
	r.mu.Lock()
	set[id] = true
	r.mu.Unlock()
}

func (r *registry) has(set map[string]bool, id string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return set[id]
}

// handle runs one request. ctx ends when the host gives up on it (a cancel message, or the HTTP
// connection closing). "hang" waits for that alone: a plugin that answered at its own deadline
// would race the host's timer, and this operation is there to prove that the host gives up.
func handle(ctx context.Context, req Req, requestID string, timeout string, timeoutMs float64, parseErr string) (Resp, error) {
	known.mark(known.seen, requestID)
	resp := Resp{Value: req.Value, RequestID: requestID, Timeout: timeout, TimeoutMs: timeoutMs, ParseError: parseErr}
	switch req.Op {
	case "echo":
		return resp, nil
	case "fail":
		return resp, errDeclined
	case "hang":
		select {
		case <-ctx.Done():
			return resp, fmt.Errorf("gave up: %v", ctx.Err())
		case <-time.After(30 * time.Second):
			return resp, errors.New("hang was never cancelled")
		}
	case "seen":
		resp.Flag = known.has(known.seen, req.ID)
		return resp, nil
	case "cancelled":
		resp.Flag = known.has(known.cancelled, req.ID)
		return resp, nil
	default:
		return resp, fmt.Errorf("unknown op %q", req.Op)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: plugin http | unix <path> | exec")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "http":
		err = serveHTTP()
	case "unix":
		if len(os.Args) < 3 {
			err = errors.New("unix needs a socket path")
		} else {
			err = serveUnix(os.Args[2])
		}
	case "exec":
		err = serveExec()
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugin:", err)
		os.Exit(1)
	}
}
