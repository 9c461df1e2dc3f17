//go:build gethelp_testpolicy

package main

// A test build (go build -tags gethelp_testpolicy) takes the
// administrator's policy from $GETHELP_TEST_ADMIN_POLICY, owned by whoever
// runs the tests, so that end-to-end tests can turn offers of help on
// without root. Release builds never contain this file: there the
// administrator's policy is /etc/gethelp/policy.yaml, owned by root.
func init() {
	adminPolicy = func(getenv func(string) string) (string, bool) {
		if p := getenv("GETHELP_TEST_ADMIN_POLICY"); p != "" {
			return p, false
		}
		return systemPolicyPath, true
	}
}
