module plugwire.test/conformance

go 1.18
