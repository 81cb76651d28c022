package benchserver

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ProxyConfig turns an HAProxy configuration (deploy/haproxy.cfg) into one for the given addresses: every
// "bind" line listens on listen instead, with its options kept, and the "server" lines become one per server,
// named threadline1, threadline2, … with the first server line's options. Everything else stays as it is, so
// that what is measured is the configuration in the repository.
func ProxyConfig(template, listen string, servers []string) (string, error) {
	var out []string
	binds, serverLines := 0, 0
	for _, line := range strings.Split(template, "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			out = append(out, line)
			continue
		}
		indent := line[:len(line)-len(strings.TrimLeft(line, " \t"))]
		switch fields[0] {
		case "bind":
			if len(fields) < 2 {
				return "", errors.New("a bind line without an address")
			}
			binds++
			out = append(out, indent+strings.Join(append([]string{"bind", listen}, fields[2:]...), " "))
		case "server":
			if len(fields) < 3 {
				return "", errors.New("a server line without a name and an address")
			}
			serverLines++
			if serverLines > 1 {
				continue
			}
			for i, addr := range servers {
				out = append(out, indent+strings.Join(append([]string{"server", fmt.Sprintf("threadline%d", i+1), addr}, fields[3:]...), " "))
			}
		default:
			out = append(out, line)
		}
	}
	if binds == 0 || serverLines == 0 {
		return "", errors.New("the HAProxy configuration has no bind line or no server line")
	}
	return strings.Join(out, "\n"), nil
}

// startProxy writes the configuration for the cluster's servers, checks it with haproxy -c and starts HAProxy
// in the foreground; Base then points at it.
func (c *Cluster) startProxy(templatePath string) error {
	if _, err := exec.LookPath("haproxy"); err != nil {
		return errors.New("haproxy is needed in front of the servers: apt-get install haproxy")
	}
	template, err := os.ReadFile(templatePath)
	if err != nil {
		return err
	}
	listen, err := FreeAddr()
	if err != nil {
		return err
	}
	var servers []string
	for _, s := range c.Servers {
		servers = append(servers, strings.TrimPrefix(s.Base, "http://"))
	}
	cfg, err := ProxyConfig(string(template), listen, servers)
	if err != nil {
		return fmt.Errorf("%s: %w", templatePath, err)
	}
	file := filepath.Join(c.Dir, "haproxy.cfg")
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		return err
	}
	if out, err := exec.Command("haproxy", "-c", "-q", "-f", file).CombinedOutput(); err != nil {
		return fmt.Errorf("haproxy -c -f %s (made from %s): %v\n%s", file, templatePath, err, out)
	}
	cmd := exec.Command("haproxy", "-db", "-f", file)
	cmd.Stderr = os.Stderr
	if c.proxy, err = startProcess(cmd); err != nil {
		return err
	}
	c.Base = "http://" + listen
	c.Proxied = true
	return c.proxy.waitReady(c.Base + "/readyz")
}
