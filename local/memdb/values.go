package memdb

import (
	"bytes"
	"fmt"
	"math/big"
	"reflect"
	"strings"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

type item = map[string]types.AttributeValue

// validation is DynamoDB's ValidationException.
func validation(format string, args ...any) error {
	return &smithy.GenericAPIError{Code: "ValidationException", Message: fmt.Sprintf(format, args...), Fault: smithy.FaultClient}
}

func parseNumber(s string) (*big.Rat, error) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, validation("The parameter cannot be converted to a numeric value: %s", s)
	}
	return r, nil
}

// formatNumber writes a number as DynamoDB returns it: no exponent, no
// trailing zeros.
func formatNumber(r *big.Rat) string {
	if r.IsInt() {
		return r.Num().String()
	}
	s := strings.TrimRight(r.FloatString(38), "0")
	return strings.TrimSuffix(s, ".")
}

func addNumbers(a, b string, subtract bool) (string, error) {
	x, err := parseNumber(a)
	if err != nil {
		return "", err
	}
	y, err := parseNumber(b)
	if err != nil {
		return "", err
	}
	if subtract {
		return formatNumber(new(big.Rat).Sub(x, y)), nil
	}
	return formatNumber(new(big.Rat).Add(x, y)), nil
}

// compare orders two scalars of one type (S, N or B); ok is false for
// other types or two types.
func compare(a, b types.AttributeValue) (int, bool) {
	switch av := a.(type) {
	case *types.AttributeValueMemberS:
		bv, ok := b.(*types.AttributeValueMemberS)
		if !ok {
			return 0, false
		}
		return strings.Compare(av.Value, bv.Value), true
	case *types.AttributeValueMemberN:
		bv, ok := b.(*types.AttributeValueMemberN)
		if !ok {
			return 0, false
		}
		x, err1 := parseNumber(av.Value)
		y, err2 := parseNumber(bv.Value)
		if err1 != nil || err2 != nil {
			return 0, false
		}
		return x.Cmp(y), true
	case *types.AttributeValueMemberB:
		bv, ok := b.(*types.AttributeValueMemberB)
		if !ok {
			return 0, false
		}
		return bytes.Compare(av.Value, bv.Value), true
	}
	return 0, false
}

func equal(a, b types.AttributeValue) bool {
	if n, ok := compare(a, b); ok {
		return n == 0
	}
	return reflect.DeepEqual(a, b)
}

func copyItem(it item) item {
	if it == nil {
		return nil
	}
	out := make(item, len(it))
	for k, v := range it {
		out[k] = copyValue(v)
	}
	return out
}

func copyValue(v types.AttributeValue) types.AttributeValue {
	switch x := v.(type) {
	case *types.AttributeValueMemberS:
		return &types.AttributeValueMemberS{Value: x.Value}
	case *types.AttributeValueMemberN:
		return &types.AttributeValueMemberN{Value: x.Value}
	case *types.AttributeValueMemberB:
		return &types.AttributeValueMemberB{Value: bytes.Clone(x.Value)}
	case *types.AttributeValueMemberBOOL:
		return &types.AttributeValueMemberBOOL{Value: x.Value}
	case *types.AttributeValueMemberNULL:
		return &types.AttributeValueMemberNULL{Value: x.Value}
	case *types.AttributeValueMemberSS:
		return &types.AttributeValueMemberSS{Value: append([]string{}, x.Value...)}
	case *types.AttributeValueMemberNS:
		return &types.AttributeValueMemberNS{Value: append([]string{}, x.Value...)}
	case *types.AttributeValueMemberBS:
		out := make([][]byte, len(x.Value))
		for i, b := range x.Value {
			out[i] = bytes.Clone(b)
		}
		return &types.AttributeValueMemberBS{Value: out}
	case *types.AttributeValueMemberL:
		out := make([]types.AttributeValue, len(x.Value))
		for i, e := range x.Value {
			out[i] = copyValue(e)
		}
		return &types.AttributeValueMemberL{Value: out}
	case *types.AttributeValueMemberM:
		return &types.AttributeValueMemberM{Value: copyItem(x.Value)}
	}
	return v
}

// checkValue refuses what DynamoDB refuses in an item: empty sets and
// invalid numbers.
func checkValue(name string, v types.AttributeValue) error {
	switch x := v.(type) {
	case nil:
		return validation("Supplied AttributeValue is empty, must contain exactly one of the supported datatypes (attribute %s)", name)
	case *types.AttributeValueMemberN:
		_, err := parseNumber(x.Value)
		return err
	case *types.AttributeValueMemberSS:
		if len(x.Value) == 0 {
			return validation("One or more parameter values were invalid: An string set  may not be empty")
		}
	case *types.AttributeValueMemberNS:
		if len(x.Value) == 0 {
			return validation("One or more parameter values were invalid: An number set  may not be empty")
		}
	case *types.AttributeValueMemberL:
		for _, e := range x.Value {
			if err := checkValue(name, e); err != nil {
				return err
			}
		}
	case *types.AttributeValueMemberM:
		for k, e := range x.Value {
			if err := checkValue(k, e); err != nil {
				return err
			}
		}
	}
	return nil
}
