// Package config turns command-line flags, FEDILENS_* environment variables
// and an optional YAML file into fedilens's settings, in one place.
//
// Precedence, highest first: a flag given on the command line, the
// environment variable FEDILENS_<FLAG> (upper case, '-' as '_'), the key
// <flag> in the YAML file named by --config, and the flag's default. A
// repeatable flag takes a comma-separated list from the environment and a
// YAML list (or a single string) from the file. Unknown YAML keys are an
// error, so a typo never silently falls back to a default.
package config

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// EnvPrefix is the prefix of the environment variables that set flags.
const EnvPrefix = "FEDILENS_"

// StringList is a repeatable string flag.
type StringList []string

// String implements flag.Value.
func (l *StringList) String() string { return strings.Join(*l, ",") }

// Set implements flag.Value: every call appends one value.
func (l *StringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}

// repeatable reports whether a flag takes several values.
func repeatable(f *flag.Flag) bool {
	_, ok := f.Value.(*StringList)
	return ok
}

// EnvName returns the environment variable that sets the named flag.
func EnvName(flagName string) string {
	return EnvPrefix + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Apply fills every flag of fs that was not given on the command line from
// the environment (through getenv) and then from the YAML file at path
// ("" for none). fs must already be parsed. The flag named "config" is never
// read from the file itself.
func Apply(fs *flag.FlagSet, path string, getenv func(string) string) error {
	if getenv == nil {
		getenv = os.Getenv
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })

	file := map[string]any{}
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("reading config file: %w", err)
		}
		if err := yaml.Unmarshal(b, &file); err != nil {
			return fmt.Errorf("parsing config file %s: %w", path, err)
		}
		var unknown []string
		for k := range file {
			if fs.Lookup(k) == nil || k == "config" {
				unknown = append(unknown, k)
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fmt.Errorf("config file %s: unknown keys %s (keys are the flag names of this command)", path, strings.Join(unknown, ", "))
		}
	}

	var errs []error
	fs.VisitAll(func(f *flag.Flag) {
		if explicit[f.Name] || f.Name == "config" {
			return
		}
		if v := getenv(EnvName(f.Name)); v != "" {
			vals := []string{v}
			if repeatable(f) {
				vals = splitList(v)
			}
			for _, x := range vals {
				if err := fs.Set(f.Name, x); err != nil {
					errs = append(errs, fmt.Errorf("environment %s: %w", EnvName(f.Name), err))
				}
			}
			return
		}
		raw, ok := file[f.Name]
		if !ok {
			return
		}
		vals, err := yamlValues(raw, repeatable(f))
		if err != nil {
			errs = append(errs, fmt.Errorf("config key %s: %w", f.Name, err))
			return
		}
		for _, x := range vals {
			if err := fs.Set(f.Name, x); err != nil {
				errs = append(errs, fmt.Errorf("config key %s: %w", f.Name, err))
			}
		}
	})
	return errors.Join(errs...)
}

func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// yamlValues turns a decoded YAML value into flag strings.
func yamlValues(raw any, list bool) ([]string, error) {
	switch v := raw.(type) {
	case nil:
		return nil, nil
	case []any:
		if !list {
			return nil, errors.New("takes one value, not a list")
		}
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, err := scalar(e)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	default:
		s, err := scalar(v)
		if err != nil {
			return nil, err
		}
		return []string{s}, nil
	}
}

func scalar(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case bool, int, int64, uint64, float64:
		return fmt.Sprint(x), nil
	default:
		return "", fmt.Errorf("unsupported value of type %T", v)
	}
}
