package loadtest

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ocsp"
	"software.sslmate.com/src/go-pkcs12"

	"github.com/benchgate/benchgate/scenario"
)

// ProxyCAFile trusts the PEM certificates in path for an https:// proxy
// instead of the system's roots (as curl --proxy-cacert); several files
// add up. Read when the plan is validated.
func ProxyCAFile(path string) Option {
	return func(p *Plan) { p.proxyCAFiles = append(p.proxyCAFiles, path) }
}

// ProxyInsecureSkipVerify turns certificate verification off for an
// https:// proxy only (as curl --proxy-insecure).
func ProxyInsecureSkipVerify() Option { return func(p *Plan) { p.proxyInsecure = true } }

// InsecureSkipVerify turns TLS certificate verification off. The report
// says so.
func InsecureSkipVerify() Option { return func(p *Plan) { p.cfg.InsecureSkipVerify = true } }

// TLSConfig starts the plan's TLS from c (cloned): root CAs, client
// certificates, server name, minimum version and the rest. Certificates
// are verified unless c or InsecureSkipVerify says otherwise; ALPN is
// benchgate's. CAFile and ClientCert add to it.
func TLSConfig(c *tls.Config) Option { return func(p *Plan) { p.tlsConf = c } }

// CAFile trusts the PEM certificates in path instead of the system's
// roots (as curl --cacert does); several files add up. The file is read
// when the plan is validated: a missing or empty one is a validation
// error and nothing is sent.
func CAFile(path string) Option { return func(p *Plan) { p.caFiles = append(p.caFiles, path) } }

// ClientCert presents the PEM certificate and key in certFile and
// keyFile to servers that ask for one (mutual TLS); keyFile "" reads the
// key from certFile too. Read when the plan is validated.
func ClientCert(certFile, keyFile string) Option {
	return func(p *Plan) {
		if keyFile == "" {
			keyFile = certFile
		}
		p.clientCerts = append(p.clientCerts, [2]string{certFile, keyFile})
	}
}

// ClientPKCS12 presents the client certificate and key in the PKCS#12
// (.p12, .pfx) file at path, decrypted with password, to servers that
// ask for one; chain certificates in the file are sent after it. Read
// when the plan is validated: a wrong password is a validation error
// (which does not show it).
func ClientPKCS12(path, password string) Option {
	return func(p *Plan) {
		p.clientP12 = append(p.clientP12, [2]string{path, password})
	}
}

// PinnedPublicKey accepts a server only when its certificate's public
// key is one of pins, as curl --pinnedpubkey: each pin is
// "sha256//" and the base64 SHA-256 of the key's DER SubjectPublicKeyInfo
// (several joined by ';'), or the path of a PEM file holding the public
// key or a certificate. The pin is checked besides the usual
// verification, and even with InsecureSkipVerify; a mismatch fails the
// request ("public key pin mismatch"). Read when the plan is validated.
func PinnedPublicKey(pins ...string) Option {
	return func(p *Plan) { p.pins = append(p.pins, pins...) }
}

// OCSPStaple checks the OCSP response a server staples to its
// certificate (RFC 6066): a response saying the certificate is revoked
// or unknown, one not signed by the certificate's issuer, or one out of
// date fails the request with the reason. With required, a server that
// staples nothing fails too (as curl --cert-status). Without it, only
// the responses that come are checked.
func OCSPStaple(required bool) Option {
	return func(p *Plan) { p.ocsp, p.ocspRequired = true, required }
}

// TLSKeyLog writes the TLS session secrets of every connection to w in
// the NSS key log format (what SSLKEYLOGFILE gives curl and browsers),
// so that a packet capture of the run can be decrypted. The secrets are
// what protects the traffic: for debugging only.
func TLSKeyLog(w io.Writer) Option { return func(p *Plan) { p.keyLog = w } }

// TLSResumption turns TLS session resumption on (the default: a new
// connection to a host resumes the session of an earlier one, as
// browsers do) or off (every connection a full handshake).
func TLSResumption(on bool) Option { return func(p *Plan) { p.cfg.NoTLSResumption = !on } }

// tlsConfig builds the plan's TLS configuration from TLSConfig, CAFile
// and ClientCert; nil when none was given.
func (p *Plan) tlsConfig() (*tls.Config, error) {
	if p.tlsConf == nil && len(p.caFiles) == 0 && len(p.clientCerts) == 0 && len(p.clientP12) == 0 && len(p.pins) == 0 && p.keyLog == nil && !p.ocsp {
		return nil, nil
	}
	c := &tls.Config{}
	if p.tlsConf != nil {
		c = p.tlsConf.Clone()
	}
	if len(p.caFiles) > 0 {
		pool, err := readCAFiles("CAFile", p.caFiles)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	for _, kp := range p.clientCerts {
		cert, err := tls.LoadX509KeyPair(kp[0], kp[1])
		if err != nil {
			reason := err.Error()
			if encryptedPEM(kp[1]) {
				reason = "the key is encrypted: decrypt it (openssl pkey -in KEY -out plain.pem) or give a PKCS#12 file to ClientPKCS12"
			}
			return nil, &scenario.ValidationError{Field: "ClientCert", Value: kp[0] + " " + kp[1], Reason: reason}
		}
		c.Certificates = append(c.Certificates, cert)
	}
	for _, pp := range p.clientP12 {
		cert, err := readPKCS12(pp[0], pp[1])
		if err != nil {
			return nil, &scenario.ValidationError{Field: "ClientPKCS12", Value: pp[0], Reason: err.Error()}
		}
		c.Certificates = append(c.Certificates, cert)
	}
	if p.keyLog != nil {
		c.KeyLogWriter = p.keyLog
	}
	// the checks on top of verification, in order: the pins, the
	// stapled OCSP response, the user's own
	var checks []func(tls.ConnectionState) error
	if len(p.pins) > 0 {
		pins, err := readPins(p.pins)
		if err != nil {
			return nil, err
		}
		checks = append(checks, func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("public key pin mismatch: the server sent no certificate")
			}
			sum := sha256.Sum256(cs.PeerCertificates[0].RawSubjectPublicKeyInfo)
			if _, ok := pins[sum]; !ok {
				return fmt.Errorf("public key pin mismatch: the server's key is sha256//%s", base64.StdEncoding.EncodeToString(sum[:]))
			}
			return nil
		})
	}
	if p.ocsp {
		required := p.ocspRequired
		checks = append(checks, func(cs tls.ConnectionState) error { return checkStaple(cs, required, time.Now()) })
	}
	if len(checks) > 0 {
		if c.VerifyConnection != nil {
			checks = append(checks, c.VerifyConnection)
		}
		c.VerifyConnection = func(cs tls.ConnectionState) error {
			for _, check := range checks {
				if err := check(cs); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return c, nil
}

// checkStaple checks the OCSP response stapled in cs against the
// server's certificate and its issuer.
func checkStaple(cs tls.ConnectionState, required bool, now time.Time) error {
	if len(cs.OCSPResponse) == 0 {
		if required {
			return errors.New("OCSP: the server stapled no OCSP response to its certificate")
		}
		return nil
	}
	var leaf, issuer *x509.Certificate
	switch {
	case len(cs.VerifiedChains) > 0 && len(cs.VerifiedChains[0]) > 1:
		leaf, issuer = cs.VerifiedChains[0][0], cs.VerifiedChains[0][1]
	case len(cs.PeerCertificates) > 1:
		leaf, issuer = cs.PeerCertificates[0], cs.PeerCertificates[1]
	default:
		return errors.New("OCSP: no issuer certificate to check the stapled response against")
	}
	resp, err := ocsp.ParseResponseForCert(cs.OCSPResponse, leaf, issuer)
	if err != nil {
		return fmt.Errorf("OCSP: the stapled response is invalid: %w", err)
	}
	const skew = 5 * time.Minute
	switch {
	case resp.Status == ocsp.Revoked:
		return fmt.Errorf("OCSP: the server's certificate is revoked (since %s, reason %d)", resp.RevokedAt.UTC().Format(time.RFC3339), resp.RevocationReason)
	case resp.Status != ocsp.Good:
		return errors.New("OCSP: the responder does not know the server's certificate (status unknown)")
	case resp.ThisUpdate.After(now.Add(skew)):
		return fmt.Errorf("OCSP: the stapled response is from the future (%s)", resp.ThisUpdate.UTC().Format(time.RFC3339))
	case !resp.NextUpdate.IsZero() && now.After(resp.NextUpdate.Add(skew)):
		return fmt.Errorf("OCSP: the stapled response is out of date (next update was due %s)", resp.NextUpdate.UTC().Format(time.RFC3339))
	}
	return nil
}

// readPKCS12 reads a certificate, its key and its chain from a PKCS#12
// file.
func readPKCS12(path, password string) (tls.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return tls.Certificate{}, err
	}
	key, leaf, chain, err := pkcs12.DecodeChain(data, password)
	if err != nil {
		return tls.Certificate{}, err
	}
	cert := tls.Certificate{Certificate: [][]byte{leaf.Raw}, PrivateKey: key, Leaf: leaf}
	for _, c := range chain {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert, nil
}

// encryptedPEM reports whether the PEM file at path holds an encrypted
// private key (PKCS#8 "ENCRYPTED PRIVATE KEY", or the legacy DEK-Info
// form).
func encryptedPEM(path string) bool {
	data, err := os.ReadFile(path)
	if err != nil {
		return false
	}
	for rest := data; ; {
		var b *pem.Block
		if b, rest = pem.Decode(rest); b == nil {
			return false
		}
		if b.Type == "ENCRYPTED PRIVATE KEY" || b.Headers["Proc-Type"] == "4,ENCRYPTED" {
			return true
		}
	}
}

// readCAFiles reads the PEM certificates in files into a pool; field
// names the option in errors.
func readCAFiles(field string, files []string) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, f := range files {
		pem, err := os.ReadFile(f)
		if err != nil {
			return nil, &scenario.ValidationError{Field: field, Value: f, Reason: err.Error()}
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, &scenario.ValidationError{Field: field, Value: f, Reason: "no PEM certificate in it"}
		}
	}
	return pool, nil
}

// readPins reads PinnedPublicKey's pins into the set of SHA-256 sums.
func readPins(list []string) (map[[32]byte]struct{}, error) {
	pins := map[[32]byte]struct{}{}
	bad := func(v, why string) error {
		return &scenario.ValidationError{Field: "PinnedPublicKey", Value: v, Reason: why}
	}
	for _, arg := range list {
		if !strings.HasPrefix(arg, "sha256//") {
			data, err := os.ReadFile(arg)
			if err != nil {
				return nil, bad(arg, err.Error())
			}
			n := len(pins)
			for rest := data; ; {
				var b *pem.Block
				if b, rest = pem.Decode(rest); b == nil {
					break
				}
				spki := b.Bytes
				switch b.Type {
				case "PUBLIC KEY":
					if _, err := x509.ParsePKIXPublicKey(b.Bytes); err != nil {
						return nil, bad(arg, err.Error())
					}
				case "CERTIFICATE":
					cert, err := x509.ParseCertificate(b.Bytes)
					if err != nil {
						return nil, bad(arg, err.Error())
					}
					spki = cert.RawSubjectPublicKeyInfo
				default:
					continue
				}
				pins[sha256.Sum256(spki)] = struct{}{}
			}
			if len(pins) == n {
				return nil, bad(arg, "no PEM public key or certificate in it")
			}
			continue
		}
		for _, pin := range strings.Split(arg, ";") {
			b64, ok := strings.CutPrefix(strings.TrimSpace(pin), "sha256//")
			sum, err := base64.StdEncoding.DecodeString(b64)
			if !ok || err != nil || len(sum) != sha256.Size {
				return nil, bad(pin, `want "sha256//" and the base64 of a 32-byte SHA-256 sum`)
			}
			pins[[32]byte(sum)] = struct{}{}
		}
	}
	return pins, nil
}
