package core

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
)

// kafkaSecurity builds the TLS settings and the SASL mechanism of the
// Kafka brokers from the configuration (nil when not configured).
func kafkaSecurity(k conf.Kafka) (*tls.Config, sasl.Mechanism, error) {
	var tlsConfig *tls.Config
	if k.TLS.Enabled {
		tlsConfig = &tls.Config{MinVersion: tls.VersionTLS12}
		if k.TLS.CAFile != "" {
			pem, err := os.ReadFile(k.TLS.CAFile)
			if err != nil {
				return nil, nil, fmt.Errorf("kafka.tls.ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, nil, fmt.Errorf("kafka.tls.ca_file: %s holds no PEM certificate", k.TLS.CAFile)
			}
			tlsConfig.RootCAs = pool
		}
		if k.TLS.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(k.TLS.CertFile, k.TLS.KeyFile)
			if err != nil {
				return nil, nil, fmt.Errorf("kafka.tls.cert_file: %w", err)
			}
			tlsConfig.Certificates = []tls.Certificate{cert}
		}
	}
	var mech sasl.Mechanism
	switch k.SASL.Mechanism {
	case "":
	case "plain":
		mech = plain.Mechanism{Username: k.SASL.Username, Password: k.SASL.Password}
	case "scram-sha-256", "scram-sha-512":
		algo := scram.SHA256
		if k.SASL.Mechanism == "scram-sha-512" {
			algo = scram.SHA512
		}
		m, err := scram.Mechanism(algo, k.SASL.Username, k.SASL.Password)
		if err != nil {
			return nil, nil, fmt.Errorf("kafka.sasl: %w", err)
		}
		mech = m
	default:
		return nil, nil, fmt.Errorf("kafka.sasl.mechanism: %q is not supported", k.SASL.Mechanism)
	}
	return tlsConfig, mech, nil
}
