terraform {
  required_version = ">= 1.5"
  required_providers {
    tls = {
      source  = "hashicorp/tls"
      version = "~> 4.0"
    }
    kubernetes = {
      source  = "hashicorp/kubernetes"
      version = "~> 2.27"
    }
  }
}

# SSH key of the bastion host. Terraform keeps the generated private key in its state
# (see terraform.tfstate), which is why the state belongs in an encrypted backend.
resource "tls_private_key" "bastion" {
  algorithm   = "ECDSA"
  ecdsa_curve = "P256"
}

locals {
  # Acme Corp Root CA, distributed to every cluster as a trust anchor.
  acme_root_ca_pem = <<-EOT
    -----BEGIN CERTIFICATE-----
    MIICITCCAaegAwIBAgIUGDrK2ASbnBJvKUGGOVQsA/dAdR4wCgYIKoZIzj0EAwMw
    UDELMAkGA1UEBhMCVVMxEjAQBgNVBAoMCUFjbWUgQ29ycDERMA8GA1UECwwIU2Vj
    dXJpdHkxGjAYBgNVBAMMEUFjbWUgQ29ycCBSb290IENBMB4XDTI0MTEyMzExMzIy
    M1oXDTM0MTEyMzExMzIyM1owUDELMAkGA1UEBhMCVVMxEjAQBgNVBAoMCUFjbWUg
    Q29ycDERMA8GA1UECwwIU2VjdXJpdHkxGjAYBgNVBAMMEUFjbWUgQ29ycCBSb290
    IENBMHYwEAYHKoZIzj0CAQYFK4EEACIDYgAEoqJHJjivAnq9HEfZsSJyjnzIRJAy
    6RARL8w1pO+PG0hCsZ1PHAD1dSW3WU00LeBWJZdvH/KtRNokMb2yAE6aeL/CwnO0
    blP22YFmb5ts8AJ67vGHrhklSjlCGaAyFXguo0IwQDAPBgNVHRMBAf8EBTADAQH/
    MA4GA1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUdINP6NRqYOWap3bO1hm7/HRbqHEw
    CgYIKoZIzj0EAwMDaAAwZQIxAJAg6mkRvTJ2JvDKo3oD2T7fT3WJ2ZAMUA2GmCbB
    agapd92V1wbxkJFUOWrTQO/pJgIwCd9dA1N2BM2/CWWaMK7eAvfXpUdiXgSq9Z1X
    75uG1POlTb7tZQ+GlFkdoufqQYW1
    -----END CERTIFICATE-----
  EOT
}

resource "kubernetes_config_map" "acme_root_ca" {
  metadata {
    name      = "acme-root-ca"
    namespace = "kube-system"
  }
  data = {
    "ca.crt" = local.acme_root_ca_pem
  }
}
