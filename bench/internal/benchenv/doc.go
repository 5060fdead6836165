// Package benchenv holds what the benchmarks that crawl a simulated
// fediverse with the fedilens binary share (bench/census, bench/ingest):
// the simulator served over HTTPS on loopback with a connection count,
// one ClickHouse for every crawl, building the binary under test, running
// it as a child process and sampling its peak RSS and open files from
// /proc, and the machine line of the report. Keeping one copy keeps the
// benchmarks' figures comparable: they measure the child the same way.
package benchenv
