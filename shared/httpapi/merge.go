package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// MergePatch applies a JSON merge patch (RFC 7396) to original and returns
// the result: a null member removes the target's member, an object merges
// into the target's object recursively, and anything else (arrays and
// scalars included) replaces it. A target that is not an object where the
// patch has one is replaced by a new object, as the RFC says.
//
// For the API the patch must itself be a JSON object (a PATCH changes
// fields; it does not replace the claim): anything else, malformed JSON,
// more than one value, duplicate keys or nesting past MaxDepth, is 400
// invalid_input. A malformed original is the server's fault: a plain error.
//
// Written here rather than imported: github.com/evanphx/json-patch/v5 has a
// MergePatch, but it would be a new module for about 30 lines of the RFC's
// own pseudo-code, and its lenient parsing would need the same strict
// pre-checks anyway. The tests run the RFC's appendix A.
func MergePatch(original, patch []byte) ([]byte, error) {
	p, err := parse(patch)
	if err != nil {
		return nil, err
	}
	if _, ok := p.Tree.(map[string]any); !ok {
		return nil, bodyError("A merge patch must be a JSON object.", "must be an object")
	}
	var target any
	dec := json.NewDecoder(bytes.NewReader(original))
	dec.UseNumber()
	if err := dec.Decode(&target); err != nil {
		return nil, fmt.Errorf("httpapi: merge patch target: %w", err)
	}
	return json.Marshal(mergeValue(target, p.Tree))
}

// mergeValue is RFC 7396 section 2's MergePatch(Target, Patch).
func mergeValue(target, patch any) any {
	pm, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	tm, ok := target.(map[string]any)
	if !ok {
		tm = map[string]any{}
	}
	for k, v := range pm {
		if v == nil {
			delete(tm, k)
			continue
		}
		tm[k] = mergeValue(tm[k], v)
	}
	return tm
}
