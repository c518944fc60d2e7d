package dsn

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
)

func bufioReader(b []byte) *bufio.Reader { return bufio.NewReader(bytes.NewReader(b)) }

func errorsIs(err, target error) bool { return errors.Is(err, target) }

func equalAny(a, b any) bool { return reflect.DeepEqual(a, b) }
