package dsn

import (
	"bufio"
	"bytes"
	"errors"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }
