package main

// The wire types of go-plugins, copied field for field (names, types and JSON tags) from its API
// reference: HTTPPluginRequest/HTTPPluginResponse (the HTTP transport) and
// UnixSocketMessage/UnixSocketResponse (the Unix socket transport). A plugin written against
// go-plugins decodes exactly these; plugwire must speak them.

import "encoding/json"

// HTTPPluginRequest represents the standardized request format for HTTP plugins.
type HTTPPluginRequest[T any] struct {
	Data      T                 `json:"data"`
	RequestID string            `json:"request_id"`
	Timeout   string            `json:"timeout"`
	Headers   map[string]string `json:"headers,omitempty"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// HTTPPluginResponse represents the standardized response format for HTTP plugins.
type HTTPPluginResponse[T any] struct {
	Data      T                 `json:"data,omitempty"`
	Error     string            `json:"error,omitempty"`
	RequestID string            `json:"request_id"`
	Metadata  map[string]string `json:"metadata,omitempty"`
}

// UnixSocketMessage represents a standardized message format for Unix socket communication.
type UnixSocketMessage struct {
	Type      string            `json:"type"`
	RequestID string            `json:"request_id"`
	Data      json.RawMessage   `json:"data"`
	Headers   map[string]string `json:"headers,omitempty"`
	Timeout   int64             `json:"timeout_ms,omitempty"`
}

// UnixSocketResponse represents a standardized response format for Unix socket communication.
type UnixSocketResponse struct {
	Type      string            `json:"type"`
	RequestID string            `json:"request_id"`
	Success   bool              `json:"success"`
	Data      json.RawMessage   `json:"data,omitempty"`
	Error     string            `json:"error,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
}
