package delivery_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-smtp"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/delivery"
	"github.com/bouncekit/bouncekit/queue"
)

// A batch of one submission to two recipients, through a relay on
// loopback that refuses one of them. The results go to the Handler as
// they are; here they are printed with what bounce.Classify makes of them.
func Example() {
	addr, stop := exampleRelay()
	defer stop()
	host, port, _ := net.SplitHostPort(addr)
	var portNum int
	fmt.Sscan(port, &portNum)

	c := &delivery.Client{
		Hostname: "mail.example.com",
		Opener: delivery.OpenerFunc(func(ctx context.Context, m queue.Msg) (io.ReadCloser, error) {
			// A host reads its message store here.
			return io.NopCloser(strings.NewReader("Subject: hi\r\n\r\nHello.\r\n")), nil
		}),
		// Real hosts leave Smarthost nil to deliver to the MX hosts.
		Smarthost: &delivery.Smarthost{Host: host, Port: portNum, Insecure: true},
	}
	batch := []queue.Msg{
		{ID: 1, BaseID: 1, SenderAddress: "app@example.com", RecipientAddress: "ann@example.org", RecipientDomain: "example.org"},
		{ID: 2, BaseID: 1, SenderAddress: "app@example.com", RecipientAddress: "nobody@example.org", RecipientDomain: "example.org"},
	}
	results, err := c.Deliver(context.Background(), batch)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		if r.Status != queue.AttemptFailed {
			fmt.Println(r.Msg.RecipientAddress, r.Status)
			continue
		}
		f := bounce.Classify(r.Err)
		fmt.Println(r.Msg.RecipientAddress, r.Status, "at", f.Stage, f.Code, f.EnhancedCode, "hard bounce:", f.HardBounce())
	}
	// Output:
	// ann@example.org delivered
	// nobody@example.org failed at rcpt 550 5.1.1 hard bounce: true
}

// exampleRelay starts a go-smtp server on loopback that refuses
// nobody@example.org.
func exampleRelay() (addr string, stop func()) {
	be := &backend{script: script{rcpt: func(to string) error {
		if to == "nobody@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	}}}
	s := smtp.NewServer(be)
	s.Domain = "relay.example.com"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.Serve(l)
	}()
	return l.Addr().String(), func() { s.Close(); <-done }
}
