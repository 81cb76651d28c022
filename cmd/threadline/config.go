package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// envName returns the environment variable that sets a flag: --demo-addr is THREADLINE_DEMO_ADDR.
func envName(flagName string) string {
	return "THREADLINE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags fills fs's flags from the environment first, then from args, so that flags win. Each flag's
// usage line names its variable.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		name := envName(f.Name)
		f.Usage += " (env " + name + ")"
		if v, ok := os.LookupEnv(name); ok && err == nil {
			if setErr := f.Value.Set(v); setErr != nil {
				err = fmt.Errorf("%s=%q: %v", name, v, setErr)
			}
		}
	})
	if err != nil {
		return err
	}
	return fs.Parse(args)
}
