// Package hooknode is one webhook delivery node for the multi-node test and
// benchmarks of package riverhook: the test binary re-executes itself with
// EnvNode set, and TestMain calls Main instead of running the tests.
package hooknode

import "os"

// EnvNode names the node; set, the process is a node.
const EnvNode = "BOUNCEKIT_HOOKNODE"

// IsNode says whether this process was started as a node.
func IsNode() bool { return os.Getenv(EnvNode) != "" }

// Main runs the node and returns its exit code.
func Main() int { return 0 }
