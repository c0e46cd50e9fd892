package httpapi

import (
	"bytes"
	"encoding/json"
)

// MergePatch applies a JSON merge patch (RFC 7396) to a JSON object: null
// removes a member, objects merge recursively, anything else replaces. The
// patch must be an object (a PATCH of a claim changes fields, it does not
// replace the claim). Written here rather than imported: it is a dozen
// lines of the RFC's own pseudo-code, tested on its appendix A.
func MergePatch(original, patch []byte) ([]byte, error) {
	var p any
	dec := json.NewDecoder(bytes.NewReader(patch))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return nil, badInput("The patch is not well-formed JSON.")
	}
	if _, ok := p.(map[string]any); !ok {
		return nil, badInput("A merge patch must be a JSON object.")
	}
	var o any
	dec = json.NewDecoder(bytes.NewReader(original))
	dec.UseNumber()
	if err := dec.Decode(&o); err != nil {
		return nil, err
	}
	return json.Marshal(mergeValue(o, p))
}

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
