# No RSA keys under 3072 bits in payments/**.
#
#   trustmap scan . --rego examples/rego/payments-rsa.rego
#
# Input: {"asset": <asset as in the JSON contract>, "relations": [relations touching it]}.
# Paths are relative to the scanned root, with forward slashes.
package trustmap.custom

import rego.v1

# A private or public key, or the public key of a certificate.
key := input.asset.key if input.asset.key
key := input.asset.certificate.public_key if input.asset.certificate

in_payments if {
	some occ in input.asset.occurrences
	glob.match("payments/**", ["/"], occ.path)
}

findings contains f if {
	in_payments
	lower(key.algorithm) == "rsa"
	key.bits < 3072
	f := {
		"id": "org-payments-rsa-3072",
		"severity": "critical",
		"message": sprintf("RSA key of %d bits in payments/: use at least 3072", [key.bits]),
	}
}
