package suppression_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/mjl-/bstore"

	"github.com/bouncekit/bouncekit/bounce"
	"github.com/bouncekit/bouncekit/suppression"
)

// A host opens its database with DBTypes, records a final failure with
// Process (the queue calls ProcessTx inside its own transaction) and checks
// the list before sending.
func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "suppression-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := bstore.Open(ctx, filepath.Join(dir, "mail.db"), nil, suppression.DBTypes()...)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	store := &suppression.Store{DB: db, Now: func() time.Time { return now }}

	// A reputation block: not the recipient's fault, nothing is stored.
	d, _, err := store.Process(ctx, suppression.Check{
		Account:   "newsletter",
		Recipient: "jane@example.com",
		Failure:   bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 7, 1}, Reason: "blocked"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("blocked suppresses:", d.Suppress)

	// An unknown user: suppressed at once.
	d, added, err := store.Process(ctx, suppression.Check{
		Account:   "newsletter",
		Recipient: "John+News@Example.com",
		Failure:   bounce.Failure{Permanent: true, Code: 550, EnhancedCode: bounce.EnhancedCode{5, 1, 1}, Reason: "userunknown"},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("unknown user:", d.Category, added)

	// Before sending: any tag of that address is suppressed.
	e, ok, err := store.Lookup(ctx, "newsletter", "john+other@example.com")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("suppressed:", ok, e.BaseAddress, "-", e.Reason)

	// Output:
	// blocked suppresses: false
	// unknown user: hardbounce true
	// suppressed: true john@example.com - hard bounce: userunknown (550 5.1.1)
}

func ExampleNormalizer_Normalize() {
	var n suppression.Normalizer
	for _, addr := range []string{
		"John.Doe+news@Gmail.com",
		"john-doe@example.com",
		"john-smith@example.com",
		"info@Bücher.example",
		`"John Doe"@example.com`,
	} {
		base, err := n.Normalize(addr)
		fmt.Println(base, err)
	}
	// Output:
	// johndoe@gmail.com <nil>
	// john-doe@example.com <nil>
	// john-smith@example.com <nil>
	// info@xn--bcher-kva.example <nil>
	// "john doe"@example.com <nil>
}
