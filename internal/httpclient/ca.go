package httpclient

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"
)

// maxCAFileBytes bounds a CA bundle; the system bundle is about 200 KiB.
const maxCAFileBytes = 16 << 20

// LoadCAFile returns the system root pool plus the PEM certificates in path,
// so a lab fediverse with its own CA (or a test rig) can be crawled over
// real TLS without turning verification off. A file without a single
// certificate is an error: it is almost certainly the wrong file.
func LoadCAFile(path string) (*x509.CertPool, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load CA file %s: %w", path, err)
	}
	if st.Size() > maxCAFileBytes {
		return nil, fmt.Errorf("load CA file %s: %d bytes, over %d", path, st.Size(), maxCAFileBytes)
	}
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load CA file %s: %w", path, err)
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("load CA file %s: %w", path, errNoCerts)
	}
	return pool, nil
}

// errNoCerts: the CA file holds no PEM certificate.
var errNoCerts = errors.New("no PEM certificates found")
