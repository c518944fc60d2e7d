// Command mta is the bouncekit demo. For now it lists the failure reasons the
// classifier knows; the full end-to-end demo follows.
package main

import (
	"fmt"

	"github.com/bouncekit/bouncekit/queue"
)

func main() {
	for _, r := range queue.Reasons() {
		fmt.Println(r)
	}
}
