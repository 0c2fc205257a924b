package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
)

// serveUnix is a Unix socket plugin as go-plugins documents it: one UnixSocketMessage per line,
// one UnixSocketResponse per line, many requests in flight per connection.
func serveUnix(path string) error {
	_ = os.Remove(path)
	listener, err := net.Listen("unix", path)
	if err != nil {
		return err
	}
	fmt.Printf("LISTENING %s\n", path)
	for {
		conn, err := listener.Accept()
		if err != nil {
			return err
		}
		go func() {
			defer conn.Close()
			serveLines(conn, conn)
		}()
	}
}

// serveExec speaks the same lines on stdin/stdout after plugwire's exec handshake, and exits when
// stdin closes.
func serveExec() error {
	out := &lineWriter{w: os.Stdout}
	out.write(map[string]any{"type": "handshake", "protocol": 1, "name": "go-conformance", "version": "1.0.0"})
	serveLinesTo(os.Stdin, out)
	fmt.Fprintln(os.Stderr, "stdin closed, exiting")
	return nil
}

type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) write(v any) {
	line, err := json.Marshal(v)
	if err != nil {
		line, _ = json.Marshal(map[string]any{"success": false, "error": err.Error()})
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = l.w.Write(append(line, '\n'))
}

func serveLines(r io.Reader, w io.Writer) { serveLinesTo(r, &lineWriter{w: w}) }

// serveLinesTo reads messages until r ends, answering each on its own goroutine. A "cancel" is
// handled in the read loop itself, so it always finds the request read before it.
func serveLinesTo(r io.Reader, out *lineWriter) {
	var mu sync.Mutex
	running := map[string]context.CancelFunc{}
	var wg sync.WaitGroup
	reader := bufio.NewReader(r)
	for {
		line, err := reader.ReadBytes('\n')
		if len(line) > 1 {
			var msg UnixSocketMessage
			if jsonErr := json.Unmarshal(line, &msg); jsonErr != nil {
				fmt.Fprintln(os.Stderr, "skipped a line that is not a message:", jsonErr)
			} else if msg.Type == "cancel" {
				known.mark(known.cancelled, msg.RequestID)
				mu.Lock()
				if cancel, ok := running[msg.RequestID]; ok {
					cancel()
				}
				mu.Unlock()
			} else {
				// Ends when a cancel for this request arrives.
				ctx, cancel := context.WithCancel(context.Background())
				mu.Lock()
				running[msg.RequestID] = cancel
				mu.Unlock()
				wg.Add(1)
				go func(msg UnixSocketMessage) {
					defer wg.Done()
					defer func() {
						mu.Lock()
						delete(running, msg.RequestID)
						mu.Unlock()
						cancel()
					}()
					out.write(answer(ctx, msg))
				}(msg)
			}
		}
		if err != nil {
			break
		}
	}
	wg.Wait()
}

func answer(ctx context.Context, msg UnixSocketMessage) UnixSocketResponse {
	resp := UnixSocketResponse{Type: msg.Type, RequestID: msg.RequestID}
	switch msg.Type {
	case "execute":
		var req Req
		if err := json.Unmarshal(msg.Data, &req); err != nil {
			resp.Error = "bad data: " + err.Error()
			return resp
		}
		result, err := handle(ctx, req, msg.RequestID, strconv.FormatInt(msg.Timeout, 10), float64(msg.Timeout), "")
		if err != nil {
			resp.Error = err.Error()
			return resp
		}
		resp.Success = true
		resp.Data, _ = json.Marshal(result)
	case "health":
		resp.Success = true
		resp.Data = json.RawMessage(`{"status":"healthy","message":"go plugin"}`)
	case "info":
		resp.Success = true
		resp.Data = json.RawMessage(`{"name":"go-conformance","version":"1.0.0"}`)
	case "ping":
		resp.Success = true
	default:
		resp.Error = fmt.Sprintf("unknown message type %q", msg.Type)
	}
	return resp
}
