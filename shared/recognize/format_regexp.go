//go:build !js

package recognize

import "regexp"

// DefaultPatterns compiles a format's pattern with Go's regexp (RE2 syntax). The browser's wasm does not link
// regexp: there DefaultPatterns refuses patterns and the bridge supplies the browser's RegExp.
func DefaultPatterns(pattern string) (Matcher, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, err
	}
	return re, nil
}
