package httpclient

import (
	"bufio"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// wrapBody puts resp.Body behind decompression and the cap, or reports why
// the response cannot be accepted at all. On error the caller closes the
// body.
func wrapBody(resp *http.Response, limit int64) error {
	host := ""
	if resp.Request != nil && resp.Request.URL != nil {
		host = resp.Request.URL.Host
	}
	noBody := resp.Body == nil || resp.Body == http.NoBody ||
		(resp.Request != nil && resp.Request.Method == http.MethodHead)

	enc, err := contentEncoding(resp.Header)
	if err != nil {
		if noBody {
			return nil
		}
		return fmt.Errorf("read response of %s: %w", host, err)
	}

	rawLimit := limit
	if enc != "" {
		// Compressed data can exceed its decompressed size a little
		// (headers, stored blocks), but never by much; allowing more would
		// let a stream of empty deflate blocks or gzip members run forever.
		rawLimit = limit + limit/1024 + 1024
	}
	if !noBody && resp.ContentLength > rawLimit {
		return fmt.Errorf("read response of %s: content length %d over %d bytes: %w", host, resp.ContentLength, limit, ErrBodyTooLarge)
	}

	// The body handed out is decoded: say so. Uncompressed is set on every
	// response, because colly would otherwise gunzip, without a limit, any
	// body whose Content-Type merely mentions gzip.
	resp.Uncompressed = true
	resp.Header.Del("Content-Encoding")
	if enc != "" {
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
	}
	if noBody {
		return nil
	}

	b := &cappedBody{
		raw:       resp.Body,
		rawReader: resp.Body,
		enc:       enc,
		limit:     limit,
		host:      host,
	}
	if enc != "" {
		b.rawReader = &rawCap{r: resp.Body, left: rawLimit, limit: limit, host: host}
	}
	resp.Body = b
	return nil
}

// contentEncoding returns the one coding to undo ("" for identity), or
// ErrBadContentEncoding for anything fedilens did not ask for, including
// stacked codings, which only serve to multiply a bomb.
func contentEncoding(h http.Header) (string, error) {
	var codings []string
	for _, v := range h.Values("Content-Encoding") {
		for _, c := range strings.Split(v, ",") {
			c = strings.ToLower(strings.TrimSpace(c))
			if c != "" && c != "identity" {
				codings = append(codings, c)
			}
		}
	}
	switch len(codings) {
	case 0:
		return "", nil
	case 1:
		switch codings[0] {
		case "gzip", "x-gzip":
			return "gzip", nil
		case "deflate":
			return "deflate", nil
		}
	}
	return "", fmt.Errorf("content encoding %q: %w", strings.Join(codings, ", "), ErrBadContentEncoding)
}

// cappedBody decompresses lazily (so responses nobody reads cost nothing)
// and fails the Read that crosses the cap.
type cappedBody struct {
	raw       io.ReadCloser
	rawReader io.Reader
	enc       string
	limit     int64
	host      string

	dec    io.Reader // decoder over rawReader, nil until the first Read
	decEnd io.Closer // closes the decoder, if it needs closing
	n      int64     // decompressed bytes delivered
	err    error     // sticky error, once the body is over the cap or broken
	cancel func()    // ends the request's context, set by RoundTrip
}

// Read implements io.Reader.
func (b *cappedBody) Read(p []byte) (int, error) {
	if b.err != nil {
		return 0, b.err
	}
	if b.dec == nil {
		if err := b.open(); err != nil {
			b.err = err
			return 0, err
		}
	}
	left := b.limit - b.n
	if int64(len(p)) > left+1 {
		// One byte past the cap is enough to know the body is too large.
		p = p[:left+1]
	}
	n, err := b.dec.Read(p)
	if int64(n) > left {
		b.n = b.limit
		b.err = fmt.Errorf("read response body of %s: over %d bytes: %w", b.host, b.limit, ErrBodyTooLarge)
		return int(left), b.err
	}
	b.n += int64(n)
	if err != nil && err != io.EOF {
		if b.enc != "" && !errors.Is(err, ErrBodyTooLarge) {
			err = fmt.Errorf("decompress %s response body of %s: %w", b.enc, b.host, err)
		}
		b.err = err
	}
	return n, err
}

// open builds the decoder. An empty compressed body is read as an empty
// body: some servers label empty answers gzip.
func (b *cappedBody) open() error {
	switch b.enc {
	case "":
		b.dec = b.rawReader
	case "gzip":
		br := bufio.NewReader(b.rawReader)
		if _, err := br.Peek(1); err == io.EOF {
			b.dec = eofReader{}
			return nil
		}
		zr, err := gzip.NewReader(br)
		if err != nil {
			return fmt.Errorf("decompress gzip response body of %s: %w", b.host, err)
		}
		b.dec, b.decEnd = zr, zr
	case "deflate":
		// "deflate" should be zlib-wrapped (RFC 9110 8.4.1.2), but servers
		// also send raw deflate; the zlib header tells them apart.
		br := bufio.NewReader(b.rawReader)
		hdr, err := br.Peek(2)
		if len(hdr) == 0 && err == io.EOF {
			b.dec = eofReader{}
			return nil
		}
		if len(hdr) == 2 && hdr[0]&0x0f == 8 && (uint16(hdr[0])<<8|uint16(hdr[1]))%31 == 0 {
			zr, err := zlib.NewReader(br)
			if err != nil {
				return fmt.Errorf("decompress deflate response body of %s: %w", b.host, err)
			}
			b.dec, b.decEnd = zr, zr
			return nil
		}
		fr := flate.NewReader(br)
		b.dec, b.decEnd = fr, fr
	}
	return nil
}

// Close implements io.Closer.
func (b *cappedBody) Close() error {
	if b.decEnd != nil {
		b.decEnd.Close()
	}
	err := b.raw.Close()
	if b.cancel != nil {
		b.cancel()
	}
	return err
}

// rawCap bounds the compressed bytes read from the wire.
type rawCap struct {
	r     io.Reader
	left  int64
	limit int64
	host  string
}

// Read implements io.Reader.
func (r *rawCap) Read(p []byte) (int, error) {
	if int64(len(p)) > r.left+1 {
		p = p[:r.left+1]
	}
	n, err := r.r.Read(p)
	if int64(n) > r.left {
		n = int(r.left)
		r.left = 0
		return n, fmt.Errorf("read response body of %s: compressed body over %d bytes: %w", r.host, r.limit, ErrBodyTooLarge)
	}
	r.left -= int64(n)
	return n, err
}

var _ io.ReadCloser = (*cappedBody)(nil)

// eofReader is an empty body.
type eofReader struct{}

func (eofReader) Read([]byte) (int, error) { return 0, io.EOF }
