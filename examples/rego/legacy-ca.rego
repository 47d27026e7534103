# Certificates issued by our legacy CA must be gone by 2027.
#
#   trustmap scan . --rego examples/rego/legacy-ca.rego
#
# Input: {"asset": <asset as in the JSON contract>, "relations": [relations touching it]}.
package trustmap.custom

import rego.v1

legacy_issuer := "Legacy Corp CA"

# not_after is RFC 3339 UTC, so comparing strings compares instants.
findings contains f if {
	cert := input.asset.certificate
	contains(cert.issuer, legacy_issuer)
	cert.not_after >= "2027-01-01T00:00:00Z"
	f := {
		"id": "org-legacy-ca-2027",
		"severity": "high",
		"message": sprintf("issued by %s and valid until %s: replace it before 2027", [legacy_issuer, cert.not_after]),
	}
}
