package core

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/matthan/matthan/cmd/matthan/internal/conf"
)

// writeCert writes a self-signed certificate and its key as PEM files.
func writeCert(t *testing.T, dir string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func TestKafkaSecurity(t *testing.T) {
	dir := t.TempDir()
	cert, key := writeCert(t, dir)
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not a certificate"), 0o600)
	cases := []struct {
		name      string
		k         conf.Kafka
		wantTLS   bool
		wantSASL  string
		wantError string
	}{
		{"plaintext", conf.Kafka{}, false, "", ""},
		{"tls with system roots", conf.Kafka{TLS: conf.KafkaTLS{Enabled: true}}, true, "", ""},
		{"tls with a CA and a client certificate", conf.Kafka{TLS: conf.KafkaTLS{Enabled: true, CAFile: cert, CertFile: cert, KeyFile: key}}, true, "", ""},
		{"missing CA file", conf.Kafka{TLS: conf.KafkaTLS{Enabled: true, CAFile: filepath.Join(dir, "none.pem")}}, false, "", "kafka.tls.ca_file"},
		{"CA file without a certificate", conf.Kafka{TLS: conf.KafkaTLS{Enabled: true, CAFile: junk}}, false, "", "holds no PEM certificate"},
		{"bad client key", conf.Kafka{TLS: conf.KafkaTLS{Enabled: true, CertFile: cert, KeyFile: junk}}, false, "", "kafka.tls.cert_file"},
		{"sasl plain", conf.Kafka{SASL: conf.KafkaSASL{Mechanism: "plain", Username: "u", Password: "p"}}, false, "PLAIN", ""},
		{"sasl scram-sha-512", conf.Kafka{SASL: conf.KafkaSASL{Mechanism: "scram-sha-512", Username: "u", Password: "p"}}, false, "SCRAM-SHA-512", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tlsConfig, mech, err := kafkaSecurity(tc.k)
			if tc.wantError != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantError) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantError)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (tlsConfig != nil) != tc.wantTLS {
				t.Errorf("TLS config %v, want TLS %v", tlsConfig != nil, tc.wantTLS)
			}
			got := ""
			if mech != nil {
				got = mech.Name()
			}
			if got != tc.wantSASL {
				t.Errorf("SASL mechanism %q, want %q", got, tc.wantSASL)
			}
		})
	}
}
