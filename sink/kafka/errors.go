package kafka

import "errors"

// ErrNoBrokers is returned by Writer.Write when Brokers is empty.
var ErrNoBrokers = errors.New("no Kafka brokers configured")

// ErrBadCompression is returned by Writer.Write for an unknown Compression.
var ErrBadCompression = errors.New("unknown compression")

// ErrClosed is returned by Writer.Write after Close.
var ErrClosed = errors.New("kafka writer closed")
