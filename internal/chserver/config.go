package chserver

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// layout names every path the managed server uses. Everything lives under
// one directory so that a data folder can be moved, backed up or deleted as
// a whole, and so that two managed servers never share state by accident.
type layout struct {
	root       string // DataDir/clickhouse
	configFile string
	usersFile  string
	dataDir    string // ClickHouse <path>: tables, metadata, the status lock
	tmpDir     string
	userFiles  string
	formatDir  string
	logDir     string
	serverLog  string
	errorLog   string
	consoleLog string // the process's own stdout and stderr
	pidFile    string // written by us, read to find an orphaned server
}

func newLayout(dataDir string) layout {
	root := filepath.Join(dataDir, "clickhouse")
	logDir := filepath.Join(root, "log")
	return layout{
		root:       root,
		configFile: filepath.Join(root, "config.xml"),
		usersFile:  filepath.Join(root, "users.xml"),
		dataDir:    filepath.Join(root, "data") + string(filepath.Separator),
		tmpDir:     filepath.Join(root, "tmp") + string(filepath.Separator),
		userFiles:  filepath.Join(root, "user_files") + string(filepath.Separator),
		formatDir:  filepath.Join(root, "format_schemas") + string(filepath.Separator),
		logDir:     logDir,
		serverLog:  filepath.Join(logDir, "server.log"),
		errorLog:   filepath.Join(logDir, "error.log"),
		consoleLog: filepath.Join(logDir, "console.log"),
		pidFile:    filepath.Join(root, "server.pid"),
	}
}

func (l layout) mkdirs() error {
	for _, d := range []string{l.root, l.dataDir, l.tmpDir, l.userFiles, l.formatDir, l.logDir} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return fmt.Errorf("create directory %s: %w", d, err)
		}
	}
	return nil
}

// serverConfig is the server's config.xml. It is marshalled with
// encoding/xml so that paths with '&' or '<' cannot break (or inject into)
// the document. Only settings that 18.16 and current releases both accept
// appear here.
type serverConfig struct {
	XMLName         xml.Name
	Logger          loggerConfig `xml:"logger"`
	ListenHost      string       `xml:"listen_host"`
	TCPPort         int          `xml:"tcp_port"`
	HTTPPort        int          `xml:"http_port"`
	Path            string       `xml:"path"`
	TmpPath         string       `xml:"tmp_path"`
	UserFilesPath   string       `xml:"user_files_path"`
	FormatSchema    string       `xml:"format_schema_path"`
	MarkCacheSize   int64        `xml:"mark_cache_size"`
	UsersConfig     string       `xml:"users_config"`
	DefaultProfile  string       `xml:"default_profile"`
	DefaultDatabase string       `xml:"default_database"`
	Timezone        string       `xml:"timezone"`
}

type loggerConfig struct {
	Level    string `xml:"level"`
	Log      string `xml:"log"`
	ErrorLog string `xml:"errorlog"`
	Size     string `xml:"size"`
	Count    int    `xml:"count"`
	Console  int    `xml:"console"`
}

// usersConfig is users.xml: one passwordless "default" user that only
// loopback clients may use, which is what a server bound to 127.0.0.1 needs.
type usersConfig struct {
	XMLName  xml.Name
	Profiles struct {
		Default struct {
			MaxMemoryUsage int64 `xml:"max_memory_usage"`
			PollInterval   int   `xml:"poll_interval"`
		} `xml:"default"`
	} `xml:"profiles"`
	Users struct {
		Default struct {
			Password string `xml:"password"`
			Networks struct {
				IP []string `xml:"ip"`
			} `xml:"networks"`
			Profile string `xml:"profile"`
			Quota   string `xml:"quota"`
		} `xml:"default"`
	} `xml:"users"`
	Quotas struct {
		Default struct{} `xml:"default"`
	} `xml:"quotas"`
}

// maxMemoryUsage bounds a single query (4 GB): generous for fedilens's
// aggregations, but a runaway query fails instead of taking the machine.
const maxMemoryUsage = 4_000_000_000

// writeConfig writes config.xml and users.xml for the given ports. They are
// rewritten on every start because the ports change from run to run.
func writeConfig(l layout, root string, tcpPort, httpPort int) error {
	cfg := serverConfig{
		XMLName: xml.Name{Local: root},
		Logger: loggerConfig{
			Level:    "information",
			Log:      l.serverLog,
			ErrorLog: l.errorLog,
			Size:     "50M",
			Count:    3,
			Console:  0,
		},
		ListenHost:      "127.0.0.1",
		TCPPort:         tcpPort,
		HTTPPort:        httpPort,
		Path:            l.dataDir,
		TmpPath:         l.tmpDir,
		UserFilesPath:   l.userFiles,
		FormatSchema:    l.formatDir,
		MarkCacheSize:   256 << 20,
		UsersConfig:     l.usersFile,
		DefaultProfile:  "default",
		DefaultDatabase: "default",
		Timezone:        "UTC",
	}
	var users usersConfig
	users.XMLName = xml.Name{Local: root}
	users.Profiles.Default.MaxMemoryUsage = maxMemoryUsage
	// An idle client connection checks for server shutdown every
	// poll_interval seconds (default 10): with 1, Stop takes about a second
	// even while a pool still holds connections.
	users.Profiles.Default.PollInterval = 1
	users.Users.Default.Networks.IP = []string{"127.0.0.1", "::1"}
	users.Users.Default.Profile = "default"
	users.Users.Default.Quota = "default"

	if err := writeXML(l.configFile, cfg); err != nil {
		return err
	}
	return writeXML(l.usersFile, users)
}

func writeXML(path string, v any) error {
	out, err := xml.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("marshal %s: %w", filepath.Base(path), err)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	buf.Write(out)
	buf.WriteByte('\n')
	if err := os.WriteFile(path, buf.Bytes(), 0o640); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// versionRE finds "version 24.8.1.2684" in `clickhouse server --version`
// output ("ClickHouse server version 24.8.1.2684 (official build).").
var versionRE = regexp.MustCompile(`(?i)version\s+(\d+)\.(\d+)`)

// parseVersion extracts the major and minor release from --version output.
func parseVersion(out string) (major, minor int, ok bool) {
	m := versionRE.FindStringSubmatch(out)
	if m == nil {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(m[1])
	minor, err2 := strconv.Atoi(m[2])
	if err1 != nil || err2 != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// rootElement picks the configuration's root element. ClickHouse renamed
// it from <yandex> to <clickhouse> in 21.11 and still accepts both (the
// configuration processor treats them as equivalent), whereas 18.x only
// knows <yandex>. So the new spelling is used only when the binary says it
// is new enough, and anything unknown gets the spelling every release reads.
func rootElement(major, minor int, ok bool) string {
	if ok && (major > 21 || (major == 21 && minor >= 11)) {
		return "clickhouse"
	}
	return "yandex"
}

// detectVersion runs the binary with --version. 18.16 does not know the
// option ("Unknown option specified: version") and exits at once; newer
// releases print their version. Failures are not errors: they only mean
// "old or unknown", which selects the configuration every release reads.
func detectVersion(ctx context.Context, bin binary) (major, minor int, ok bool, raw string) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := append(append([]string(nil), bin.args...), "--version")
	cmd := exec.CommandContext(ctx, bin.path, args...)
	cmd.Env = serverEnv()
	out, _ := cmd.CombinedOutput()
	raw = string(bytes.TrimSpace(out))
	major, minor, ok = parseVersion(raw)
	return major, minor, ok, raw
}
