package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"time"
)

// serveHTTP is an HTTP plugin as go-plugins documents it: POST the HTTPPluginRequest envelope,
// answer HTTPPluginResponse; GET /health and /info.
func serveHTTP() error {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "healthy"})
	})
	mux.HandleFunc("/info", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"name": "go-conformance", "version": "1.0.0"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "POST only"})
			return
		}
		var req HTTPPluginRequest[Req]
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			// What a go-plugins plugin answers when the host's envelope does not fit its struct.
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		var timeoutMs float64
		parseErr := ""
		if d, err := time.ParseDuration(req.Timeout); err != nil {
			parseErr = err.Error()
		} else {
			timeoutMs = float64(d) / float64(time.Millisecond)
		}
		// The host gives up on an HTTP call by closing its connection.
		resp, err := handle(r.Context(), req.Data, req.RequestID, req.Timeout, timeoutMs, parseErr)
		out := HTTPPluginResponse[Resp]{Data: resp, RequestID: req.RequestID}
		if err != nil {
			out = HTTPPluginResponse[Resp]{Error: err.Error(), RequestID: req.RequestID}
		}
		writeJSON(w, http.StatusOK, out)
	})
	fmt.Printf("LISTENING %d\n", listener.Addr().(*net.TCPAddr).Port)
	return http.Serve(listener, mux)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
