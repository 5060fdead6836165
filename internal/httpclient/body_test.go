package httpclient

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"context"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func zlibBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zlib.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func flateBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, err := flate.NewWriter(&buf, flate.DefaultCompression)
	require.NoError(t, err)
	_, err = zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// gzipBomb returns a gzip stream that inflates to total bytes of zeros
// without ever holding them: after a sync flush, deflate blocks only refer
// to the (all-zero) window, so the compressed form of one more MiB of zeros
// can be repeated as often as needed.
func gzipBomb(t testing.TB, total int64) []byte {
	t.Helper()
	const chunk = 1 << 20
	zeros := make([]byte, chunk)
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(zeros)
	require.NoError(t, err)
	require.NoError(t, zw.Flush())
	head := buf.Len()
	_, err = zw.Write(zeros)
	require.NoError(t, err)
	require.NoError(t, zw.Flush())
	rep := buf.Bytes()[head:]
	out := bytes.NewBuffer(make([]byte, 0, head+int(total/chunk)*len(rep)))
	out.Write(buf.Bytes())
	for n := int64(2 * chunk); n < total; n += chunk {
		out.Write(rep)
	}
	return out.Bytes()
}

// response describes what a test server answers.
type response struct {
	encoding string // Content-Encoding, "" for none
	body     []byte
	// length: set Content-Length to len(body); otherwise the body is
	// flushed first so it goes out chunked.
	length bool
}

func (r response) serve(w http.ResponseWriter, _ *http.Request) {
	if r.encoding != "" {
		w.Header().Set("Content-Encoding", r.encoding)
	}
	if r.length {
		w.Header().Set("Content-Length", strconv.Itoa(len(r.body)))
	} else {
		w.WriteHeader(http.StatusOK)
		w.(http.Flusher).Flush()
	}
	w.Write(r.body)
}

func TestContentEncoding(t *testing.T) {
	t.Parallel()
	hello := []byte("hello, fediverse")
	tests := []struct {
		name     string
		resp     response
		method   string
		want     string
		doErr    error // error expected from Do
		readErr  bool  // error expected while reading
		uncompr  bool  // resp.Uncompressed and no Content-Encoding expected
		noLength bool  // Content-Length must be gone
	}{
		{name: "identity", resp: response{body: hello, length: true}, want: string(hello), uncompr: true},
		{name: "explicit identity", resp: response{encoding: "identity", body: hello, length: true}, want: string(hello), uncompr: true},
		{name: "gzip", resp: response{encoding: "gzip", body: gzipBytes(t, hello), length: true}, want: string(hello), uncompr: true, noLength: true},
		{name: "gzip upper case", resp: response{encoding: "GZIP", body: gzipBytes(t, hello)}, want: string(hello), uncompr: true, noLength: true},
		{name: "x-gzip", resp: response{encoding: "x-gzip", body: gzipBytes(t, hello)}, want: string(hello), uncompr: true, noLength: true},
		{name: "deflate zlib", resp: response{encoding: "deflate", body: zlibBytes(t, hello), length: true}, want: string(hello), uncompr: true, noLength: true},
		{name: "deflate raw", resp: response{encoding: "deflate", body: flateBytes(t, hello)}, want: string(hello), uncompr: true, noLength: true},
		{name: "empty gzip body", resp: response{encoding: "gzip", length: true}, want: "", uncompr: true},
		{name: "empty deflate body", resp: response{encoding: "deflate"}, want: "", uncompr: true},
		{name: "brotli refused", resp: response{encoding: "br", body: hello}, doErr: ErrBadContentEncoding},
		{name: "zstd refused", resp: response{encoding: "zstd", body: hello}, doErr: ErrBadContentEncoding},
		{name: "stacked gzip refused", resp: response{encoding: "gzip, gzip", body: gzipBytes(t, gzipBytes(t, hello))}, doErr: ErrBadContentEncoding},
		{name: "head with unknown encoding", method: http.MethodHead, resp: response{encoding: "br"}, want: ""},
		{name: "corrupt gzip", resp: response{encoding: "gzip", body: []byte("this is not gzip")}, readErr: true},
		{name: "truncated gzip", resp: response{encoding: "gzip", body: gzipBytes(t, hello)[:15]}, readErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOn(t, "127.0.0.1", http.HandlerFunc(tc.resp.serve))
			c := newClient(t, Options{AllowNets: loopback})
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			req, err := http.NewRequest(method, srv.URL, nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			if tc.doErr != nil {
				require.ErrorIs(t, err, tc.doErr)
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if tc.readErr {
				require.Error(t, err)
				require.NotErrorIs(t, err, ErrBodyTooLarge)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, string(b))
			if tc.uncompr {
				require.True(t, resp.Uncompressed)
				require.Empty(t, resp.Header.Get("Content-Encoding"))
			}
			if tc.noLength {
				require.Empty(t, resp.Header.Get("Content-Length"))
				require.Equal(t, int64(-1), resp.ContentLength)
			}
		})
	}
}

func TestBodyCap(t *testing.T) {
	t.Parallel()
	const capBytes = 1024
	exact := bytes.Repeat([]byte("a"), capBytes)
	over := bytes.Repeat([]byte("a"), capBytes+1)
	large := bytes.Repeat([]byte("b"), 2<<20)
	tests := []struct {
		name    string
		resp    response
		maxBody int64 // WithMaxBody on the request, 0 for none
		// doErr: ErrBodyTooLarge from Do (Content-Length fails fast);
		// readErr: from the Read that crosses the cap, after exactly the
		// cap's bytes were delivered.
		doErr, readErr bool
		want           int
	}{
		{name: "exactly the cap with length", resp: response{body: exact, length: true}, want: capBytes},
		{name: "exactly the cap chunked", resp: response{body: exact}, want: capBytes},
		{name: "one over with length fails fast", resp: response{body: over, length: true}, doErr: true},
		{name: "one over chunked", resp: response{body: over}, readErr: true},
		{name: "large plain with length", resp: response{body: large, length: true}, doErr: true},
		{name: "large plain chunked", resp: response{body: large}, readErr: true},
		{name: "gzip exactly the cap", resp: response{encoding: "gzip", body: gzipBytes(t, exact), length: true}, want: capBytes},
		{name: "gzip one over", resp: response{encoding: "gzip", body: gzipBytes(t, over), length: true}, readErr: true},
		{name: "gzip large", resp: response{encoding: "gzip", body: gzipBytes(t, large)}, readErr: true},
		{name: "deflate large", resp: response{encoding: "deflate", body: zlibBytes(t, large)}, readErr: true},
		{name: "per request cap lower", resp: response{body: exact}, maxBody: 10, readErr: true},
		{name: "per request cap lower with length", resp: response{body: exact, length: true}, maxBody: 10, doErr: true},
		{name: "per request cap higher", resp: response{body: large, length: true}, maxBody: 4 << 20, want: len(large)},
		{name: "per request cap zero keeps default", resp: response{body: over}, maxBody: -1, readErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOn(t, "127.0.0.1", http.HandlerFunc(tc.resp.serve))
			c := newClient(t, Options{AllowNets: loopback, MaxBodyBytes: capBytes})
			ctx := WithMaxBody(context.Background(), tc.maxBody)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
			require.NoError(t, err)
			resp, err := c.Do(req)
			if tc.doErr {
				require.ErrorIs(t, err, ErrBodyTooLarge)
				return
			}
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			if tc.readErr {
				require.ErrorIs(t, err, ErrBodyTooLarge)
				limit := int64(capBytes)
				if tc.maxBody > 0 {
					limit = tc.maxBody
				}
				require.Len(t, b, int(limit), "everything up to the cap is delivered, nothing more")
				// The error sticks.
				_, err = resp.Body.Read(make([]byte, 8))
				require.ErrorIs(t, err, ErrBodyTooLarge)
				return
			}
			require.NoError(t, err)
			require.Len(t, b, tc.want)
		})
	}
}

// TestGzipBomb serves 1 GiB of zeros gzipped to about a MiB and checks that
// the client stops at the cap, fast, without allocating the inflated body.
// It does not run in parallel so the allocation figure is its own.
func TestGzipBomb(t *testing.T) {
	const total = 1 << 30
	const capBytes = 1 << 20
	bomb := gzipBomb(t, total)
	require.Less(t, len(bomb), 16<<20)
	// The bomb is real: it inflates well past the cap.
	zr, err := gzip.NewReader(bytes.NewReader(bomb))
	require.NoError(t, err)
	n, err := io.CopyN(io.Discard, zr, 8*capBytes)
	require.NoError(t, err)
	require.Equal(t, int64(8*capBytes), n)

	srv := serveOn(t, "127.0.0.1", http.HandlerFunc(response{encoding: "gzip", body: bomb}.serve))
	c := newClient(t, Options{AllowNets: loopback, MaxBodyBytes: capBytes})

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	resp, body, err := get(context.Background(), c, srv.URL)
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)

	require.NotNil(t, resp, "headers are fine, the body is not")
	require.ErrorIs(t, err, ErrBodyTooLarge)
	require.Len(t, body, capBytes)
	require.Less(t, elapsed, 5*time.Second)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20), "allocated while reading the bomb")
}

// TestEmptyBlockStream: a deflate stream of empty stored blocks never
// produces a byte, so only the cap on compressed bytes stops it.
func TestEmptyBlockStream(t *testing.T) {
	t.Parallel()
	srv := serveOn(t, "127.0.0.1", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "deflate")
		block := bytes.Repeat([]byte{0x00, 0x00, 0x00, 0xff, 0xff}, 1000)
		for r.Context().Err() == nil {
			if _, err := w.Write(block); err != nil {
				return
			}
		}
	}))
	c := newClient(t, Options{AllowNets: loopback, MaxBodyBytes: 1024})
	start := time.Now()
	_, body, err := get(context.Background(), c, srv.URL)
	require.ErrorIs(t, err, ErrBodyTooLarge)
	require.Empty(t, body)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	trickle := func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusOK)
		for {
			if _, err := io.WriteString(w, "a"); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
	slowHeaders := func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		opts    Options
		// gotBody: headers arrived and some body was read before the end.
		gotBody bool
		// clearTimeout: use an HTTPClient copy whose Timeout a library
		// set to 0; the transport must still end the request.
		clearTimeout bool
	}{
		{name: "trickling body ends at Timeout", handler: trickle, opts: Options{Timeout: 300 * time.Millisecond}, gotBody: true},
		{name: "trickling body ends at Timeout when a library cleared it", handler: trickle, opts: Options{Timeout: 300 * time.Millisecond}, gotBody: true, clearTimeout: true},
		{name: "slow headers end at ResponseHeaderTimeout", handler: slowHeaders, opts: Options{ResponseHeaderTimeout: 200 * time.Millisecond}},
		{name: "slow headers end at Timeout", handler: slowHeaders, opts: Options{Timeout: 200 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := serveOn(t, "127.0.0.1", tc.handler)
			tc.opts.AllowNets = loopback
			c := newClient(t, tc.opts)
			var d doer = c
			if tc.clearTimeout {
				hc := c.HTTPClient()
				hc.Timeout = 0
				d = hc
			}
			start := time.Now()
			resp, body, err := get(context.Background(), d, srv.URL)
			require.Error(t, err)
			require.Less(t, time.Since(start), 2*time.Second)
			if tc.gotBody {
				require.NotNil(t, resp)
				require.NotEmpty(t, body)
				require.True(t, strings.Trim(body, "a") == "")
				require.ErrorIs(t, err, context.DeadlineExceeded)
			} else {
				require.Nil(t, resp)
			}
		})
	}
}
